// Compute pipelines, compiled once per (op, block format, override constants) and cached.
// Tuning goes through WGSL `override` constants (workgroup size, tokens per workgroup, KV half).
import type { GGMLType } from '../../quant/types.ts';
import { multiWeightOpSource, plainOpSource, weightOpSource, type KernelVariant, type MultiWeightOp, type PlainOp, type WeightOp } from './shader-source.ts';

export type Overrides = Record<string, number | boolean>;

export class Pipelines {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  /** onError receives shader compilation errors (they would otherwise surface only as invalid pipelines). */
  constructor(private readonly device: GPUDevice, private readonly onError: (msg: string) => void) {}

  get count(): number {
    return this.pipelines.size;
  }

  /** norm: the format of an RMSNorm weight applied to the input on the fly (matmul-glu) */
  weight(op: WeightOp, type: GGMLType, overrides: Overrides = {}, v: KernelVariant = {}, norm?: GGMLType): GPUComputePipeline {
    return this.get(`${op}:${type}${variantKey(v, norm)}`, () => weightOpSource(op, type, v, norm), overrides);
  }

  /** an op over three weights, each in its own format (matmul-qkv); norm as for weight() */
  multiWeight(op: MultiWeightOp, types: readonly [GGMLType, GGMLType, GGMLType], overrides: Overrides = {}, v: KernelVariant = {},
    norm?: GGMLType): GPUComputePipeline {
    return this.get(`${op}:${types.join(',')}${variantKey(v, norm)}`, () => multiWeightOpSource(op, types, v, norm), overrides);
  }

  plain(op: PlainOp, overrides: Overrides = {}, entryPoint = 'main', v: KernelVariant = {}): GPUComputePipeline {
    return this.get(`${op}${v.subgroups ? ':sg' : ''}`, () => plainOpSource(op, v), overrides, entryPoint);
  }

  private get(name: string, source: () => string, overrides: Overrides, entryPoint = 'main'): GPUComputePipeline {
    const key = `${name}|${entryPoint}|${JSON.stringify(overrides)}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    let module = this.modules.get(name);
    if (!module) {
      module = this.device.createShaderModule({ label: name, code: source() });
      void module.getCompilationInfo().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) this.onError(`WGSL ${name}: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
      });
      this.modules.set(name, module);
    }
    const constants = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, Number(v)]));
    p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants } });
    this.pipelines.set(key, p);
    return p;
  }
}

/** the cache key's tail for a weight op's kernel variant and input norm */
function variantKey(v: KernelVariant, norm?: GGMLType): string {
  return `${v.f16 ? ':f16' : ''}${v.subgroups ? ':sg' : ''}${norm === undefined ? '' : `:norm${norm}`}`;
}
