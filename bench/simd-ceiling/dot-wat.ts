// WASM side of bench/simd-ceiling.ts: the same two kernels as dot.c (l1: 4x2 tile, K=2048, reps times;
// stream: 4 rows x 1 column per step over `rows` rows of K=4096), written once as a WAT template and
// instantiated per dot-product flavour. K is baked in so rows sit at immediate load offsets, as in dot.c.
import binaryen from 'binaryen';
import { setFlagsFromString } from 'node:v8';
import { validatesRelaxedSimd } from '../../src/backends/wasm/platform.ts';

export const KL1 = 2048;
export const KST = 4096;

/** How one int8 dot step (u7 activations x s8 weights into i32x4) is spelled. */
export type Flavour = 'relaxed' | 'relaxed-add' | 'plain';
export const FLAVOURS: Flavour[] = ['relaxed', 'relaxed-add', 'plain'];

/** Locals a loaded operand provides (plain keeps its two i16x8 halves, extended once per load). */
const parts = (f: Flavour, v: string) => (f === 'plain' ? [`${v}l`, `${v}h`] : [v]);
const get = (v: string) => `(local.get $${v})`;

function load(f: Flavour, v: string, addr: string, offset: number, signed: boolean): string {
  const ld = `(v128.load offset=${offset} ${addr})`;
  if (f !== 'plain') return `(local.set $${v} ${ld})`;
  const s = signed ? 's' : 'u';
  return `(local.set $${v} ${ld}) (local.set $${v}l (i16x8.extend_low_i8x16_${s} ${get(v)})) (local.set $${v}h (i16x8.extend_high_i8x16_${s} ${get(v)}))`;
}

function dot(f: Flavour, acc: string, x: string, w: string): string {
  const a = get(acc);
  switch (f) {
    // what src/backends/wasm/kernels/dot-relaxed.ts does: pmaddubsw, then pmaddwd by ones (V8 x64)
    case 'relaxed': return `(local.set $${acc} (i32x4.add ${a} (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s ${get(w)} ${get(x)}) (local.get $ones))))`;
    // the one-instruction form (vpdpbusd where V8 uses it); Node 20's V8 doubles its result on x64, so throughput only
    case 'relaxed-add': return `(local.set $${acc} (i32x4.relaxed_dot_i8x16_i7x16_add_s ${get(w)} ${get(x)} ${a}))`;
    case 'plain': return `(local.set $${acc} (i32x4.add ${a} (i32x4.add (i32x4.dot_i16x8_s ${get(`${w}l`)} ${get(`${x}l`)}) (i32x4.dot_i16x8_s ${get(`${w}h`)} ${get(`${x}h`)}))))`;
  }
}

const hsum = (v: string) => `(i32.add (i32.add (i32x4.extract_lane 0 ${get(v)}) (i32x4.extract_lane 1 ${get(v)})) (i32.add (i32x4.extract_lane 2 ${get(v)}) (i32x4.extract_lane 3 ${get(v)})))`;
const locals = (names: string[]) => names.map((n) => `(local $${n} v128)`).join(' ');

/** The module's text: exports mem (pages), l1(w, x, out, reps) and stream(w, x, out, rows). */
export function ceilingWat(f: Flavour, pages: number): string {
  const accL1 = ['a00', 'a01', 'a10', 'a11', 'a20', 'a21', 'a30', 'a31'];
  const opsL1 = ['x0', 'x1', 'w0', 'w1', 'w2', 'w3'].flatMap((v) => [v, ...(f === 'plain' ? parts(f, v) : [])]);
  const accSt = ['a0', 'a1', 'a2', 'a3'];
  const opsSt = ['xv', 'w0', 'w1', 'w2', 'w3'].flatMap((v) => [v, ...(f === 'plain' ? parts(f, v) : [])]);
  const px = '(i32.add (local.get $x) (local.get $k))';
  const pw = '(i32.add (local.get $w) (local.get $k))';
  const pr = '(i32.add (local.get $p) (local.get $k))';
  return `(module
  (memory (export "mem") ${pages})
  (func (export "l1") (param $w i32) (param $x i32) (param $out i32) (param $reps i32)
    (local $k i32) (local $ones v128) ${locals(accL1)} ${locals(opsL1)}
    (local.set $ones (v128.const i16x8 1 1 1 1 1 1 1 1))
    (block $done (loop $rep
      (br_if $done (i32.eqz (local.get $reps)))
      (local.set $k (i32.const 0))
      (loop $kl
        ${load(f, 'x0', px, 0, false)} ${load(f, 'x1', px, KL1, false)}
        ${[0, 1, 2, 3].map((i) => load(f, `w${i}`, pw, i * KL1, true)).join(' ')}
        ${[0, 1, 2, 3].flatMap((i) => [0, 1].map((j) => dot(f, `a${i}${j}`, `x${j}`, `w${i}`))).join('\n        ')}
        (br_if $kl (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (i32.const ${KL1}))))
      (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
      (br $rep)))
    ${accL1.map((a, i) => `(i32.store offset=${4 * i} (local.get $out) ${hsum(a)})`).join('\n    ')})
  (func (export "stream") (param $w i32) (param $x i32) (param $out i32) (param $rows i32)
    (local $k i32) (local $m i32) (local $p i32) (local $ones v128) ${locals(accSt)} ${locals(opsSt)}
    (local.set $ones (v128.const i16x8 1 1 1 1 1 1 1 1))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $m) (local.get $rows)))
      (local.set $p (i32.add (local.get $w) (i32.mul (local.get $m) (i32.const ${KST}))))
      ${accSt.map((a) => `(local.set $${a} (v128.const i32x4 0 0 0 0))`).join(' ')}
      (local.set $k (i32.const 0))
      (loop $kl
        ${load(f, 'xv', px, 0, false)}
        ${[0, 1, 2, 3].map((i) => load(f, `w${i}`, pr, i * KST, true)).join(' ')}
        ${[0, 1, 2, 3].map((i) => dot(f, `a${i}`, 'xv', `w${i}`)).join('\n        ')}
        (br_if $kl (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (i32.const ${KST}))))
      ${accSt.map((a, i) => `(i32.store offset=${4 * i} (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))) ${hsum(a)})`).join('\n      ')}
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br $row)))))`;
}

export interface CeilingKernels { mem: WebAssembly.Memory; l1(w: number, x: number, out: number, reps: number): void; stream(w: number, x: number, out: number, rows: number): void }

/** Assembles (binaryen, no optimisation: the instructions stay as written) and instantiates one flavour. */
export async function ceilingKernels(f: Flavour, bytes: number): Promise<CeilingKernels> {
  // Node 20's V8 has relaxed SIMD behind a flag (as src/backends/wasm/node-platform.ts sets it)
  if (!validatesRelaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');
  const mod = binaryen.parseText(ceilingWat(f, Math.ceil(bytes / 65536)));
  try {
    mod.setFeatures(binaryen.Features.SIMD128 | binaryen.Features.RelaxedSIMD);
    if (!mod.validate()) throw new Error(`simd-ceiling: the ${f} WAT does not validate`);
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(mod.emitBinary())));
    return instance.exports as unknown as CeilingKernels;
  } finally {
    mod.dispose();
  }
}
