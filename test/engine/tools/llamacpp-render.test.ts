// Our rendering of tools and tool turns against llama.cpp's own (llama-server's /apply-template, its
// Jinja engine with its capability probes and message fixes), template by template: a conversation
// with tools, a past call (OpenAI wire form: arguments as JSON text) and its result renders to the
// same prompt text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChat, type ChatMessage } from '../../../src/engine/chat-template.ts';
import { openTokenizer } from '../../../src/engine/load.ts';
import { openNodeFiles } from '../../../src/formats/node-file-source.ts';
import type { Tokenizer } from '../../../src/tokenizer/tokenizer.ts';
import { fixture } from '../../fixtures.ts';
import { startLlamaServer, type ServerProcess } from '../../llama-server.ts';
import { SPECIAL_FUNCTION, template, WEATHER } from './cases.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MODEL = fixture('arch', 'dev-qwen3.Q8_0.gguf');
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/templates');
const TEMPLATES = ['meta-llama-Llama-3.2-3B-Instruct', 'Qwen-Qwen2.5-7B-Instruct', 'Qwen-Qwen3-0.6B', 'mistralai-Mistral-Nemo-Instruct-2407'];

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is the weather in Paris?' },
  { role: 'assistant', content: '', tool_calls: [{ id: '123456789', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] },
  { role: 'tool', content: '{"temperature": 21}', tool_call_id: '123456789', name: 'get_weather' },
  { role: 'assistant', content: 'It is 21 °C in Paris.' },
  { role: 'user', content: 'And special?' },
];

let tok: Tokenizer;
beforeAll(async () => {
  const { file, tokenizer } = await openTokenizer(await openNodeFiles(MODEL));
  await file.close();
  tok = tokenizer;
});

describe.each(TEMPLATES)('%s: our prompt = llama-server /apply-template', (name) => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startLlamaServer({ model: MODEL, args: ['-c', '512', '--jinja', '--chat-template-file', path.join(dir, `${name}.jinja`)] });
  }, 180_000);
  afterAll(async () => { await server?.stop(); });

  it('tools + a call + its result', async () => {
    const body = {
      messages: MESSAGES.map((m) => ({ ...m, ...(m.tool_calls ? { content: null } : {}) })),
      tools: [WEATHER, SPECIAL_FUNCTION],
    };
    const r = await fetch(`${server.url}/apply-template`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    const { prompt } = await r.json() as { prompt: string };
    const ours = renderChat({
      template: template(name), messages: MESSAGES, tools: [WEATHER, SPECIAL_FUNCTION], addGenerationPrompt: true,
      bosToken: tok.bosId !== null ? tok.tokenText(tok.bosId) : '', eosToken: tok.eosId !== null ? tok.tokenText(tok.eosId) : '',
    });
    expect(ours).toBe(prompt);
  });
});
