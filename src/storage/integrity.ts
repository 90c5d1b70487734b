// SHA-256 of stored files, computed chunk by chunk. WebCrypto only digests one whole buffer,
// which a multi-GB model never is, so this is a small streaming SHA-256 (FIPS 180-4).
import type { ModelManifest } from './manifest.ts';
import type { ShardCache } from './shard-cache.ts';
import { abortError, IntegrityError } from './storage-errors.ts';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// Int32Array (not Uint32Array) keeps every word a small integer in V8: reading a Uint32 above
// 2^31 yields a heap double and makes the compression loop several times slower.
export class Sha256 {
  private readonly h = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  private readonly w = new Int32Array(64);
  private readonly pending = new Uint8Array(64);
  private pendingLen = 0;
  private total = 0;
  private finished = false;

  update(data: Uint8Array): this {
    if (this.finished) throw new Error('Sha256.update after digest');
    this.total += data.length;
    let i = 0;
    if (this.pendingLen > 0) {
      const n = Math.min(64 - this.pendingLen, data.length);
      this.pending.set(data.subarray(0, n), this.pendingLen);
      this.pendingLen += n;
      i = n;
      if (this.pendingLen < 64) return this;
      compress(this.h, this.w, this.pending, 0, 64);
      this.pendingLen = 0;
    }
    const end = i + ((data.length - i) & ~63);
    compress(this.h, this.w, data, i, end);
    this.pending.set(data.subarray(end), 0);
    this.pendingLen = data.length - end;
    return this;
  }

  digest(): Uint8Array {
    if (!this.finished) {
      const bits = this.total * 8;
      const tail = new Uint8Array(((this.pendingLen + 8) >> 6 << 6) + 64 - this.pendingLen);
      tail[0] = 0x80;
      const dv = new DataView(tail.buffer);
      dv.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
      dv.setUint32(tail.length - 4, bits >>> 0);
      this.update(tail);
      this.finished = true;
    }
    const out = new Uint8Array(32);
    const dv = new DataView(out.buffer);
    this.h.forEach((v, i) => dv.setInt32(i * 4, v));
    return out;
  }

  hex(): string {
    return Array.from(this.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
  }
}

/** Runs the compression function over the 64-byte blocks of d[off, end). */
function compress(h: Int32Array, w: Int32Array, d: Uint8Array, off: number, end: number): void {
  let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
  for (let o = off; o < end; o += 64) {
    for (let t = 0; t < 16; t++) {
      const p = o + t * 4;
      w[t] = (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let a = h0, b = h1, c = h2, dd = h3, e = h4, f = h5, g = h6, hh = h7;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (dd + t1) | 0;
      dd = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + dd) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
}

export interface HashOptions {
  signal?: AbortSignal;
  /** Called with the bytes of this file hashed so far. */
  onBytes?: (fileBytes: number) => void;
}

/** Lower-case hex SHA-256 of one stored file (which may be a partial model's finished file). */
export async function hashStoredFile(cache: ShardCache, m: ModelManifest, fileIndex: number,
  opts: HashOptions = {}): Promise<string> {
  const file = m.files[fileIndex];
  const hash = new Sha256();
  let done = 0;
  for (let c = 0; c < file.chunks; c++) {
    if (opts.signal?.aborted) throw abortError(`Checking ${file.name}`);
    const bytes = await cache.readChunk(m.id, fileIndex, c);
    hash.update(bytes);
    done += bytes.length;
    opts.onBytes?.(done);
  }
  return hash.hex();
}

/** Throws IntegrityError unless the stored file hashes to `expected` (hex, any case). */
export async function verifyStoredFile(cache: ShardCache, m: ModelManifest, fileIndex: number,
  expected: string, opts: HashOptions = {}): Promise<string> {
  const actual = await hashStoredFile(cache, m, fileIndex, opts);
  const want = expected.trim().toLowerCase();
  if (actual !== want) throw new IntegrityError(m.files[fileIndex].name, want, actual);
  return actual;
}
