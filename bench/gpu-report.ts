// Real-GPU report: on a machine with a Vulkan GPU (through Dawn, src/cli/node-gpu.ts), runs the
// WebGPU kernel checks of the test pages (f32 and, when the adapter has shader-f16, f16) against
// their CPU references, and `cli bench --backend webgpu` on random-weight bench models made on the
// spot; writes one JSON report with tok/s and the bandwidth decode achieves against the GPU's.
// Runs under tsx in the repo (`npx tsx bench/gpu-report.ts`) or bundled in the self-contained
// pack of scripts/gpu-pack.sh (started by scripts/gpu-run.sh). Exit code 1 when a kernel check fails.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createWebGPUBackend } from '../src/backends/webgpu/webgpu-backend.ts';
import { parseCli } from '../src/cli/args.ts';
import { runModelCommand, type CliEnv } from '../src/cli/commands.ts';
import { nodeGPU } from '../src/cli/node-gpu.ts';
import { loadShaderFiles } from '../src/cli/node-shaders.ts';
import { openGGUF } from '../src/formats/gguf/reader.ts';
import { openNodeFile, openNodeModel } from '../src/formats/node-file-source.ts';
import { DEFAULT_KV_TYPE } from '../src/models/fit.ts';
import { isFileTypeName } from '../src/quant/quantize-model.ts';
import { FORMAT_TRAITS } from '../src/quant/traits.ts';
import { BOUND as FORMAT_BOUND, F16_BOUND, runFormats, runFusedGlu } from '../test/browser/pages/webgpu-formats-page.ts';
import { BOUND as OPS_BOUND, runOps } from '../test/browser/pages/webgpu-ops-page.ts';
import { achievedBandwidth, kvBytesPerToken, lookupBandwidth, median, weightBytesPerToken } from './gpu-bandwidth.ts';
import { benchModels } from './kernels/make-model.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Bad arguments exit with 2, as setup failures do (1 is a failed kernel check). */
function options() {
  try {
    const { values } = parseArgs({
      options: {
        'out-dir': { type: 'string' }, 'models-dir': { type: 'string' }, quants: { type: 'string' },
        runs: { type: 'string' }, 'prompt-tokens': { type: 'string' }, 'gen-tokens': { type: 'string' },
        'skip-bench': { type: 'boolean' }, 'skip-kernels': { type: 'boolean' },
      },
    });
    const quants = (values.quants ?? 'Q4_K_M,Q8_0').split(',').map((q) => {
      if (!isFileTypeName(q)) throw new Error(`--quants: ${q} is no quantization type (e.g. Q4_K_M, Q8_0, Q4_0)`);
      return q;
    });
    return { ...values, quants, runs: Number(values.runs ?? 3), pp: Number(values['prompt-tokens'] ?? 128), tg: Number(values['gen-tokens'] ?? 64) };
  } catch (e) {
    log(`gpu-report: ${(e as Error).message}`);
    process.exit(2);
  }
}
const args = options();
const { runs, pp, tg, quants } = args;

interface Check { kernel: string; case: string; precision: 'f32' | 'f16'; error: number | null; bound: number | null; pass: boolean }

/** The adapter Dawn picks (as the backend does: high-performance), described in full. */
async function adapterReport(gpu: GPU) {
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) throw new Error('Dawn found no GPU adapter');
  const info = a.info;
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const limitNames = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage'] as const;
  return {
    name,
    info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    features: [...a.features].sort(),
    shaderF16: a.features.has('shader-f16'),
    subgroups: a.features.has('subgroups'),
    limits: Object.fromEntries(limitNames.map((k) => [k, a.limits[k]])),
  };
}

/** The checks of test/browser/webgpu-formats.test.ts and webgpu-ops.test.ts, with their bounds. */
async function kernelChecks(): Promise<{ checks: Check[]; f16Skipped: string | null }> {
  const checks: Check[] = [];
  const err = (kernel: string, c: string, precision: 'f32' | 'f16', error: number, bound: number) =>
    checks.push({ kernel, case: c, precision, error, bound, pass: error <= bound });
  const flag = (kernel: string, c: string, pass: boolean) => checks.push({ kernel, case: c, precision: 'f32', error: null, bound: null, pass });
  log('kernel checks: every weight op × block format');
  const f = await runFormats(20240611);
  for (const r of f.results) {
    for (const k of ['matvec', 'matmul', 'embed', 'rmsnorm', 'rmsnormWg', 'addBias'] as const) err(k, r.format, 'f32', r[k], FORMAT_BOUND);
    for (const [c, v] of Object.entries(r.coop)) for (const k of ['matvec', 'matmul'] as const) err(`${k}-coop`, `${r.format} ${c}`, 'f32', v[k], FORMAT_BOUND);
    if (r.sgVsWg) for (const k of ['matvec', 'matmul'] as const) err(`${k}-subgroup-vs-workgroup`, r.format, 'f32', r.sgVsWg[k], FORMAT_BOUND);
    flag('split-weights', r.format, r.forcedChunks > 2 && r.splitIdentical);
    if (r.f16) for (const k of ['matvec', 'matmul'] as const) err(k, r.format, 'f16', r.f16[k], F16_BOUND);
  }
  // the fused gate/up matmul + GLU: its f16 variant is compiled for the first time on an adapter with shader-f16
  log('kernel checks: fused gate/up matmul + GLU × block format');
  const glu = await runFusedGlu(20261203);
  for (const r of glu.results) {
    flag('matmul-glu-fused', r.format, r.fused && r.splitIdentical);
    for (const [c, v] of Object.entries(r.err)) err('matmul-glu', `${r.format} ${c}`, 'f32', v, FORMAT_BOUND);
    if (r.f16) for (const [c, v] of Object.entries(r.f16)) err('matmul-glu', `${r.format} ${c}`, 'f16', v, F16_BOUND);
  }
  err('matmul-glu', 'mixed formats (unfused fallback)', 'f32', glu.mixed.err, FORMAT_BOUND);
  for (const [threadsPerRow, subgroups] of [[1, undefined], [16, undefined], [16, false]] as const) {
    log(`kernel checks: plain ops, ${threadsPerRow} thread(s) per row${subgroups === false ? ', no subgroups' : ''}`);
    const o = await runOps(7 + threadsPerRow, threadsPerRow, subgroups);
    const t = `/${threadsPerRow}tpr${o.subgroups.used ? '-sg' : ''}`;
    for (const [k, v] of Object.entries(o.rope)) err('rope', k + t, 'f32', v, OPS_BOUND);
    for (const [k, v] of Object.entries(o.attention)) {
      err('attention', `${k}-prefill${t}`, 'f32', v.prefill, OPS_BOUND);
      err('attention', `${k}-decode${t}`, 'f32', v.decode, OPS_BOUND);
      // q8_0: far from the unrounded inputs, or the cache did not hold 8-bit blocks
      if (k.startsWith('q8_0')) flag('attention', `${k}-really-q8${t}`, v.unrounded > 1e-3);
    }
    for (const [k, v] of Object.entries(o.sliding)) err('sliding-attention', k + t, 'f32', v, OPS_BOUND);
    for (const [k, v] of Object.entries(o.elementwise)) err(k, `elementwise${t}`, 'f32', v, OPS_BOUND);
    flag('top-k', `ids-and-values${t}`, o.topK.ok);
    flag('argmax', `argmax${t}`, o.topK.argmaxOk);
  }
  const covered = new Set(f.results.map((r) => r.format));
  for (const t of FORMAT_TRAITS.values()) if (!covered.has(t.id)) flag('coverage', t.id, false);
  return { checks, f16Skipped: f.shaderF16 ? null : `adapter '${f.adapter}' has no shader-f16` };
}

/** Worst error and pass/fail per kernel and precision. */
function summarize(checks: Check[]) {
  const out: Record<string, { pass: boolean; cases: number; maxError: number | null; bound: number | null }> = {};
  for (const c of checks) {
    const k = `${c.kernel} ${c.precision}`;
    const s = (out[k] ??= { pass: true, cases: 0, maxError: null, bound: c.bound });
    s.pass &&= c.pass;
    s.cases++;
    if (c.error !== null) s.maxError = Math.max(s.maxError ?? 0, c.error);
  }
  return out;
}

interface BenchJson { prefillTokensPerSec: number; decodeTokensPerSec: number; peakMemoryBytes: number; dispatchesPerToken?: number; gpuBytesPerToken?: number }

/** One `cli bench --backend webgpu --json`, in this process, on Dawn. */
async function cliBench(gpu: GPU, model: string, f16: boolean): Promise<BenchJson> {
  const o = parseCli(['bench', '--model', model, '--backend', 'webgpu', '--prompt-tokens', String(pp), '--gen-tokens', String(tg), '--json']);
  let out = '';
  const env: CliEnv = {
    out: (s) => { out += s; },
    err: (s) => process.stderr.write(s),
    progress: false,
    sources: () => openNodeModel(model),
    createBackend: () => createWebGPUBackend({ gpu, f16 }),
    hostMemoryBytes: () => process.memoryUsage().rss,
  };
  await runModelCommand(o, env);
  return JSON.parse(out.trim().split('\n').pop()!) as BenchJson;
}

async function benchCells(gpu: GPU, shaderF16: boolean, peak: number | null) {
  log('bench models: random weights at the 155M shape (made once, cached)');
  const models = await benchModels(args['models-dir'], quants);
  const cells = [];
  for (const quant of quants) {
    const file = models[quant];
    if (!file) throw new Error(`no bench model for ${quant} (have ${Object.keys(models).join(', ')})`);
    const f = await openGGUF(await openNodeFile(file));
    await f.close();
    const arch = String(f.metadata.get('general.architecture'));
    const n = (k: string) => Number(f.metadata.get(`${arch}.${k}`));
    const shape = { nLayers: n('block_count'), kvDim: (n('embedding_length') / n('attention.head_count')) * n('attention.head_count_kv'), kvType: DEFAULT_KV_TYPE };
    for (const f16 of shaderF16 ? [true, false] : [false]) {
      const rs: BenchJson[] = [];
      for (let i = 0; i < runs; i++) {
        rs.push(await cliBench(gpu, file, f16));
        log(`  ${quant} ${f16 ? 'f16' : 'f32'} kernels, run ${i + 1}/${runs}: prefill ${rs[i].prefillTokensPerSec.toFixed(1)}, decode ${rs[i].decodeTokensPerSec.toFixed(1)} tok/s`);
      }
      const decode = median(rs.map((r) => r.decodeTokensPerSec));
      // the backend's own count of weight bytes its dispatches bound, when it keeps one; else the file's
      const counted = rs[0].gpuBytesPerToken;
      const weightBytes = counted ?? weightBytesPerToken(f.tensors);
      const kvBytes = kvBytesPerToken(shape, pp, tg);
      cells.push({
        model: 'llama-155m', quant, kernels: f16 ? 'f16' : 'f32', runs,
        prefillTokensPerSec: median(rs.map((r) => r.prefillTokensPerSec)),
        decodeTokensPerSec: decode,
        perRun: rs.map((r) => ({ prefill: r.prefillTokensPerSec, decode: r.decodeTokensPerSec })),
        dispatchesPerToken: rs[0].dispatchesPerToken ?? null,
        peakMemoryBytes: rs[0].peakMemoryBytes,
        weightBytesPerToken: weightBytes,
        weightBytesFrom: counted !== undefined ? 'backend counter' : 'file tensors',
        kvBytesPerToken: kvBytes,
        kvType: shape.kvType,
        achieved: achievedBandwidth(weightBytes + kvBytes, decode, peak),
      });
    }
  }
  return cells;
}

/** What scripts/gpu-pack.sh recorded about the pack (versions, commit), when bundled. */
function packManifest(): unknown {
  const p = path.join(HERE, 'pack.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
}

async function main(): Promise<number> {
  const shaders = path.join(HERE, 'shaders');
  loadShaderFiles(existsSync(shaders) ? shaders : undefined);
  const gpu = await nodeGPU();
  // what the page modules' createWebGPUBackend() reads, as in test/browser/dawn-harness.ts
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await adapterReport(gpu);
  const bandwidth = lookupBandwidth(adapter.name);
  log(`adapter: ${adapter.name}; shader-f16 ${adapter.shaderF16}, subgroups ${adapter.subgroups}; memory bandwidth ${bandwidth ? `${bandwidth.gbps} GB/s (${bandwidth.name})` : 'unknown'}`);
  const kernels = args['skip-kernels'] ? null : await kernelChecks();
  const failed = kernels?.checks.filter((c) => !c.pass) ?? [];
  const report = {
    date: new Date().toISOString(),
    host: { platform: `${process.platform}-${process.arch}`, node: process.version, cpus: os.availableParallelism(),
      vulkanIcd: process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? null, nvidiaSmi: process.env.GPU_SMI ?? null },
    pack: packManifest(),
    adapter,
    memoryBandwidthGBps: bandwidth?.gbps ?? 'unknown',
    memoryBandwidthSource: bandwidth ? `spec sheet of ${bandwidth.name}` : null,
    kernels: kernels && {
      pass: failed.length === 0,
      f16: kernels.f16Skipped ? { skipped: kernels.f16Skipped } : { pass: !failed.some((c) => c.precision === 'f16') },
      failed,
      summary: summarize(kernels.checks),
      checks: kernels.checks,
    },
    bench: args['skip-bench'] ? null : {
      promptTokens: pp, genTokens: tg,
      bytesPerToken: 'weights read by a decode step + the KV cache up to the mean decode position',
      cells: await benchCells(gpu, adapter.shaderF16, bandwidth?.gbps ?? null),
    },
  };
  const dir = args['out-dir'] ?? process.env.OUT_DIR ?? path.join(process.cwd(), 'bench/results');
  await mkdir(dir, { recursive: true });
  const slug = adapter.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  const file = path.join(dir, `gpu-${report.date.slice(0, 10)}-${slug}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 1)}\n`);
  for (const c of report.bench?.cells ?? []) {
    log(`${c.model} ${c.quant} (${c.kernels} kernels): prefill ${c.prefillTokensPerSec.toFixed(1)}, decode ${c.decodeTokensPerSec.toFixed(1)} tok/s; ` +
      `${((c.weightBytesPerToken + c.kvBytesPerToken) / 2 ** 20).toFixed(1)} MiB/token → ${c.achieved.gbps.toFixed(2)} GB/s` +
      (c.achieved.ofPeak !== null ? ` (${(100 * c.achieved.ofPeak).toFixed(2)}% of ${bandwidth!.gbps} GB/s)` : ''));
  }
  if (kernels) log(`kernel checks: ${kernels.checks.length - failed.length}/${kernels.checks.length} pass; f16: ${kernels.f16Skipped ?? 'run'}`);
  for (const c of failed) log(`  FAIL ${c.kernel} ${c.precision} ${c.case}: error ${c.error ?? '-'} > ${c.bound ?? '-'}`);
  log(`report: ${file}`);
  return failed.length ? 1 : 0;
}

try {
  // Dawn keeps the event loop alive: exit explicitly
  process.exit(await main());
} catch (e) {
  log(`gpu-report failed: ${(e as Error).stack ?? e}`);
  process.exit(2);
}
