// Non-matmul ops. Kernels that the JS side splits across threads take their share as
// [begin, end) (tokens, elements or (token, head) items) followed by a per-thread scratch pointer.
import { axpyF16, axpyF32, axpyQ8, dotF32, dotF32F16, dotF32Q8, f32ToF16, f32x4ToF16, Q8_BLOCK_BYTES, quantizeQ8Blocks } from './common';
// KV cache element types (the `kt` argument, 0 = f32), as src/backends/kv-layout.ts names them
import { attend4, KV_F16, KV_Q8_0 } from './attention4';

/** Bytes of n cached values of type kt (n a multiple of 32 for q8_0). */
@inline function kvBytes(kt: i32, n: i32): usize {
  return kt == KV_Q8_0 ? <usize>(n >> 5) * Q8_BLOCK_BYTES : <usize>n << (kt == KV_F16 ? 1 : 2);
}

export { CHUNK } from './matmul-core';

/** First byte past the module's static data: the JS allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** out[t] = x[t] / rms(x[t]) · w for tokens t0 ≤ t < t1 (sum of squares in f64). */
export function rmsnorm(x: usize, w: usize, out: usize, width: i32, eps: f32, t0: i32, t1: i32, _s: usize): void {
  const w4 = width & ~3;
  for (let t = t0; t < t1; t++) {
    const xr = x + ((<usize>t * width) << 2);
    const orow = out + ((<usize>t * width) << 2);
    let acc = f64x2.splat(0);
    for (let i = 0; i < w4; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      const sq = f32x4.mul(v, v);
      acc = f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(sq), f64x2.promote_low_f32x4(i32x4.shuffle(sq, sq, 2, 3, 0, 1))));
    }
    let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    for (let i = w4; i < width; i++) {
      const v = load<f32>(xr + (<usize>i << 2));
      sum += <f64>(v * v);
    }
    const scale = <f32>(1.0 / Math.sqrt(sum / <f64>width + <f64>eps));
    const sv = f32x4.splat(scale);
    for (let i = 0; i < w4; i += 4) {
      const o = <usize>i << 2;
      v128.store(orow + o, f32x4.mul(f32x4.mul(v128.load(xr + o), sv), v128.load(w + o)));
    }
    for (let i = w4; i < width; i++) {
      const o = <usize>i << 2;
      store<f32>(orow + o, load<f32>(xr + o) * scale * load<f32>(w + o));
    }
  }
}

/** dst[i] += src[i] for i in [i0, i1). */
export function add(dst: usize, src: usize, i0: i32, i1: i32, _s: usize): void {
  const n = i1 - i0;
  const d = dst + (<usize>i0 << 2);
  const s = src + (<usize>i0 << 2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
  }
}

/** x[t] += bias for tokens t0 ≤ t < t1. */
export function addBias(x: usize, bias: usize, width: i32, t0: i32, t1: i32, _s: usize): void {
  for (let t = t0; t < t1; t++) axpyF32(x + ((<usize>t * width) << 2), bias, 1, width);
}

/** out[i] = act(g[i]) · u[i] for i in [i0, i1); act 0 = silu, 1 = GELU (tanh form). */
export function glu(g: usize, u: usize, out: usize, act: i32, i0: i32, i1: i32, _s: usize): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, gluOne(load<f32>(g + o), load<f32>(u + o), act));
  }
}

/** act(g) · u for one value (glu and the fused gate/up matmuls share it: same bits). */
@inline export function gluOne(g: f32, u: f32, act: i32): f32 {
  const a = act == 0 ? g / (1 + Mathf.exp(-g)) : geluTanh(g);
  return a * u;
}

@inline function geluTanh(x: f32): f32 {
  // 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))), as llama.cpp's ggml_gelu and HF's gelu_pytorch_tanh
  return <f32>0.5 * x * (<f32>1 + Mathf.tanh(<f32>0.7978845608028654 * x * (<f32>1 + <f32>0.044715 * x * x)));
}

/** x[i] *= factor for i in [i0, i1). */
export function scale(x: usize, factor: f32, i0: i32, i1: i32, _s: usize): void {
  const f = f32x4.splat(factor);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = x + (<usize>i << 2);
    v128.store(o, f32x4.mul(v128.load(o), f));
  }
  for (; i < i1; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * factor);
}

/** x[i] = cap · tanh(x[i] / cap) for i in [i0, i1). */
export function softcap(x: usize, cap: f32, i0: i32, i1: i32, _s: usize): void {
  for (let i = i0; i < i1; i++) {
    const o = x + (<usize>i << 2);
    store<f32>(o, cap * Mathf.tanh(load<f32>(o) / cap));
  }
}

/** Rotate one head's nRot leading dims by the angles pos·invFreq[i] (cos/sin in cs). */
@inline function rotateHead(x: usize, nRot: i32, neox: bool, cs: usize): void {
  const half = nRot >> 1;
  for (let i = 0; i < half; i++) {
    const c = load<f32>(cs + (<usize>i << 3));
    const s = load<f32>(cs + (<usize>i << 3) + 4);
    const a = x + ((neox ? <usize>i : <usize>(2 * i)) << 2);
    const b = neox ? x + (<usize>(i + half) << 2) : a + 4;
    const x0 = load<f32>(a);
    const x1 = load<f32>(b);
    store<f32>(a, x0 * c - x1 * s);
    store<f32>(b, x0 * s + x1 * c);
  }
}

/**
 * In-place rotary embedding of tokens t0 ≤ t < t1 (position pos0 + t). invFreq holds nRot/2 f64
 * inverse frequencies (freqFactors already divided in); scratch gets the (cos, sin) pairs, both
 * multiplied by mscale (longrope's attention factor, else 1).
 */
export function rope(x: usize, nHeads: i32, headDim: i32, pos0: i32, nRot: i32, neox: i32, invFreq: usize,
  mscale: f32, t0: i32, t1: i32, scratch: usize): void {
  const half = nRot >> 1;
  for (let t = t0; t < t1; t++) {
    const pos = <f64>(pos0 + t);
    for (let i = 0; i < half; i++) {
      const theta = pos * load<f64>(invFreq + (<usize>i << 3));
      store<f32>(scratch + (<usize>i << 3), <f32>Math.cos(theta) * mscale);
      store<f32>(scratch + (<usize>i << 3) + 4, <f32>Math.sin(theta) * mscale);
    }
    const row = x + ((<usize>t * nHeads * headDim) << 2);
    for (let h = 0; h < nHeads; h++) rotateHead(row + ((<usize>h * headDim) << 2), nRot, neox != 0, scratch);
  }
}

/** n f32 from src stored at dst as f32 (kt 0), f16 (kt 1) or q8_0 blocks (kt 2; n a multiple of 32). */
export function storeRows(src: usize, dst: usize, n: i32, kt: i32): void {
  if (kt == KV_Q8_0) {
    quantizeQ8Blocks(src, dst, n >> 5);
  } else if (kt == KV_F16) {
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store64_lane(dst + (<usize>i << 1), f32x4ToF16(v128.load(src + (<usize>i << 2))), 0);
    for (; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>f32ToF16(load<f32>(src + (<usize>i << 2))));
  } else {
    memory.copy(dst, src, <usize>n << 2);
  }
}

/**
 * Causal attention for items i0 ≤ i < i1, item = h·nTokens + t (head-major, so a thread's share
 * has every token of its heads: balanced work, shared KV rows): query token t (position
 * p = pos0 + t) attends to cached positions max(0, p − window + 1)..p (window 0: from 0) of kv head
 * h / (nHead/nHeadKV). Position j lives in ring slot j % slots; rows hold kvDim values of type kt
 * (f32 0, f16 1, q8_0 2: headDim a multiple of 32, so a head's values are whole blocks).
 * Scores are q·k·scale, soft-capped to cap·tanh(s/cap) when cap > 0. Four tokens of a head go
 * together where they can (attention4.ts: the same sums, each key row read once for four).
 * scratch holds the scores (≥ 4·min(pos0 + nTokens, window + nTokens) floats).
 */
export function attention(q: usize, out: usize, kc: usize, vc: usize, pos0: i32, nTokens: i32, nHead: i32,
  nHeadKV: i32, headDim: i32, kvDim: i32, scale: f32, kt: i32, window: i32, cap: f32, slots: i32,
  i0: i32, i1: i32, scratch: usize): void {
  const group = nHead / nHeadKV;
  const rowBytes = kvBytes(kt, kvDim);
  const nb = headDim >> 5;
  const os = (<usize>nHead * headDim) << 2;
  for (let i = i0; i < i1; i++) {
    const h = i / nTokens;
    const t = i % nTokens;
    const off = ((<usize>t * nHead + h) * headDim) << 2;
    const qv = q + off;
    const ov = out + off;
    const kvOff = kvBytes(kt, (h / group) * headDim);
    const p = pos0 + t;
    if ((headDim & 3) == 0 && t + 4 <= nTokens && i + 4 <= i1) {
      attend4(qv, ov, os, kc, vc, kvOff, rowBytes, p, window, slots, headDim, kt, scale, cap, scratch);
      i += 3;
      continue;
    }
    const j0 = window > 0 && p - window + 1 > 0 ? p - window + 1 : 0;
    const n = p + 1 - j0;
    let mx: f32 = -Infinity;
    for (let jj = 0; jj < n; jj++) {
      const kp = kc + <usize>((j0 + jj) % slots) * rowBytes + kvOff;
      let s = (kt == KV_Q8_0 ? dotF32Q8(qv, kp, nb) : kt == KV_F16 ? dotF32F16(qv, kp, headDim) : dotF32(qv, kp, headDim)) * scale;
      if (cap > 0) s = cap * Mathf.tanh(s / cap);
      store<f32>(scratch + (<usize>jj << 2), s);
      mx = max(mx, s);
    }
    memory.fill(ov, 0, <usize>headDim << 2);
    let sum: f32 = 0;
    for (let jj = 0; jj < n; jj++) {
      // a weight below e^-80 is lost next to the max term's 1 anyway, and its products could be
      // f32 denormals (a microcode assist each on x86)
      const e = load<f32>(scratch + (<usize>jj << 2)) - mx;
      if (e < -80) continue;
      const pr = Mathf.exp(e);
      sum += pr;
      const vp = vc + <usize>((j0 + jj) % slots) * rowBytes + kvOff;
      if (kt == KV_Q8_0) axpyQ8(ov, vp, pr, nb);
      else if (kt == KV_F16) axpyF16(ov, vp, pr, headDim);
      else axpyF32(ov, vp, pr, headDim);
    }
    const inv = f32x4.splat(1 / sum);
    let d = 0;
    for (; d + 4 <= headDim; d += 4) v128.store(ov + (<usize>d << 2), f32x4.mul(v128.load(ov + (<usize>d << 2)), inv));
    for (; d < headDim; d++) store<f32>(ov + (<usize>d << 2), load<f32>(ov + (<usize>d << 2)) / sum);
  }
}
