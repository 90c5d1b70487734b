// WGSL sources: one template per op (shaders/ops) and one dequant snippet per block format
// (shaders/quant/<id>.wgsl). Weight-reading variants are listed from FORMAT_TRAITS, so a format
// without a snippet is an error here (and a failing test), never a silent gap.
import { FORMAT_TRAITS } from '../../quant/traits.ts';
import { ggmlTypeName, type GGMLType } from '../../quant/types.ts';
import { EngineError } from '../../shared/errors.ts';

type Sources = Record<string, string>;

/** Vite (app, tests) inlines the files here; plain Node (the CLI under tsx) has no import.meta.glob. */
function bundled(): { ops: Sources; quant: Sources } {
  try {
    return {
      ops: import.meta.glob('../../../shaders/ops/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Sources,
      quant: import.meta.glob('../../../shaders/quant/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Sources,
    };
  } catch {
    return { ops: {}, quant: {} };
  }
}
const { ops: OPS, quant: QUANT } = bundled();

/**
 * For hosts without Vite (src/cli/node-shaders.ts): WGSL text by file name, e.g. ops['rope.wgsl'],
 * quant['q4_k.wgsl'].
 */
export function provideShaderSources(ops: Sources, quant: Sources): void {
  for (const [name, src] of Object.entries(ops)) OPS[`../../../shaders/ops/${name}`] = src;
  for (const [name, src] of Object.entries(quant)) QUANT[`../../../shaders/quant/${name}`] = src;
}

export type WeightOp = 'matmul' | 'matmul-glu' | 'embed' | 'rmsnorm' | 'add-bias';
/** ops over several weights, each in its own block format (matmulQKV: a Q4_K_M file's wv is often Q6_K) */
export type MultiWeightOp = 'matmul-qkv';
export type PlainOp = 'rope' | 'store-kv' | 'kv-shift' | 'attention' | 'softmax' | 'glu' | 'scale' | 'add' | 'copy' | 'top-k';

function opSource(op: string): string {
  const src = OPS[`../../../shaders/ops/${op}.wgsl`];
  if (src === undefined) throw new EngineError('BACKEND', `WGSL template shaders/ops/${op}.wgsl is missing.`);
  return src;
}

/** The dequant snippet of a format, checked against the traits table. */
export function quantSnippet(type: GGMLType): string {
  const t = FORMAT_TRAITS.get(type);
  if (!t) throw new EngineError('BACKEND', `No block format ${ggmlTypeName(type)} in the traits table.`);
  const src = QUANT[`../../../shaders/quant/${t.id}.wgsl`];
  if (src === undefined) throw new EngineError('BACKEND', `The WebGPU backend has no dequant snippet shaders/quant/${t.id}.wgsl for ${ggmlTypeName(type)}.`);
  const block = Number(/const QBLOCK: u32 = (\d+)u;/.exec(src)?.[1]);
  const bytes = Number(/const QBYTES: u32 = (\d+)u;/.exec(src)?.[1]);
  if (block !== t.blockSize || bytes !== t.typeSize) {
    throw new EngineError('BACKEND', `shaders/quant/${t.id}.wgsl declares blocks of ${block} values in ${bytes} bytes; the format has ${t.blockSize} in ${t.typeSize}.`);
  }
  return src;
}

/** Formats with a WGSL variant (all of FORMAT_TRAITS). */
export function weightFormats(): GGMLType[] {
  return [...FORMAT_TRAITS.keys()];
}

/**
 * The prelude and snippet again over another binding instead of W, each module-scope function and
 * constant renamed with a suffix (overBinding(src, 'U', '_u'): dq4 → dq4_u): WGSL cannot pass a
 * storage buffer to a function, so a kernel that reads several weights gets a reader per weight.
 */
function overBinding(src: string, binding: string, suffix: string): string {
  const names = [...src.matchAll(/^(?:fn|const)\s+(\w+)/gm)].map((m) => m[1]);
  return names.reduce((s, n) => s.replace(new RegExp(`\\b${n}\\b`, 'g'), `${n}${suffix}`), src.replace(/\bW\b/g, binding));
}

/** overBinding to U: the second reader of a two-weight kernel (matmul-glu) */
const overU = (src: string) => overBinding(src, 'U', '_u');

/** Kernel variants: f16 products (needs shader-f16; matmul ops), reductions over subgroups
 *  (needs subgroups; the reduce-*-subgroup.wgsl snippets instead of reduce-*-workgroup.wgsl). */
export interface KernelVariant { f16?: boolean; subgroups?: boolean }

/** ops whose workgroups reduce across all their invocations (wg_sum, wg_max: reduce-all-*.wgsl) */
const REDUCES_ALL: ReadonlySet<string> = new Set(['rmsnorm', 'softmax', 'attention']);

const reduceSnippet = (kind: 'rows' | 'all', v: KernelVariant) => opSource(`reduce-${kind}-${v.subgroups ? 'subgroup' : 'workgroup'}`);

/** WGSL wants every `enable` before the first declaration: the snippets' ones move to the top.
 *  An override two snippets declare alike (reduce-rows and reduce-all over subgroups: SG) stays once. */
function hoistEnables(src: string): string {
  const seen = new Set<string>();
  src = src.replace(/^override \w+.*$/gm, (line) => (seen.has(line) ? '' : (seen.add(line), line)));
  const enables = [...new Set(src.match(/^enable \w+;$/gm) ?? [])];
  return enables.length ? `${enables.join('\n')}\n${src.replace(/^enable \w+;$/gm, '')}` : src;
}

/**
 * A fused matmul op's input snippet and template: X as stored (x-plain.wgsl), or through an RMSNorm
 * by a weight of format `norm` (x-rmsnorm.wgsl, with its reduction and the weight's reader dq4_n).
 * The norm weight N takes the uniform's binding and the uniform moves one up, so the buffers stay
 * in order and the uniform last (Recorder.dispatch binds them by position).
 */
function withInput(op: string, norm: GGMLType | undefined, v: KernelVariant): string {
  const src = opSource(op);
  if (norm === undefined) return `${opSource('x-plain')}\n${src}`;
  const uniform = /@binding\((\d+)\) var<uniform>/.exec(src);
  if (!uniform) throw new EngineError('BACKEND', `WGSL template shaders/ops/${op}.wgsl has no uniform to put the norm weight before.`);
  const b = Number(uniform[1]);
  return [reduceSnippet('all', v), overBinding(`${opSource('weights')}\n${quantSnippet(norm)}`, 'N', '_n'),
    opSource('x-rmsnorm').replace('NORM_BINDING', String(b)), src.replace(uniform[0], `@binding(${b + 1}) var<uniform>`)].join('\n');
}

/** A weight op for one block format (f16 products: matmul ops only); matmul-glu with `norm`: its
 *  input through an RMSNorm by a weight of that format (withInput). */
export function weightOpSource(op: WeightOp, type: GGMLType, v: KernelVariant = {}, norm?: GGMLType): string {
  const reader = `${opSource('weights')}\n${quantSnippet(type)}`;
  if (op !== 'matmul' && op !== 'matmul-glu') {
    const reduce = REDUCES_ALL.has(op) ? `${reduceSnippet('all', v)}\n` : '';
    return hoistEnables(`${opSource('precision-f32')}\n${reader}\n${reduce}${opSource(op)}`);
  }
  const precision = opSource(v.f16 ? 'precision-f16' : 'precision-f32');
  const readers = op === 'matmul-glu' ? `${reader}\n${overU(reader)}\n${opSource('glu-act')}` : reader;
  const body = op === 'matmul-glu' ? withInput(op, norm, v) : opSource(op);
  return hoistEnables(`${precision}\n${readers}\n${reduceSnippet('rows', v)}\n${body}`);
}

/** matmul-qkv over wq, wk, wv of formats q, k, v: dq4 reads W, dq4_k reads WK, dq4_v reads WV;
 *  with `norm`, its input through an RMSNorm (withInput). */
export function multiWeightOpSource(op: MultiWeightOp, [q, k, v]: readonly [GGMLType, GGMLType, GGMLType], variant: KernelVariant = {},
  norm?: GGMLType): string {
  const reader = (type: GGMLType) => `${opSource('weights')}\n${quantSnippet(type)}`;
  return hoistEnables([opSource(variant.f16 ? 'precision-f16' : 'precision-f32'), reader(q), overBinding(reader(k), 'WK', '_k'),
    overBinding(reader(v), 'WV', '_v'), reduceSnippet('rows', variant), withInput(op, norm, variant)].join('\n'));
}

/** ops that turn q or k by rope as they read them get its pairing (rope-pair.wgsl) in front */
const TURNS: ReadonlySet<PlainOp> = new Set(['attention', 'store-kv']);

/** ops that read cached K/V values get the shared reader (kv-read.wgsl) in front */
const READS_KV: ReadonlySet<PlainOp> = new Set(['attention', 'kv-shift']);

/** A plain op; `subgroups` applies to the ops that reduce across their workgroup. */
export function plainOpSource(op: PlainOp, v: KernelVariant = {}): string {
  if (op === 'glu') return `${opSource('glu-act')}\n${opSource(op)}`;
  const parts = [READS_KV.has(op) ? opSource('kv-read') : '', TURNS.has(op) ? opSource('rope-pair') : '',
    REDUCES_ALL.has(op) ? reduceSnippet('all', v) : '', opSource(op)];
  return hoistEnables(parts.filter(Boolean).join('\n'));
}
