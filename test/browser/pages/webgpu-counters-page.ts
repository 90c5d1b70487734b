// Page side of webgpu-counters.test.ts: one decode step of a real model on WebGPU, with the
// backend's own counters beside an independent count taken at the WebGPU API (every
// dispatchWorkgroups on a compute pass, every queue.submit of the device the backend creates).
import { createWebGPUBackend } from '../../../src/backends/webgpu/webgpu-backend.ts';
import { loadModel } from '../../../src/engine/load.ts';
import { urlSource } from '../../../src/formats/url-source.ts';

interface ApiCount { dispatches: number; submits: number }

/** navigator.gpu whose devices count what is encoded into them and submitted. */
function countingGPU(count: ApiCount): GPU {
  const gpu = navigator.gpu;
  return {
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
    async requestAdapter(o?: GPURequestAdapterOptions) {
      const a = await gpu.requestAdapter(o);
      if (!a) return null;
      return {
        features: a.features, limits: a.limits, info: a.info, isFallbackAdapter: false,
        async requestDevice(d?: GPUDeviceDescriptor) {
          const dev = await a.requestDevice(d);
          const q = dev.queue;
          const submit = q.submit.bind(q);
          q.submit = (bufs: Iterable<GPUCommandBuffer>) => { count.submits++; submit(bufs); };
          const createEncoder = dev.createCommandEncoder.bind(dev);
          dev.createCommandEncoder = (ed?: GPUCommandEncoderDescriptor) => {
            const enc = createEncoder(ed);
            const begin = enc.beginComputePass.bind(enc);
            enc.beginComputePass = (pd?: GPUComputePassDescriptor) => {
              const pass = begin(pd);
              const dispatch = pass.dispatchWorkgroups.bind(pass);
              pass.dispatchWorkgroups = (x: number, y?: number, z?: number) => { count.dispatches++; dispatch(x, y, z); };
              return pass;
            };
            return enc;
          };
          return dev;
        },
      } as unknown as GPUAdapter;
    },
  } as GPU;
}

export interface StepCounts {
  layers: number;
  api: ApiCount;
  backend: { dispatches: number; submits: number; weightBytes: number; kvBytes: number; activationBytes: number };
  perOp: Record<string, number>;
  pos: number;
}

/** Prefills `prompt` tokens (greedy argmax on the device), then counts one decode step (`fuse`: the backend option). */
export async function decodeStep(url: string, prompt: number, fuse = true): Promise<StepCounts> {
  const api: ApiCount = { dispatches: 0, submits: 0 };
  const backend = await createWebGPUBackend({ gpu: countingGPU(api), fuse });
  const m = await loadModel(await urlSource(url), backend, { nCtx: 64 });
  try {
    const ids = Int32Array.from({ length: prompt }, (_, i) => 1 + ((i * 37) % (m.h.vocabSize - 1)));
    const first = await m.decoder.forwardTopK(ids, 0, 1);
    const s0 = backend.stats();
    const a0 = { ...api };
    backend.countPerOp(true);
    await m.decoder.forwardTopK(Int32Array.of(first.ids[0]), prompt, 1);
    const s1 = backend.stats();
    const perOp = Object.fromEntries(Object.entries(backend.opCounts()).map(([op, c]) => [op, c.dispatches]));
    return {
      layers: m.h.nLayers, pos: prompt, perOp,
      api: { dispatches: api.dispatches - a0.dispatches, submits: api.submits - a0.submits },
      backend: { dispatches: s1.dispatches - s0.dispatches, submits: s1.submits - s0.submits, weightBytes: s1.weightBytesRead - s0.weightBytesRead,
        kvBytes: s1.kvBytesRead - s0.kvBytesRead, activationBytes: s1.activationBytesRead - s0.activationBytesRead },
    };
  } finally {
    await m.dispose();
  }
}
