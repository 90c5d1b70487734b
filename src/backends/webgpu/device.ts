// Adapter/device request and capability probe. The f32 kernels run on any adapter; shader-f16 and
// subgroups are requested when present and reported in `caps`, never required.
import { EngineError } from '../../shared/errors.ts';

export interface GPUCaps {
  adapter: string;
  shaderF16: boolean;
  subgroups: boolean;
  /** the adapter's subgroup sizes (GPUAdapterInfo.subgroupMinSize/MaxSize) when it reports them */
  subgroupSizes: { min: number; max: number } | null;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  minUniformBufferOffsetAlignment: number;
  /** the binding size weights are split at (≤ maxStorageBufferBindingSize; forceMaxBindingBytes lowers it) */
  bindingLimit: number;
}

export interface DeviceOptions {
  /** test option: split weights as if bindings could hold at most this many bytes */
  forceMaxBindingBytes?: number;
  powerPreference?: GPUPowerPreference;
  /** the WebGPU entry point; default navigator.gpu (Node passes Dawn's, src/cli/node-gpu.ts) */
  gpu?: GPU;
}

export async function requestDevice(opts: DeviceOptions = {}): Promise<{ device: GPUDevice; caps: GPUCaps }> {
  const gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new EngineError('BACKEND', 'WebGPU is not available here (no navigator.gpu); use the WASM backend.');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new EngineError('BACKEND', 'WebGPU is present but no GPU adapter is available; use the WASM backend.');
  const features: GPUFeatureName[] = [];
  if (adapter.features.has('shader-f16')) features.push('shader-f16');
  if (adapter.features.has('subgroups')) features.push('subgroups' as GPUFeatureName);
  const a = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: features,
      // The model needs big bindings and buffers; ask for everything the adapter offers.
      requiredLimits: {
        maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
        maxBufferSize: a.maxBufferSize,
        maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
        maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
      },
    });
  } catch (e) {
    throw new EngineError('BACKEND', `The GPU adapter refused to create a device: ${(e as Error).message}`, { cause: e });
  }
  const l = device.limits;
  const bindingLimit = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize, opts.forceMaxBindingBytes ?? Infinity);
  const info = adapter.info;
  const sizes = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const caps: GPUCaps = {
    adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown',
    shaderF16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
    subgroupSizes: sizes.subgroupMinSize && sizes.subgroupMaxSize ? { min: sizes.subgroupMinSize, max: sizes.subgroupMaxSize } : null,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    bindingLimit: Math.floor(bindingLimit / 4) * 4,
  };
  return { device, caps };
}
