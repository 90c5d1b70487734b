// The state the op files share with the backend: device, recorder, pipelines and the kernel choices.
import type { Activation, Weight } from '../backend.ts';
import type { GPUActivation, GPUWeight } from './buffers.ts';
import type { Pipelines } from './pipelines.ts';
import type { Recorder } from './recorder.ts';
import type { KernelVariant } from './shader-source.ts';

/** invocations per workgroup of the plain kernels */
export const WG = 64;

export interface OpContext {
  readonly device: GPUDevice;
  readonly rec: Recorder;
  readonly pipes: Pipelines;
  /** matmul threads per row; 1 also selects the serial attention and top-k */
  readonly threadsPerRow: number;
  /** the matmul kernels' variant (f16 products, subgroup reductions), and that of the other
   *  reducing kernels (rmsnorm, softmax, attention: subgroups only) */
  readonly variant: KernelVariant;
  readonly reduceVariant: KernelVariant;
  /** the reduce-*-subgroup.wgsl snippets' constants (none for reduce-*-workgroup.wgsl) */
  readonly reduceOverrides: Record<string, number | boolean>;
  /** whether the fused kernels (matmulGlu, matmulQKV, matmulAdd, storeKVRoped) are offered */
  readonly fuse: boolean;
  /** throws the backend's failure, or if it was disposed */
  alive(): void;
}

export const act = (a: Activation) => a as GPUActivation;
export const wt = (w: Weight) => w as GPUWeight;
