// Top-k on WebGPU in Node (Dawn): the single-workgroup kernel this replaced (k passes over the
// vocabulary; its WGSL read from git at OLD_REV) against the multi-level reduction (both variants), on the same
// random logits (ties included), each run as decode runs it: one submit, 8·k bytes mapped back.
// Prints ms per call (the submit + map alone subtracted), both kernels' read counts, and checks they agree.
// usage: npx tsx bench/kernels/topk-bench.ts [vocab=151936] [reps=5]
import { execFileSync } from 'node:child_process';
import { createWebGPUBackend, TOPK_CHUNK, TOPK_WG, topKLevels } from '../../src/backends/webgpu/webgpu-backend.ts';
import { nodeGPU } from '../../src/cli/node-gpu.ts';
import { loadShaderFiles } from '../../src/cli/node-shaders.ts';
import { Rng } from '../../src/engine/rng.ts';

const OLD_REV = 'ebf50f7';
const OLD_WG = 256;
const V = Number(process.argv[2] ?? 151936);
const REPS = Number(process.argv[3] ?? 5);
const KS = [1, 40, 64];

loadShaderFiles();
const gpu = await nodeGPU();
const rng = new Rng(5);
const x = Float32Array.from({ length: V }, () => Math.round((rng.nextFloat() * 2 - 1) * 80) / 4);

// the old kernel, on a device of its own
const adapter = (await gpu.requestAdapter())!;
const device = await adapter.requestDevice();
const oldSrc = execFileSync('git', ['show', `${OLD_REV}:shaders/ops/top-k.wgsl`], { encoding: 'utf8' });
const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: oldSrc }), entryPoint: 'main', constants: { WG: OLD_WG } } });
const logits = device.createBuffer({ size: V * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(logits, 0, x);
const out = device.createBuffer({ size: 8 * 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const uni = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const bind = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [logits, out, uni].map((buffer, binding) => ({ binding, resource: { buffer } })) });

async function oldTopK(k: number, dispatch = true): Promise<number[]> {
  device.queue.writeBuffer(uni, 0, Uint32Array.of(V, k, 0x7f800000, 0));
  const rb = device.createBuffer({ size: 8 * k, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  if (dispatch) {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(1);
    pass.end();
  }
  enc.copyBufferToBuffer(out, 0, rb, 0, 8 * k);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const ids = [...new Uint32Array(rb.getMappedRange().slice(0))].filter((_, i) => i % 2 === 0);
  rb.destroy();
  return ids;
}

// threadsPerRow 1: one invocation per chunk (main_serial, SwiftShader's default); 16: the workgroup tree
const serial = await createWebGPUBackend({ gpu, threadsPerRow: 1 });
const tree = await createWebGPUBackend({ gpu, threadsPerRow: 16 });
const [as, at] = [serial, tree].map((b) => { const a = b.alloc(V); b.write(a, x); return a; });

async function time(f: () => Promise<unknown>): Promise<number> {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) await f();
  return (performance.now() - t0) / REPS;
}

const rtOld = await time(() => oldTopK(1, false));
const rtNew = await time(() => serial.read(as, 0, 2));
console.log(`V ${V}, ${REPS} reps; adapter ${serial.caps.adapter}; submit + map alone: ${rtOld.toFixed(2)} / ${rtNew.toFixed(2)} ms; times below without it`);
for (const k of KS) {
  const ref = JSON.stringify(await oldTopK(k));
  const same = ref === JSON.stringify((await serial.topK(as, k)).ids) && ref === JSON.stringify((await tree.topK(at, k)).ids);
  const tOld = (await time(() => oldTopK(k))) - rtOld;
  const tSerial = (await time(() => serial.topK(as, k))) - rtNew;
  const tTree = (await time(() => tree.topK(at, k))) - rtNew;
  // reads: the old kernel's one workgroup reads all V values in each of its k rounds (each of its
  // threads k·⌈V/WG⌉, one after another); the new levels read each input value once, per chunk
  // of 1024 one invocation (serial) or a workgroup (tree: 16 values a thread, then one thread
  // replays k·log2(1024) tree nodes in workgroup memory)
  const levels = topKLevels(V, k);
  const newReads = levels.reduce((s, m) => s + m, 0);
  console.log(`k ${String(k).padStart(2)}: old ${tOld.toFixed(2).padStart(8)} ms (1 workgroup, ${(k * V / 1e6).toFixed(2)}M reads, ${k * Math.ceil(V / OLD_WG)} per thread)`
    + ` | new: serial ${tSerial.toFixed(2).padStart(7)} ms, tree ${tTree.toFixed(2).padStart(7)} ms (${levels.length} levels, ${levels.map((m) => Math.ceil(m / TOPK_CHUNK)).join('+')} chunks, `
    + `${(newReads / 1e6).toFixed(3)}M reads; tree: ${(TOPK_CHUNK / TOPK_WG) * levels.length} per thread + ${k * Math.log2(TOPK_CHUNK) * levels.length} tree steps)`
    + ` | same ids: ${same}`);
}
serial.dispose();
tree.dispose();
device.destroy();
