// Top-k (and so argmax) of logits on the GPU: levels of top-k.wgsl that shrink the candidates, then one readback.
import type { Activation } from '../backend.ts';
import { check } from '../../shared/assert.ts';
import { act, type OpContext } from './op-context.ts';

export interface TopK {
  ids: number[];
  values: number[];
}

/** top-k: invocations per workgroup and values per workgroup (C of shaders/ops/top-k.wgsl) */
export const TOPK_WG = 64;
export const TOPK_CHUNK = 1024;
/** the serial variant keeps its list in a private array of 64 */
const TOPK_SERIAL_MAX_K = 64;

/** The inputs of top-k's levels: n values, then ceil(m / chunk) · k pairs until one chunk is left
 *  (each level shrinks its input at least twofold); none when k is above half a chunk (host path). */
export function topKLevels(n: number, k: number): number[] {
  if (k > TOPK_CHUNK / 2) return [];
  const levels = [n];
  while (levels[levels.length - 1] > TOPK_CHUNK) levels.push(Math.ceil(levels[levels.length - 1] / TOPK_CHUNK) * k);
  return levels;
}

/** Above half a chunk a level would not shrink: the host sorts (same order rule). */
function topKOnHost(x: Float32Array, k: number): TopK {
  const ids = [...x.keys()].sort((i, j) => x[j] - x[i] || i - j).slice(0, k);
  return { ids, values: ids.map((i) => x[i]) };
}

/** how the backend reads back: an activation's floats, or a buffer's bytes after submitting all recorded work */
type ReadFloats = (src: Activation, offset: number, length: number) => Promise<Float32Array>;
type ReadBytes = (buffer: GPUBuffer, offset: number, size: number) => Promise<ArrayBuffer>;

export class TopKOps {
  /** top-k's pairs: [0] the result, [1], [2] the levels between (ping-pong) */
  private bufs: GPUBuffer[] = [];

  constructor(private readonly ctx: OpContext, private readonly read: ReadFloats, private readonly readBytes: ReadBytes) {}

  async topK(logits: Activation, k: number, n = logits.length): Promise<TopK> {
    const { read, readBytes } = this;
    this.ctx.alive();
    check(Number.isInteger(k) && k >= 1 && k <= n && n <= logits.length, 'BAD_ARGUMENT', `top-k needs 1 ≤ k ≤ n (k ${k}, n ${n}).`);
    const levels = topKLevels(n, k);
    if (!levels.length) return topKOnHost(await read(logits, 0, n), k);
    const pairBytes = (m: number) => Math.max(64, 8 * m);
    this.bufs = [0, 1, 2].map((i) => {
      const b = this.bufs[i] as GPUBuffer | undefined;
      const want = pairBytes(i === 0 ? k : (levels[1] ?? k));
      if (b && b.size >= want) return b;
      b?.destroy();
      return this.ctx.device.createBuffer({ label: `top-k ${i}`, size: want, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    });
    // levels[0] = n values → ceil(n / chunk) · k pairs → … → k pairs in bufs[0]
    // as attention: with threadsPerRow 1 (SwiftShader) one invocation per chunk, no barriers
    const serial = this.ctx.threadsPerRow === 1 && k <= TOPK_SERIAL_MAX_K;
    const pipe = this.ctx.pipes.plain('top-k', { WG: TOPK_WG }, serial ? 'main_serial' : 'main');
    let src = act(logits).buffer;
    for (let l = 0; l < levels.length; l++) {
      const m = levels[l];
      const chunks = Math.ceil(m / TOPK_CHUNK);
      const dst = chunks === 1 ? this.bufs[0] : this.bufs[1 + (l % 2)];
      this.ctx.rec.dispatch(pipe, [src, dst], [m, k, 0x7f800000, l === 0 ? 0 : 1], [serial ? Math.ceil(chunks / TOPK_WG) : chunks, 1],
        { op: serial ? 'top-k-serial' : 'top-k', wg: TOPK_WG, activations: m * (l === 0 ? 4 : 8) });
      src = dst;
    }
    const words = await readBytes(this.bufs[0], 0, 8 * k);
    const u = new Uint32Array(words);
    const f = new Float32Array(words);
    return { ids: Array.from({ length: k }, (_, i) => u[2 * i]), values: Array.from({ length: k }, (_, i) => f[2 * i + 1]) };
  }
}
