// tool_choice required / named on real model files (random weights: only the grammar makes the answer
// a call): through the worker's chatCompletionChunks (the path the app and `cli serve` use), every
// answer is one parseable call of an offered function whose arguments validate against its schema
// with ajv, streamed as OpenAI tool_call deltas and finished with 'tool_calls'.
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../../src/backends/wasm/wasm-backend.ts';
import { chooseTemplate } from '../../../src/engine/chat.ts';
import { loadModel, type LoadedModel } from '../../../src/engine/load.ts';
import { Session } from '../../../src/engine/session.ts';
import { detectToolFormat } from '../../../src/engine/tools/index.ts';
import { openNodeFiles } from '../../../src/formats/node-file-source.ts';
import { EngineError } from '../../../src/shared/errors.ts';
import type { ChatCompletionParams, FinishReason, ToolCall, ToolChoice } from '../../../src/worker/api.ts';
import { chatCompletionChunks, type ChatTarget } from '../../../src/worker/chat.ts';
import { fixture } from '../../fixtures.ts';
import { PHI_4_MINI } from '../template-cases.ts';
import { SPECIAL_FUNCTION, template as templateFile, WEATHER } from './cases.ts';

const MODELS = [
  { name: 'dev-qwen3 (Qwen3 template: hermes)', file: fixture('arch', 'dev-qwen3.Q8_0.gguf'), format: 'hermes' },
  { name: 'dev-llama32 (Llama 3.2 template: llama3)', file: fixture('arch', 'dev-llama32.Q8_0.gguf'), format: 'llama3' },
  { name: 'stories260K (no template: generic)', file: fixture('models', 'stories260K.gguf'), format: 'generic' },
  // the other two families' templates on a small vocabulary (the grammar works on the text, whatever the vocabulary)
  { name: 'dev-phi3 with the Phi-4-mini template (phi4)', file: fixture('arch', 'dev-phi3.Q8_0.gguf'), format: 'phi4', template: PHI_4_MINI },
  { name: 'dev-phi3 with the Mistral Nemo template (mistral)', file: fixture('arch', 'dev-phi3.Q8_0.gguf'), format: 'mistral', template: templateFile('mistralai-Mistral-Nemo-Instruct-2407') },
];
const TOOLS = [WEATHER, SPECIAL_FUNCTION];
const ajv = new Ajv2020({ strict: false });
const validators = new Map(TOOLS.map((t) => [t.function.name, ajv.compile(t.function.parameters!)]));

async function answer(target: ChatTarget, p: Partial<ChatCompletionParams>) {
  const calls: ToolCall[] = [];
  let content = '', finish: FinishReason | null = null;
  const params = { messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }], max_tokens: 160, ...p };
  for await (const c of chatCompletionChunks(target, 'id', params, new AbortController().signal)) {
    const d = c.choices[0].delta;
    content += d.content ?? '';
    for (const t of d.tool_calls ?? []) {
      if (t.id !== undefined) calls[t.index] = { id: t.id, type: 'function', function: { name: t.function!.name!, arguments: '' } };
      calls[t.index].function.arguments += t.function?.arguments ?? '';
    }
    finish = c.choices[0].finish_reason ?? finish;
  }
  return { calls, content, finish };
}

describe.each(MODELS)('$name', ({ file, format, template: override }: { file: string; format: string; template?: string }) => {
  let model: LoadedModel;
  let target: ChatTarget;
  beforeAll(async () => {
    model = await loadModel(await openNodeFiles(file), await createWasmBackend({ threads: 1 }), { nCtx: 1024 });
    const template = override ? { kind: 'model' as const, template: override } : chooseTemplate(model);
    expect(detectToolFormat(template && template.kind !== 'mlc' ? template.template : null).name).toBe(format);
    target = { session: new Session(model), template, model: 'm', backend: () => ({ backend: 'wasm', threads: 1 }) };
  }, 120_000);
  afterAll(async () => { await model?.dispose(); });

  const choices: [string, ToolChoice, string[]][] = [
    ['required', 'required', ['get_weather', 'special_function']],
    ['named get_weather', { type: 'function', function: { name: 'get_weather' } }, ['get_weather']],
    ['named special_function', { type: 'function', function: { name: 'special_function' } }, ['special_function']],
  ];
  it.each(choices)('tool_choice %s: one valid call, finish tool_calls', async (_, tool_choice, names) => {
    for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 7 }, { temperature: 1.2, seed: 8, top_k: 0 }]) {
      const r = await answer(target, { tools: TOOLS, tool_choice, ...sampling });
      const what = `${JSON.stringify(sampling)}: ${JSON.stringify(r)}`;
      expect(r.finish, what).toBe('tool_calls');
      expect(r.calls, what).toHaveLength(1);
      expect(r.content.trim(), what).toBe('');
      const call = r.calls[0];
      expect(names, what).toContain(call.function.name);
      const validate = validators.get(call.function.name)!;
      expect(validate(JSON.parse(call.function.arguments)), `${what}\n${JSON.stringify(validate.errors)}`).toBe(true);
    }
  }, 300_000);

  it('a forced call cannot be combined with another constraint; a bad tool_choice is a TOOLS error', async () => {
    const err = await answer(target, { tools: TOOLS, tool_choice: 'required', response_format: { type: 'json_object' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('TOOLS');
    const bad = await answer(target, { tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }).catch((e: unknown) => e);
    expect((bad as EngineError).code).toBe('TOOLS');
    expect((bad as Error).message).toMatch(/"nope"/);
  });
});
