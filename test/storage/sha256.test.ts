import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/storage/integrity.ts';
import { modelBytes, nodeSha256 } from './helpers.ts';

describe('streaming SHA-256', () => {
  it('matches the FIPS 180-4 example digests', () => {
    const enc = new TextEncoder();
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(enc.encode('abc')).hex())
      .toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(new Sha256().update(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).hex())
      .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('matches node:crypto for every length around the padding boundaries', () => {
    const data = modelBytes(300, 7);
    for (let n = 0; n <= 300; n++) {
      expect(new Sha256().update(data.subarray(0, n)).hex(), `length ${n}`).toBe(nodeSha256(data.subarray(0, n)));
    }
  });

  it('gives the same digest however the input is split', () => {
    const data = modelBytes(200_003, 11);
    const want = nodeSha256(data);
    let seed = 5;
    for (let trial = 0; trial < 5; trial++) {
      const h = new Sha256();
      for (let i = 0; i < data.length;) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const n = Math.min(data.length - i, seed % 5000);
        h.update(data.subarray(i, i + n));
        i += n;
      }
      expect(h.hex()).toBe(want);
    }
  });
});
