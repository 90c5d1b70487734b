// One ByteSource over an MLC folder's shards in which every tensor the engine reads lies
// contiguous in a block format it knows: plain tensors pass through from their shard; a group-
// quantized one (q_weight + q_scale, two records) is interleaved into our MLC blocks
// (src/quant/mlc_q4.ts) on each read. Reads are block-exact and never hold more than the range
// asked, so loading, direct uploads and layer streaming work on it as on a GGUF file.
import type { ByteSource } from '../byte-source.ts';
import { checkRange } from '../range.ts';

export interface PlainSegment {
  readonly kind: 'plain';
  readonly src: ByteSource;
  readonly offset: number;
  readonly bytes: number;
}

export interface GroupSegment {
  readonly kind: 'groups';
  /** q_weight: 16 bytes (four u32) per group of 32 values, groups in row-major order */
  readonly weights: { src: ByteSource; offset: number };
  /** q_scale: one scale per group, same order */
  readonly scales: { src: ByteSource; offset: number; bytes: 2 | 4; bf16: boolean };
  /** bytes of the scale in our block (2: f16, 4: f32) */
  readonly blockScale: 2 | 4;
  readonly groups: number;
}

export type Segment = PlainSegment | GroupSegment;

export const segmentBytes = (s: Segment) => (s.kind === 'plain' ? s.bytes : s.groups * (s.blockScale + 16));

/** Fills dst with bytes [at, at + dst.length) of a group segment's interleaved blocks. */
async function readGroups(s: GroupSegment, at: number, dst: Uint8Array): Promise<void> {
  const ts = s.blockScale + 16;
  const b0 = Math.floor(at / ts);
  const b1 = Math.ceil((at + dst.length) / ts);
  const n = b1 - b0;
  const [w, sc] = await Promise.all([
    s.weights.src.read(s.weights.offset + b0 * 16, n * 16),
    s.scales.src.read(s.scales.offset + b0 * s.scales.bytes, n * s.scales.bytes),
  ]);
  const blocks = at % ts === 0 && dst.length === n * ts ? dst : new Uint8Array(n * ts);
  for (let b = 0; b < n; b++) {
    const o = b * ts;
    if (s.scales.bf16) { // f32 stored as bf16 ('f32-to-bf16'): widen exactly, as tvm's loader does
      blocks[o] = 0; blocks[o + 1] = 0; blocks[o + 2] = sc[2 * b]; blocks[o + 3] = sc[2 * b + 1];
    } else {
      blocks.set(sc.subarray(b * s.scales.bytes, (b + 1) * s.scales.bytes), o);
    }
    blocks.set(w.subarray(b * 16, b * 16 + 16), o + s.blockScale);
  }
  if (blocks !== dst) dst.set(blocks.subarray(at - b0 * ts, at - b0 * ts + dst.length));
}

/** The segments laid end to end (each starting where the previous ends) as one source. */
export function blockSource(name: string, segments: readonly Segment[], shards: readonly ByteSource[]): { source: ByteSource; starts: number[] } {
  const starts: number[] = [];
  let size = 0;
  for (const s of segments) { starts.push(size); size += segmentBytes(s); }
  const readInto = async (offset: number, dst: Uint8Array) => {
    checkRange(name, size, offset, dst.length);
    // the last segment starting at or before offset, then on through the ones the range covers
    let lo = 0, hi = segments.length - 1;
    while (lo < hi) { const m = (lo + hi + 1) >> 1; if (starts[m] <= offset) lo = m; else hi = m - 1; }
    const jobs: Promise<void>[] = [];
    for (let i = lo, done = 0; done < dst.length; i++) {
      const s = segments[i];
      const at = offset + done - starts[i];
      const len = Math.min(dst.length - done, segmentBytes(s) - at);
      const part = dst.subarray(done, done + len);
      jobs.push(s.kind === 'plain'
        ? (s.src.readInto ? s.src.readInto(s.offset + at, part) : s.src.read(s.offset + at, len).then((b) => part.set(b)))
        : readGroups(s, at, part));
      done += len;
    }
    await Promise.all(jobs);
  };
  const source: ByteSource = {
    name,
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      await readInto(offset, buf);
      return buf;
    },
    readInto,
    async close() { await Promise.all(shards.map((s) => s.close?.())); },
  };
  return { source, starts };
}
