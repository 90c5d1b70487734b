// Weight-reading ops (embed, rmsnorm, matmul and its fused glu/qkv forms, add-bias) as dispatches on an OpContext.
import type { Activation, GluKind, InputNorm, Weight } from '../backend.ts';
import { check } from '../../shared/assert.ts';
import { act, WG, wt, type OpContext } from './op-context.ts';

export function embed(ctx: OpContext, table: Weight, ids: Int32Array, out: Activation): void {
  ctx.alive();
  const w = wt(table);
  check(out.length >= ids.length * w.cols, 'BAD_ARGUMENT', `embed output of ${out.length} floats is too small for ${ids.length} rows of ${w.cols}.`);
  for (const id of ids) check(id >= 0 && id < w.rows, 'BAD_ARGUMENT', `Token id ${id} is outside the vocabulary (0..${w.rows - 1}).`);
  const idBuf = ctx.rec.temp(Uint32Array.from(ids));
  const pipe = ctx.pipes.weight('embed', w.type, { WG });
  const [gx, gy] = ctx.rec.grid(Math.ceil((ids.length * w.cols) / 4 / WG));
  for (const c of w.chunks) {
    const inChunk = ids.reduce((n, id) => n + (id >= c.row0 && id < c.row0 + c.rows ? 1 : 0), 0);
    if (!inChunk) continue;
    ctx.rec.dispatch(pipe, [c.buffer, idBuf, act(out).buffer], [ids.length, w.cols, c.row0, c.rows, w.rowBytes, gx, 0, 0], [gx, gy],
      { op: 'embed', wg: WG, weights: inChunk * w.rowBytes, activations: ids.length * 4 });
  }
}

export function rmsnorm(ctx: OpContext, x: Activation, w: Weight, out: Activation, nTokens: number, eps: number): void {
  ctx.alive();
  const g = wt(w);
  check(g.chunks.length === 1 && x.length >= nTokens * g.cols && out.length >= nTokens * g.cols, 'BAD_ARGUMENT', `rmsnorm shapes do not fit '${g.name}'.`);
  const pipe = ctx.pipes.weight('rmsnorm', g.type, { WG, ...ctx.reduceOverrides }, ctx.reduceVariant);
  ctx.rec.dispatch(pipe, [g.chunks[0].buffer, act(x).buffer, act(out).buffer], [g.cols, { f32: eps }, 0, 0], [nTokens, 1],
    { op: 'rmsnorm', wg: WG, weights: g.rowBytes, activations: nTokens * g.cols * 4 });
}

/** out = w · x; add: out += w · x (matmul.wgsl's ADD, the residual add fused into the store) */
export function matmul(ctx: OpContext, w: Weight, x: Activation, out: Activation, nTokens: number, add = false): void {
  ctx.alive();
  const m = wt(w);
  check(x.length >= nTokens * m.cols && out.length >= nTokens * m.rows, 'BAD_ARGUMENT',
    `matmul of '${m.name}' (${m.rows}×${m.cols}) over ${nTokens} tokens does not fit its activations.`);
  const tok = nTokens === 1 ? 1 : 8; // 1: matrix-vector for decode; 8 tokens share each dequantized weight
  const tpr = ctx.threadsPerRow;
  const pipe = ctx.pipes.weight('matmul', m.type, { WG, TOK: tok, TPR: tpr, ...(add ? { ADD: true } : {}), ...ctx.reduceOverrides }, ctx.variant);
  for (const c of m.chunks) {
    const [gx, gy] = ctx.rec.grid(Math.ceil(c.rows / (WG / tpr)));
    ctx.rec.dispatch(pipe, [c.buffer, act(x).buffer, act(out).buffer],
      [c.rows, m.cols, nTokens, c.row0, m.rows, gx, m.rowBytes, 0], [gx, gy, Math.ceil(nTokens / tok)],
      { op: `${nTokens === 1 ? 'matmul-vec' : 'matmul'}${add ? '-add' : ''}`, wg: WG, weights: c.rows * m.rowBytes,
        activations: nTokens * (m.cols + (add ? c.rows : 0)) * 4 });
  }
}

/**
 * The norm weight of a fused op's input RMSNorm, if it can be fused: one chunk of `cols` values.
 * Undefined (no norm) is fine; null means the op must decline.
 */
function normWeight(norm: InputNorm | undefined, cols: number): ReturnType<typeof wt> | undefined | null {
  if (!norm) return undefined;
  const n = wt(norm.weight);
  return n.chunks.length === 1 && n.cols * n.rows === cols ? n : null;
}

/**
 * gate and up of one format and shape (so their chunks split alike): one kernel, matmul-glu.wgsl;
 * with `norm`, the input's RMSNorm in the same kernel (each workgroup finds its tokens' scales).
 */
export function matmulGlu(ctx: OpContext, gate: Weight, up: Weight, x: Activation, out: Activation, nTokens: number, kind: GluKind,
  norm?: InputNorm): boolean {
  ctx.alive();
  const g = wt(gate), u = wt(up);
  if (!ctx.fuse) return false;
  if (g.type !== u.type || g.rows !== u.rows || g.cols !== u.cols || g.chunks.length !== u.chunks.length
    || g.chunks.some((c, i) => c.row0 !== u.chunks[i].row0 || c.rows !== u.chunks[i].rows)) return false;
  const n = normWeight(norm, g.cols);
  if (n === null) return false;
  check(x.length >= nTokens * g.cols && out.length >= nTokens * g.rows && x !== out, 'BAD_ARGUMENT',
    `matmulGlu of '${g.name}'/'${u.name}' (${g.rows}×${g.cols}) over ${nTokens} tokens does not fit its activations.`);
  const tok = nTokens === 1 ? 1 : 8; // as matmul
  const tpr = ctx.threadsPerRow;
  const pipe = ctx.pipes.weight('matmul-glu', g.type, { WG, TOK: tok, TPR: tpr, GELU: kind === 'gelu_tanh', ...ctx.reduceOverrides }, ctx.variant,
    n?.type);
  g.chunks.forEach((c, i) => {
    const [gx, gy] = ctx.rec.grid(Math.ceil(c.rows / (WG / tpr)));
    ctx.rec.dispatch(pipe, [c.buffer, u.chunks[i].buffer, act(x).buffer, act(out).buffer, ...(n ? [n.chunks[0].buffer] : [])],
      [c.rows, g.cols, nTokens, c.row0, g.rows, gx, g.rowBytes, { f32: norm?.eps ?? 0 }], [gx, gy, Math.ceil(nTokens / tok)],
      { op: `${nTokens === 1 ? 'matmul-glu-vec' : 'matmul-glu'}${n ? '-norm' : ''}`, wg: WG,
        weights: 2 * c.rows * g.rowBytes + (n?.bytes ?? 0), activations: nTokens * g.cols * 4 });
  });
  return true;
}

/**
 * wq, wk, wv of one width, each in one buffer (any formats: each has its reader): one kernel,
 * matmul-qkv.wgsl, its workgroups split among the three weights' rows; with `norm`, the input's
 * RMSNorm in the same kernel (its weight is the 8th storage buffer, WebGPU's default limit).
 */
export function matmulQKV(ctx: OpContext, wq: Weight, wk: Weight, wv: Weight, x: Activation, q: Activation, k: Activation, v: Activation, nTokens: number,
  norm?: InputNorm): boolean {
  ctx.alive();
  const ws = [wt(wq), wt(wk), wt(wv)] as const;
  const outs = [q, k, v];
  if (!ctx.fuse || ws.some((w) => w.cols !== ws[0].cols || w.chunks.length !== 1)) return false;
  const n = normWeight(norm, ws[0].cols);
  if (n === null) return false;
  check(x.length >= nTokens * ws[0].cols && ws.every((w, i) => outs[i].length >= nTokens * w.rows && outs[i] !== x)
    && q !== k && k !== v && q !== v, 'BAD_ARGUMENT',
    `matmulQKV of '${ws[0].name}' (${ws.map((w) => w.rows).join('/')}×${ws[0].cols}) over ${nTokens} tokens does not fit its activations.`);
  const tok = nTokens === 1 ? 1 : 8; // as matmul
  const tpr = ctx.threadsPerRow;
  const groups = ws.map((w) => Math.ceil(w.rows / (WG / tpr)));
  const [gx, gy] = ctx.rec.grid(groups[0] + groups[1] + groups[2]);
  const pipe = ctx.pipes.multiWeight('matmul-qkv', [ws[0].type, ws[1].type, ws[2].type], { WG, TOK: tok, TPR: tpr, ...ctx.reduceOverrides }, ctx.variant,
    n?.type);
  ctx.rec.dispatch(pipe, [...ws.map((w) => w.chunks[0].buffer), act(x).buffer, ...outs.map((o) => act(o).buffer), ...(n ? [n.chunks[0].buffer] : [])],
    [...ws.map((w) => w.rows), ws[0].cols, nTokens, gx, groups[0], groups[1], ...ws.map((w) => w.rowBytes), { f32: norm?.eps ?? 0 }],
    [gx, gy, Math.ceil(nTokens / tok)],
    { op: `${nTokens === 1 ? 'matmul-qkv-vec' : 'matmul-qkv'}${n ? '-norm' : ''}`, wg: WG,
      weights: ws.reduce((sum, w) => sum + w.bytes, n?.bytes ?? 0), activations: nTokens * ws[0].cols * 4 });
  return true;
}

export function addBias(ctx: OpContext, x: Activation, bias: Weight, nTokens: number): void {
  ctx.alive();
  const b = wt(bias);
  const width = b.cols * b.rows;
  check(b.chunks.length === 1 && x.length >= nTokens * width, 'BAD_ARGUMENT', `addBias shapes do not fit '${b.name}'.`);
  const n4 = (nTokens * width) / 4;
  const [gx, gy] = ctx.rec.grid(Math.ceil(n4 / WG));
  ctx.rec.dispatch(ctx.pipes.weight('add-bias', b.type, { WG }), [b.chunks[0].buffer, act(x).buffer], [n4, width, gx, 0], [gx, gy],
    { op: 'add-bias', wg: WG, weights: b.rows * b.rowBytes, activations: n4 * 16 });
}
