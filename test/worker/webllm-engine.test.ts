// WebLLM adapter against the real @mlc-ai/web-llm package in Node, up to where a GPU and a model
// library are needed: the catalogue from its prebuiltAppConfig, custom entries, the f16 gate,
// request and usage mapping (checked by the package's own request validation), and its real errors.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as WebLLM from '@mlc-ai/web-llm';
import { EngineError } from '../../src/shared/errors.ts';
import type { ChatCompletionParams } from '../../src/worker/api.ts';
import {
  buildAppConfig, catalogue, customRecord, effectiveModelBase, needsF16, unavailableReason, type WebGPUSupport,
} from '../../src/worker/webllm-catalogue.ts';
import { WebLLMEngine } from '../../src/worker/webllm-engine.ts';
import { mapWebLLMError, statsFromUsage, toLoadProgress, toWebLLMRequest } from '../../src/worker/webllm-map.ts';

let lib: typeof WebLLM;
beforeAll(async () => { lib = await import('@mlc-ai/web-llm'); });
afterEach(() => { vi.restoreAllMocks(); });

const NO_F16: WebGPUSupport = { webgpu: true, f16: false, adapter: 'Google SwiftShader' };
const F16: WebGPUSupport = { webgpu: true, f16: true, adapter: 'some GPU' };
const NO_GPU: WebGPUSupport = { webgpu: false, f16: false, reason: 'this browser does not expose navigator.gpu' };

const custom = {
  id: 'Qwen2.5-0.5B-Instruct-q4f32_1-self',
  modelUrl: 'https://models.lan/Qwen2.5-0.5B-Instruct-q4f32_1-MLC/resolve/main/',
  modelLibUrl: 'https://models.lan/libs/Qwen2-0.5B-Instruct-q4f32_1_cs1k-webgpu.wasm',
};

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as EngineError).code;
  }
  return undefined;
}

describe('catalogue from the real prebuiltAppConfig', () => {
  it('lists every chat record, sizes from vram_required_MB, embeddings left out', () => {
    const list = catalogue(lib.prebuiltAppConfig, F16);
    const chat = lib.prebuiltAppConfig.model_list.filter((r) => r.model_type !== 1);
    expect(chat.length).toBeGreaterThan(50);
    expect(list).toHaveLength(chat.length);
    expect(list.some((m) => /embed/.test(m.id))).toBe(false);
    const rec = chat.find((r) => r.model_id === 'Llama-3.2-1B-Instruct-q4f32_1-MLC')!;
    const m = list.find((x) => x.id === rec.model_id)!;
    expect(m.sizeBytes).toBe(Math.round(rec.vram_required_MB! * 1024 * 1024));
    expect(m.requiresF16).toBe(false);
    expect(m.lowResource).toBe(rec.low_resource_required === true);
    expect(list.every((x) => x.unavailable === undefined)).toBe(true);
  });

  it('every record declaring shader-f16 is an f16 build, and f16 ids without the declaration count too', () => {
    const recs = lib.prebuiltAppConfig.model_list;
    const declared = recs.filter((r) => r.required_features?.includes('shader-f16'));
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.every(needsF16)).toBe(true);
    // the package leaves required_features off many q4f16 builds (they would fail at shader compile)
    const undeclared = recs.filter((r) => /q[04]f16/.test(r.model_id) && !r.required_features?.includes('shader-f16'));
    expect(undeclared.length).toBeGreaterThan(0);
    expect(undeclared.every(needsF16)).toBe(true);
    const f32 = recs.filter((r) => /q[04]f32/.test(r.model_id) && !r.required_features);
    expect(f32.length).toBeGreaterThan(10);
    expect(f32.some(needsF16)).toBe(false);
  });

  it('without shader-f16 the f16 builds are unavailable and say why; the f32 ones stay', () => {
    const list = catalogue(lib.prebuiltAppConfig, NO_F16);
    const f16 = list.filter((m) => m.requiresF16);
    expect(f16.length).toBeGreaterThan(30);
    for (const m of f16) expect(m.unavailable).toMatch(/f16 build .*SwiftShader.* no shader-f16.*q4f32/);
    expect(list.filter((m) => !m.requiresF16).every((m) => m.unavailable === undefined)).toBe(true);
  });

  it('without WebGPU nothing is available', () => {
    const list = catalogue(lib.prebuiltAppConfig, NO_GPU);
    expect(list.every((m) => /needs WebGPU.*navigator\.gpu/.test(m.unavailable ?? ''))).toBe(true);
  });
});

describe('custom entries', () => {
  it('become ModelRecords; f16 guessed from the quantisation, or as stated', () => {
    expect(customRecord(custom)).toEqual({ model: custom.modelUrl, model_id: custom.id, model_lib: custom.modelLibUrl });
    const f16 = customRecord({ ...custom, id: 'x-q4f16_1', modelLibUrl: 'http://h/x-q4f16_1-webgpu.wasm' });
    expect(f16.required_features).toEqual(['shader-f16']);
    expect(customRecord({ ...custom, requiresF16: true }).required_features).toEqual(['shader-f16']);
  });

  it('reject bad URLs and ids with BAD_ARGUMENT and a reason', () => {
    const bad: [Partial<typeof custom>, RegExp][] = [
      [{ modelUrl: 'models.lan/x' }, /not a URL/],
      [{ modelUrl: 'file:///models/x/' }, /http\(s\).*file:/],
      [{ modelUrl: 'https://h/x/?token=1' }, /query/],
      [{ modelLibUrl: 'ftp://h/x.wasm' }, /http\(s\)/],
      [{ modelLibUrl: 'https://h/libs/x.so' }, /\.wasm.*x\.so/],
      [{ modelLibUrl: 'https://h/libs/' }, /\.wasm/],
      [{ id: '' }, /model id/],
      [{ id: '../etc' }, /model id/],
      [{ id: 'has space' }, /model id/],
    ];
    for (const [patch, re] of bad) {
      let err: unknown;
      try { customRecord({ ...custom, ...patch }); } catch (e) { err = e; }
      expect(err, JSON.stringify(patch)).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('BAD_ARGUMENT');
      expect((err as Error).message).toMatch(re);
    }
  });

  it('join the prebuilt list in the AppConfig, replacing a prebuilt id; duplicates refused', () => {
    const cfg = buildAppConfig(lib.prebuiltAppConfig, [custom, { ...custom, id: 'Llama-3.2-1B-Instruct-q4f32_1-MLC' }]);
    expect(cfg.cacheBackend).toBe('cache');
    expect(cfg.model_list).toHaveLength(lib.prebuiltAppConfig.model_list.length + 1);
    expect(cfg.model_list.filter((r) => r.model_id === 'Llama-3.2-1B-Instruct-q4f32_1-MLC')).toEqual([
      { model: custom.modelUrl, model_id: 'Llama-3.2-1B-Instruct-q4f32_1-MLC', model_lib: custom.modelLibUrl }]);
    expect(catalogue(cfg, F16, new Set([custom.id]))[0]).toMatchObject({ id: custom.id, custom: true });
    expect(code(() => buildAppConfig(lib.prebuiltAppConfig, [custom, custom]))).toBe('BAD_ARGUMENT');
  });

  it('the fetch base follows WebLLM: resolve/main/ is appended unless the URL has /resolve/<branch>/', () => {
    expect(effectiveModelBase('https://h/m')).toBe('https://h/m/resolve/main/');
    expect(effectiveModelBase('https://h/m/')).toBe('https://h/m/resolve/main/');
    expect(effectiveModelBase('https://h/m/resolve/v2/')).toBe('https://h/m/resolve/v2/');
  });
});

describe('the f16 gate on load', () => {
  it('refuses an f16 build before anything is fetched; WebGPU missing refuses all', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const e = await WebLLMEngine.open({ support: NO_F16, custom: [custom, { ...custom, id: 'bad id' }] });
    expect(e.kind).toBe('webllm');
    expect(e.rejected.map((r) => r.entry.id)).toEqual(['bad id']);
    for (const id of ['Qwen2.5-0.5B-Instruct-q4f16_1-MLC', 'Mistral-7B-Instruct-v0.3-q4f16_1-MLC']) {
      await expect(e.load(id)).rejects.toMatchObject({ code: 'WEBLLM_UNSUPPORTED', message: expect.stringMatching(/shader-f16/) });
    }
    await expect(e.load('no-such-model')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const none = await WebLLMEngine.open({ support: NO_GPU });
    await expect(none.load('Llama-3.2-1B-Instruct-q4f32_1-MLC')).rejects.toMatchObject({ code: 'WEBLLM_UNSUPPORTED' });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('chat before a load is a clear BAD_ARGUMENT', async () => {
    const e = await WebLLMEngine.open({ support: F16 });
    const it = e.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true });
    await expect((async () => { for await (const _ of it) { /* none */ } })()).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('the adapter probe: no navigator.gpu means no WebGPU', async () => {
    const { probeWebGPU } = await import('../../src/worker/webllm-engine.ts');
    expect(await probeWebGPU(undefined)).toMatchObject({ webgpu: false });
  });
});

describe('request and usage mapping', () => {
  const params: ChatCompletionParams = {
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello', reasoning_content: 'greet' }, { role: 'user', content: 'Bye' }],
    stream: true, temperature: 0.7, top_p: 0.9, top_k: 40, min_p: 0.05, max_tokens: 64, stop: ['\n\n'], seed: 7,
    frequency_penalty: 0.1, presence_penalty: 0.2, repeat_penalty: 1.1, chat_template_kwargs: { enable_thinking: false },
  };

  it('maps our params onto WebLLM request fields, and the package accepts the request', () => {
    const req = toWebLLMRequest(params);
    expect(req).toEqual({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Bye' }],
      stream: true, stream_options: { include_usage: true },
      temperature: 0.7, top_p: 0.9, max_tokens: 64, stop: ['\n\n'], seed: 7,
      frequency_penalty: 0.1, presence_penalty: 0.2, repetition_penalty: 1.1, extra_body: { enable_thinking: false },
    });
    expect(() => lib.postInitAndCheckFieldsChatCompletion(req, 'm', lib.ModelType.LLM)).not.toThrow();
    expect(toWebLLMRequest({ messages: [{ role: 'user', content: 'x' }], stream: true }))
      .toEqual({ messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } });
  });

  it('structured output: a schema as json_object with the schema text, a grammar as grammar; the package accepts both', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
    const base = { messages: [{ role: 'user' as const, content: 'x' }], stream: true as const };
    const cases: [Partial<ChatCompletionParams>, unknown][] = [
      [{ response_format: { type: 'json_schema', json_schema: { name: 'n', schema, strict: true } } }, { type: 'json_object', schema: JSON.stringify(schema) }],
      [{ response_format: { type: 'json_object' } }, { type: 'json_object' }],
      [{ json_schema: schema }, { type: 'json_object', schema: JSON.stringify(schema) }],
      [{ grammar: 'root ::= "yes" | "no"' }, { type: 'grammar', grammar: 'root ::= "yes" | "no"' }],
      [{ response_format: { type: 'text' } }, undefined],
    ];
    for (const [extra, want] of cases) {
      const req = toWebLLMRequest({ ...base, ...extra });
      expect(req.response_format, JSON.stringify(extra)).toEqual(want);
      expect(() => lib.postInitAndCheckFieldsChatCompletion(req, 'm', lib.ModelType.LLM)).not.toThrow();
    }
  });

  it('tools and tool turns are refused with a TOOLS error, not dropped', () => {
    const tools = [{ type: 'function' as const, function: { name: 'f' } }];
    const code = (p: ChatCompletionParams) => { try { toWebLLMRequest(p); return null; } catch (e) { return (e as EngineError).code; } };
    expect(code({ messages: [{ role: 'user', content: 'x' }], stream: true, tools })).toBe('TOOLS');
    expect(code({ messages: [{ role: 'user', content: 'x' }, { role: 'tool', content: 'r', tool_call_id: 'c' }], stream: true })).toBe('TOOLS');
    expect(code({ messages: [{ role: 'user', content: 'x' }], stream: true, tools, tool_choice: 'none' })).toBeNull();
  });

  it("usage.extra becomes our stats (backend 'webllm')", () => {
    const usage: WebLLM.CompletionUsage = {
      prompt_tokens: 30, completion_tokens: 11, total_tokens: 41,
      extra: { e2e_latency_s: 1.2, prefill_tokens_per_s: 300, decode_tokens_per_s: 12.5, time_to_first_token_s: 0.1, time_per_output_token_s: 0.08 },
    };
    expect(statsFromUsage(usage, { startMs: 0, firstTokenMs: 150, endMs: 1000, pieces: 9 })).toEqual({
      promptTokens: 30, prefilledTokens: 30, generatedTokens: 11, timeToFirstTokenMs: 100,
      prefillTokensPerSec: 300, decodeTokensPerSec: 12.5, backend: 'webllm', threads: 1,
    });
  });

  it('without usage, our own clock fills in', () => {
    const s = statsFromUsage(undefined, { startMs: 1000, firstTokenMs: 1200, endMs: 2200, pieces: 11 });
    expect(s).toMatchObject({ generatedTokens: 11, timeToFirstTokenMs: 200, decodeTokensPerSec: 10, backend: 'webllm' });
    expect(statsFromUsage(undefined, { startMs: 0, endMs: 50, pieces: 0 })).toMatchObject({ generatedTokens: 0, decodeTokensPerSec: 0, timeToFirstTokenMs: 50 });
  });

  it('load progress keeps the fraction and the text', () => {
    expect(toLoadProgress({ progress: 0.25, timeElapsed: 3, text: 'Fetching param cache[3/22]: 120MB fetched. 25% completed' }))
      .toEqual({ phase: 'fetch', loaded: 250, total: 1000, text: 'Fetching param cache[3/22]: 120MB fetched. 25% completed' });
    expect(toLoadProgress({ progress: 1, timeElapsed: 9, text: 'Finish loading on WebGPU - x' }).phase).toBe('weights');
  });
});

describe('error mapping with the package\'s real errors', () => {
  it('ModelNotFoundError from reload → BAD_ARGUMENT; ModelNotLoadedError from chat → BAD_ARGUMENT', async () => {
    const mlc = new lib.MLCEngine({ appConfig: lib.prebuiltAppConfig, logLevel: 'SILENT' });
    const e1 = await mlc.reload('missing-model').then(() => null, (e: unknown) => e);
    expect((e1 as Error).name).toBe('ModelNotFoundError');
    expect(mapWebLLMError(e1, { modelId: 'missing-model' })).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/no model missing-model/) });
    const e2 = await mlc.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], stream: true }).then(() => null, (e: unknown) => e);
    expect((e2 as Error).name).toBe('ModelNotLoadedError');
    expect(mapWebLLMError(e2).code).toBe('BAD_ARGUMENT');
  });

  it('its request validation errors → BAD_ARGUMENT; IntegrityError → WEBLLM_FAILED', () => {
    const check = (req: object): unknown => {
      try { lib.postInitAndCheckFieldsChatCompletion(req as WebLLM.ChatCompletionRequest, 'm', lib.ModelType.LLM); } catch (e) { return e; }
      return null;
    };
    const seed = check({ messages: [{ role: 'user', content: 'x' }], stream: true, seed: 1.5 });
    expect((seed as Error).name).toBe('SeedTypeError');
    expect(mapWebLLMError(seed)).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/seed/) });
    const order = check({ messages: [{ role: 'user', content: 'x' }, { role: 'system', content: 's' }], stream: true });
    expect(mapWebLLMError(order).code).toBe('BAD_ARGUMENT');
    const integrity = new lib.IntegrityError('https://h/x.wasm', 'sha256-a', 'sha256-b');
    expect(mapWebLLMError(integrity, { modelId: 'm' })).toMatchObject({ code: 'WEBLLM_FAILED', message: expect.stringMatching(/checksum.*x\.wasm/) });
  });

  it('errors by name and message: WebGPU, f16, device lost, fetch, OOM, abort', () => {
    const named = (name: string, message = 'x'): Error => Object.assign(new Error(message), { name });
    expect(mapWebLLMError(named('WebGPUNotAvailableError')).code).toBe('WEBLLM_UNSUPPORTED');
    expect(mapWebLLMError(named('ShaderF16SupportError')).code).toBe('WEBLLM_UNSUPPORTED');
    expect(mapWebLLMError(named('FeatureSupportError', 'This model requires feature foo.')).code).toBe('WEBLLM_UNSUPPORTED');
    expect(mapWebLLMError(named('DeviceLostError')).message).toMatch(/GPU memory/);
    expect(mapWebLLMError(new Error('Unable to find a compatible GPU. This issue')).code).toBe('WEBLLM_UNSUPPORTED');
    expect(mapWebLLMError(new Error('Cannot initialize runtime because of requested maxBufferSize exceeds limit.')).code).toBe('WEBLLM_UNSUPPORTED');
    const net = mapWebLLMError(new TypeError("Failed to execute 'add' on 'Cache': Request failed"), { modelId: 'm', modelUrl: 'https://h/m/resolve/main/' });
    expect(net).toMatchObject({ code: 'WEBLLM_FAILED', message: expect.stringMatching(/Could not download m from https:\/\/h\/m\/resolve\/main\/.*Access-Control-Allow-Origin/) });
    expect(mapWebLLMError(new TypeError('Failed to fetch')).code).toBe('WEBLLM_FAILED');
    expect(mapWebLLMError(new RangeError('Array buffer allocation failed'))).toMatchObject({ code: 'WEBLLM_FAILED', message: expect.stringMatching(/memory/) });
    // WebLLM's RangeError (a sampling value out of range) vs JavaScript's own
    expect(mapWebLLMError(named('RangeError', 'Make sure 0 < top_p <= 1.')).code).toBe('BAD_ARGUMENT');
    expect(mapWebLLMError(new RangeError('Invalid array length')).code).toBe('WEBLLM_FAILED');
    expect(mapWebLLMError(new WebAssembly.CompileError('expected magic word'), { modelLibUrl: 'https://h/x.wasm' }))
      .toMatchObject({ code: 'WEBLLM_FAILED', message: expect.stringMatching(/library https:\/\/h\/x\.wasm is not a WebGPU model library/) });
    expect(mapWebLLMError(new DOMException('aborted', 'AbortError')).code).toBe('ABORTED');
    expect(mapWebLLMError(new Error('anything'), { aborted: true }).code).toBe('ABORTED');
    const ours = new EngineError('OFFLINE', 'x');
    expect(mapWebLLMError(ours)).toBe(ours);
  });
});
