// Tool-call markers that are control tokens (Llama 3's <|python_tag|>, Mistral v3's [TOOL_CALLS]): the
// detokenizer does not show them, so a call after some text was lost as content. Through the real
// Session and chatCompletionChunks, with the real vocabulary and template, a scripted decoder (one-hot
// logits, greedy) makes the answer "Let me check. <marker>{call}": the text stays content, the call is
// found, and the marker is shown nowhere; without tools the marker stays invisible as before.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { chooseTemplate } from '../../src/engine/chat.ts';
import type { TemplateChoice } from '../../src/engine/chat-template.ts';
import { loadModel, type LoadedModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { detectToolFormat } from '../../src/engine/tools/index.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import type { ChatCompletionParams, FinishReason, ToolCall } from '../../src/worker/api.ts';
import { chatCompletionChunks } from '../../src/worker/chat.ts';
import { template as templateFile, WEATHER } from '../engine/tools/cases.ts';
import { fixture } from '../fixtures.ts';

/** The model with a decoder that answers `script` greedily (then end of turn), whatever the input. */
function scripted(m: LoadedModel, tokenizer: Tokenizer, script: readonly number[], end: number): LoadedModel {
  let i = 0;
  const V = tokenizer.vocabSize;
  const decoder = {
    opts: m.decoder.opts,
    backend: {},
    forward: async () => {
      const l = new Float32Array(V).fill(-10);
      l[i < script.length ? script[i] : end] = 10;
      i++;
      return l;
    },
  };
  return { ...m, tokenizer, h: { ...m.h, vocabSize: V }, decoder } as unknown as LoadedModel;
}

async function answer(model: LoadedModel, template: TemplateChoice | null, p: Partial<ChatCompletionParams>) {
  const target = { session: new Session(model), template, model: 'm', backend: () => ({ backend: 'wasm' as const, threads: 1 }) };
  const calls: ToolCall[] = [];
  let content = '', reasoning = '', finish: FinishReason | null = null;
  const params = { messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }], max_tokens: 100, temperature: 0, ...p };
  for await (const c of chatCompletionChunks(target, 'id', params, new AbortController().signal)) {
    const d = c.choices[0].delta;
    content += d.content ?? '';
    reasoning += d.reasoning_content ?? '';
    for (const t of d.tool_calls ?? []) {
      if (t.id !== undefined) calls[t.index] = { id: t.id, type: 'function', function: { name: t.function!.name!, arguments: '' } };
      calls[t.index].function.arguments += t.function?.arguments ?? '';
    }
    finish = c.choices[0].finish_reason ?? finish;
  }
  return { calls, content, reasoning, finish };
}

const CALL = '{"name": "get_weather", "parameters": {"city": "Paris"}}';

let llama: LoadedModel;
beforeAll(async () => {
  llama = await loadModel(await openNodeFiles(fixture('arch', 'dev-llama32.Q8_0.gguf')), await createWasmBackend({ threads: 1 }), { nCtx: 1024 });
}, 120_000);
afterAll(async () => { await llama?.dispose(); });

describe('Llama 3.2 (<|python_tag|> is control token 128010)', () => {
  const run = (p: Partial<ChatCompletionParams>, call = CALL) => {
    const t = llama.tokenizer;
    const tag = t.tokenId('<|python_tag|>')!;
    expect(t.tokenType(tag)).toBe('control');
    const script = [...t.encode('Let me check. '), tag, ...t.encode(call)];
    const template = chooseTemplate(llama);
    expect(detectToolFormat(template?.kind === 'model' ? template.template : null).name).toBe('llama3');
    return answer(scripted(llama, t, script, t.tokenId('<|eom_id|>')!), template, p);
  };

  it('text before the marker is content, the call after it a tool call', async () => {
    const r = await run({ tools: [WEATHER] });
    expect(r.content).toBe('Let me check. ');
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0].function.name).toBe('get_weather');
    expect(JSON.parse(r.calls[0].function.arguments)).toEqual({ city: 'Paris' });
    expect(r.finish).toBe('tool_calls');
  });

  it('a marker that opens no call is hidden from the answer all the same', async () => {
    const r = await run({ tools: [WEATHER] }, 'brave_search.call(query="Paris")');
    expect(r.calls).toEqual([]);
    expect(r.content).toBe('Let me check. brave_search.call(query="Paris")');
    expect(r.finish).toBe('stop');
  });

  it('without tools the marker stays invisible and the call is content', async () => {
    const r = await run({});
    expect(r.calls).toEqual([]);
    expect(r.content).toBe(`Let me check. ${CALL}`);
    expect(r.finish).toBe('stop');
  });
});

// vocab-mistral.gguf (Mistral 7B v0.1's 32000-token SentencePiece vocabulary) has no [TOOL_CALLS] token,
// nor has any other fixture: Mistral v3's vocabularies make it control token 5. Here dev-hf-mistral's
// tokenizer.json gets it as an added special token (a control token, as llama.cpp's converter types it).
describe('Mistral vocabulary with [TOOL_CALLS] as a control token, Mistral Nemo template', () => {
  const json = JSON.parse(readFileSync(fixture('arch', 'hf', 'dev-hf-mistral', 'tokenizer.json'), 'utf8')) as
    { model: { vocab: Record<string, number> }; added_tokens: { id: number }[] };
  const id = Math.max(...Object.values(json.model.vocab), ...json.added_tokens.map((a) => a.id)) + 1;
  json.added_tokens.push({ id, content: '[TOOL_CALLS]', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false } as never);
  const config = JSON.parse(readFileSync(fixture('arch', 'hf', 'dev-hf-mistral', 'tokenizer_config.json'), 'utf8'));
  const tok = tokenizerFromHFJson(json, config);
  const template = { kind: 'model' as const, template: templateFile('mistralai-Mistral-Nemo-Instruct-2407') };
  const mistralCall = '[{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abc123XYZ"}]';

  it('text before the marker is content, the calls after it tool calls; without tools it is invisible', async () => {
    expect(tok.tokenId('[TOOL_CALLS]')).toBe(id);
    expect(tok.tokenType(id)).toBe('control');
    expect(detectToolFormat(template.template).name).toBe('mistral');
    const script = [...tok.encode('Let me check. '), id, ...tok.encode(mistralCall)];
    const model = () => scripted(llama, tok, script, tok.eosId!);
    const r = await answer(model(), template, { tools: [WEATHER] });
    // (the SentencePiece pieces "▁Let", "▁[": a space before each part, as the model would generate them)
    expect(r.content).toBe(' Let me check. ');
    expect(r.calls).toEqual([{ id: 'abc123XYZ', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(r.finish).toBe('tool_calls');
    const plain = await answer(model(), template, {});
    expect(plain).toMatchObject({ calls: [], content: ` Let me check.  ${mistralCall}`, finish: 'stop' });
  });
});
