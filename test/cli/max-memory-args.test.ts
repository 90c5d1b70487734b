// --max-memory: a byte count or a 1024-based K/M/G/T size, on every model command; --no-fuse.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.ts';

const cap = (v: string) => parseCli(['bench', '--model', 'm.gguf', '--max-memory', v]).maxMemory;

describe('--max-memory', () => {
  it('reads bytes and K/M/G/T suffixes (1024-based)', () => {
    expect(cap('3221225472')).toBe(3 * 2 ** 30);
    expect(cap('3G')).toBe(3 * 2 ** 30);
    expect(cap('512M')).toBe(512 * 2 ** 20);
    expect(cap('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(cap('64k')).toBe(64 * 1024);
    expect(parseCli(['generate', '--model', 'm.gguf', '--prompt', '']).maxMemory).toBeUndefined();
  });
  it('refuses what is not a size', () => {
    for (const v of ['', 'lots', '-1G', '3X', '0']) expect(() => cap(v), v).toThrow(/--max-memory/);
  });
});

describe('--no-fuse', () => {
  it('turns the fused ops off on every model command, on only when asked', () => {
    expect(parseCli(['bench', '--model', 'm.gguf', '--no-fuse']).noFuse).toBe(true);
    expect(parseCli(['generate', '--model', 'm.gguf', '--prompt', '']).noFuse).toBe(false);
  });
});
