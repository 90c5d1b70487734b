// Elementwise and row ops on activations only (glu, scale, softcap, add, copy, softmax) as dispatches on an OpContext.
import type { Activation, GluKind } from '../backend.ts';
import { check } from '../../shared/assert.ts';
import { act, WG, type OpContext } from './op-context.ts';

export function glu(ctx: OpContext, gate: Activation, up: Activation, out: Activation, n: number, kind: GluKind): void {
  ctx.alive();
  check(gate !== up, 'BAD_ARGUMENT', 'glu needs distinct gate and up buffers.');
  if (out !== gate && out !== up) copy(ctx, up, 0, out, 0, n);
  const gateInPlace = out === gate;
  const [gx, gy] = ctx.rec.grid(Math.ceil(n / WG));
  ctx.rec.dispatch(ctx.pipes.plain('glu', { WG, GATE_IN_PLACE: gateInPlace, GELU: kind === 'gelu_tanh' }),
    [act(out).buffer, act(gateInPlace ? up : gate).buffer], [n, gx, 0, 0], [gx, gy], { op: 'glu', wg: WG, activations: 2 * n * 4 });
}

export function scale(ctx: OpContext, x: Activation, n: number, factor: number): void {
  scaleOp(ctx, x, n, factor, false);
}

export function softcap(ctx: OpContext, x: Activation, n: number, cap: number): void {
  check(cap > 0, 'BAD_ARGUMENT', `softcap needs a positive cap (got ${cap}).`);
  scaleOp(ctx, x, n, cap, true);
}

function scaleOp(ctx: OpContext, x: Activation, n: number, factor: number, softcap: boolean): void {
  ctx.alive();
  check(n <= x.length, 'BAD_ARGUMENT', `scale of ${n} floats overflows an activation of ${x.length}.`);
  const [gx, gy] = ctx.rec.grid(Math.ceil(n / WG));
  ctx.rec.dispatch(ctx.pipes.plain('scale', { WG, SOFTCAP: softcap }), [act(x).buffer], [n, gx, { f32: factor }, 0], [gx, gy],
    { op: softcap ? 'softcap' : 'scale', wg: WG, activations: n * 4 });
}

export function add(ctx: OpContext, dst: Activation, src: Activation, n: number): void {
  ctx.alive();
  check(dst !== src, 'BAD_ARGUMENT', 'add needs distinct buffers.');
  const [gx, gy] = ctx.rec.grid(Math.ceil(n / WG));
  ctx.rec.dispatch(ctx.pipes.plain('add', { WG }), [act(dst).buffer, act(src).buffer], [n, gx, 0, 0], [gx, gy], { op: 'add', wg: WG, activations: 2 * n * 4 });
}

export function copy(ctx: OpContext, src: Activation, srcOffset: number, dst: Activation, dstOffset: number, n: number): void {
  ctx.alive();
  check(src !== dst, 'BAD_ARGUMENT', 'copy needs distinct buffers.');
  const [gx, gy] = ctx.rec.grid(Math.ceil(n / WG));
  ctx.rec.dispatch(ctx.pipes.plain('copy', { WG }), [act(src).buffer, act(dst).buffer], [n, srcOffset, dstOffset, gx], [gx, gy], { op: 'copy', wg: WG, activations: n * 4 });
}

export function softmax(ctx: OpContext, x: Activation, nRows: number, width: number): void {
  ctx.alive();
  ctx.rec.dispatch(ctx.pipes.plain('softmax', { WG, ...ctx.reduceOverrides }, 'main', ctx.reduceVariant), [act(x).buffer], [width, 0, 0, 0], [nRows, 1], { op: 'softmax', wg: WG, activations: nRows * width * 4 });
}
