// WebLLM's catalogue: its prebuilt model records plus the custom ones people add (a self-hosted MLC
// model and its compiled library), each classified against the adapter before anything downloads.
// Types only from the package here: the 6 MB module is imported lazily by webllm-engine.ts.
import type { AppConfig, ModelRecord } from '@mlc-ai/web-llm';
import { EngineError } from '../shared/errors.ts';
import type { EngineModel } from './api.ts';

/** A custom entry as the UI stores it. */
export interface WebLLMCustomEntry {
  /** the name reload() and the cache know it by (letters, digits, . _ -) */
  id: string;
  /** base URL of the MLC weights (mlc-chat-config.json, tensor-cache.json, params_shard_*.bin) */
  modelUrl: string;
  /** URL of the compiled model library, a .wasm built for WebGPU */
  modelLibUrl: string;
  /** the build needs shader-f16; default: guessed from the id and library name (q4f16, q0f16 …) */
  requiresF16?: boolean;
}

/** What the adapter offers WebLLM, probed before any download. */
export interface WebGPUSupport {
  webgpu: boolean;
  f16: boolean;
  /** the adapter, for people ("SwiftShader", "NVIDIA …") */
  adapter?: string;
  /** why WebGPU is missing */
  reason?: string;
}

export interface WebLLMModel extends EngineModel {
  name: string;
  /** WebLLM's estimate of the GPU memory it needs */
  vramMB?: number;
  /** WebLLM says it runs on limited devices (phones) */
  lowResource: boolean;
  custom: boolean;
  /** set when it cannot run on this adapter: why, for people */
  unavailable?: string;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** MLC's quantisation names: q4f16_1, q0f16, q3f16_0 … compute in f16 */
const F16_QUANT_RE = /(?:^|[-_])q\d+f16(?:_\d+)?(?:[-_.]|$)/i;

/**
 * Whether a record needs shader-f16. The prebuilt list declares required_features on some f16
 * builds only (0.2.86: 30 of 84), so the quantisation in the id or library name counts too; without
 * it the failure would come at shader compile, after a download of hundreds of MB.
 */
export function needsF16(record: Pick<ModelRecord, 'model_id' | 'model_lib' | 'required_features'>): boolean {
  if (record.required_features?.includes('shader-f16')) return true;
  const lib = record.model_lib.split('/').pop() ?? '';
  return F16_QUANT_RE.test(record.model_id) || F16_QUANT_RE.test(lib);
}

/** Why a record cannot run with this support, or undefined when it can. */
export function unavailableReason(record: Pick<ModelRecord, 'model_id' | 'model_lib' | 'required_features'>, support: WebGPUSupport): string | undefined {
  if (!support.webgpu) return `WebLLM needs WebGPU, which is not available here${support.reason ? ` (${support.reason})` : ''}.`;
  const missing = (record.required_features ?? []).filter((f) => f !== 'shader-f16');
  if (needsF16(record) && !support.f16) {
    return `${record.model_id} is an f16 build and this GPU adapter${support.adapter ? ` (${support.adapter})` : ''} has no shader-f16; ` +
      'choose a q4f32 or q0f32 build of the model instead.';
  }
  if (missing.length) return `${record.model_id} needs the WebGPU feature ${missing.join(', ')}, which WebLLM cannot check for here.`;
  return undefined;
}

function httpUrl(s: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(s.trim());
  } catch {
    throw new EngineError('BAD_ARGUMENT', `The ${what} "${s}" is not a URL; enter an http(s) link.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new EngineError('BAD_ARGUMENT', `The ${what} must be an http(s) link, not ${u.protocol}.`);
  }
  return u;
}

/**
 * The base WebLLM fetches a model's files from: it appends "resolve/main/" unless the URL has a
 * /resolve/<branch>/ part (Hugging Face's layout), so a self-hosted tree must follow that layout.
 */
export function effectiveModelBase(modelUrl: string): string {
  let u = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  if (!/.+\/resolve\/.+\//.test(u)) u += 'resolve/main/';
  return new URL(u).href;
}

/** Checks a custom entry and turns it into a WebLLM ModelRecord; BAD_ARGUMENT says what is wrong. */
export function customRecord(entry: WebLLMCustomEntry): ModelRecord {
  const id = entry.id.trim();
  if (!ID_RE.test(id)) {
    throw new EngineError('BAD_ARGUMENT', `The model id "${entry.id}" must be 1–200 letters, digits, dots, dashes or underscores, starting with a letter or digit.`);
  }
  const model = httpUrl(entry.modelUrl, 'model URL');
  if (model.search || model.hash) throw new EngineError('BAD_ARGUMENT', 'The model URL is a folder of MLC files; remove its ?query or #fragment.');
  const lib = httpUrl(entry.modelLibUrl, 'model library URL');
  if (!lib.pathname.toLowerCase().endsWith('.wasm')) {
    throw new EngineError('BAD_ARGUMENT', `The model library URL must point at the compiled .wasm file (…-webgpu.wasm), got ${lib.pathname.split('/').pop() || lib.href}.`);
  }
  const record: ModelRecord = { model: model.href, model_id: id, model_lib: lib.href };
  const f16 = entry.requiresF16 ?? needsF16(record);
  if (f16) record.required_features = ['shader-f16'];
  return record;
}

/** Chat records only: WebLLM's embedding models (model_type 1) cannot answer a chat. */
function isChatRecord(r: ModelRecord): boolean {
  return r.model_type === undefined || r.model_type !== 1;
}

/**
 * The AppConfig reload() gets: the prebuilt records and the valid custom ones (a custom id equal to
 * a prebuilt one replaces it). The Cache API backend, WebLLM's default, keeps its files in caches
 * named webllm/* — apart from our IndexedDB store.
 */
export function buildAppConfig(prebuilt: AppConfig, custom: WebLLMCustomEntry[]): AppConfig {
  const records = custom.map(customRecord);
  const ids = new Set(records.map((r) => r.model_id));
  if (ids.size !== records.length) throw new EngineError('BAD_ARGUMENT', 'Two custom WebLLM entries have the same id.');
  return {
    ...prebuilt,
    cacheBackend: 'cache',
    model_list: [...prebuilt.model_list.filter((r) => !ids.has(r.model_id)), ...records],
  };
}

/** The catalogue to show, each entry with why it cannot run here (if so). Custom entries first. */
export function catalogue(config: AppConfig, support: WebGPUSupport, customIds: ReadonlySet<string> = new Set()): WebLLMModel[] {
  const rows = config.model_list.filter(isChatRecord).map((r): WebLLMModel => ({
    id: r.model_id,
    name: r.model_id.replace(/-MLC(?=$|-)/, ''),
    // EngineModel's size: WebLLM publishes only the GPU memory estimate, close to the download for 4-bit builds
    sizeBytes: r.vram_required_MB !== undefined ? Math.round(r.vram_required_MB * 1024 * 1024) : undefined,
    requiresF16: needsF16(r),
    vramMB: r.vram_required_MB,
    lowResource: r.low_resource_required === true,
    custom: customIds.has(r.model_id),
    unavailable: unavailableReason(r, support),
  }));
  return [...rows.filter((r) => r.custom), ...rows.filter((r) => !r.custom)];
}

/** The record reload() will use, or BAD_ARGUMENT naming the id. */
export function findRecord(config: AppConfig, id: string): ModelRecord {
  const r = config.model_list.find((m) => m.model_id === id);
  if (!r) throw new EngineError('BAD_ARGUMENT', `WebLLM has no model "${id}": pick one from its catalogue or add it as a custom entry.`);
  return r;
}
