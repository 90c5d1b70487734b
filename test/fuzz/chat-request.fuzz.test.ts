// The chat/completions and completions request bodies of `cli serve`, mutated from valid ones: a
// typed API error (400 with the parameter) or a parsed request.
import { expect, it } from 'vitest';
import { ApiError } from '../../src/server/api-error.ts';
import { parseChatRequest, parseTextRequest } from '../../src/server/params.ts';
import { isEngineError } from '../../src/shared/errors.ts';
import { mutatedJsonText } from './mutate.ts';
import { fuzz } from './runner.ts';

const chat = [
  { model: 'x', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], stream: true, temperature: 0.7, top_p: 0.9, max_tokens: 64, stop: ['\n\n'], seed: 3 },
  { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }, { role: 'assistant', content: 'b', reasoning_content: 'c' }, { role: 'user', content: 'd' }],
    top_k: 40, min_p: 0.05, repeat_penalty: 1.1, presence_penalty: 0.5, frequency_penalty: 0.5, n_probs: 0, stream_options: { include_usage: true } },
  // function calling: tools, tool_choice, a past call and its result
  { messages: [{ role: 'user', content: 'Weather?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"t":21}' }],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'd', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
  tool_choice: { type: 'function', function: { name: 'get_weather' } } },
];
const text = [{ prompt: 'Once upon a time', max_tokens: 16, temperature: 0 }, { prompt: [1, 2, 3], stop: 'x', stream: true }];

it('chat/completions request parser', { timeout: 1_800_000 }, async () => {
  const r = await fuzz({
    name: 'chat-request',
    input: mutatedJsonText([...chat, ...text]),
    size: (t) => t.length * 2,
    capBytes: 16 * 2 ** 20,
    maxMs: 1000,
    typed: (e) => e instanceof ApiError || isEngineError(e),
    run(body) {
      let parsed: unknown;
      try { parsed = JSON.parse(body); } catch { return; } // the server answers 400 before parsing (tested in test/serve)
      try { parseChatRequest(parsed); } catch (e) { if (!(e instanceof ApiError)) throw e; }
      parseTextRequest(parsed);
    },
  });
  expect(r.runs).toBeGreaterThan(0);
});
