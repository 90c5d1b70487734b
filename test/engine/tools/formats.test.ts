// Per family: the real template renders tools, a past call and its result where the model expects
// them (llama.cpp's reconstructions from tests/test-chat.cpp), the family's parser reads sample
// outputs (whole and streamed in random pieces: the deltas add up to the same calls), and the forced-
// call grammar accepts the family's syntax.
import { describe, expect, it } from 'vitest';
import { renderChat } from '../../../src/engine/chat-template.ts';
import { parseGBNF } from '../../../src/engine/grammar/gbnf-parse.ts';
import { GrammarMatcher } from '../../../src/engine/grammar/matcher.ts';
import { deltaStream } from '../../../src/worker/chat.ts';
import { detectToolFormat, parseToolCalls, toolGrammar, ToolCallStream, type ToolCall } from '../../../src/engine/tools/index.ts';
import { CONVERSATION, FAMILIES, SPECIAL_FUNCTION, template, WEATHER } from './cases.ts';

const render = (template: string, extra: Partial<Parameters<typeof renderChat>[0]> = {}) => renderChat({
  template, messages: CONVERSATION, tools: [SPECIAL_FUNCTION], addGenerationPrompt: true,
  bosToken: '<s>', eosToken: '</s>', now: () => new Date(2024, 6, 26), ...extra,
});

/** a seeded random split of text into pieces of 1–8 characters */
function pieces(text: string, seed: number): string[] {
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < text.length;) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % 8);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

function streamed(format: ReturnType<typeof detectToolFormat>, text: string, seed: number): { content: string; calls: ToolCall[] } {
  const s = new ToolCallStream(format);
  let content = '';
  const calls: ToolCall[] = [];
  const take = (d: ReturnType<ToolCallStream['push']>) => {
    content += d.content;
    for (const t of d.tool_calls) {
      if (t.id !== undefined) {
        // a call's first delta: index in order, id, type and name, empty arguments
        expect(t.index).toBe(calls.length);
        expect(t.type).toBe('function');
        calls.push({ id: t.id, type: 'function', function: { name: t.function!.name!, arguments: '' } });
      } else {
        expect(t.function?.name).toBeUndefined();
      }
      calls[t.index].function.arguments += t.function?.arguments ?? '';
    }
  };
  for (const p of pieces(text, seed)) take(s.push(p));
  take(s.flush());
  return { content, calls };
}

const plain = (calls: readonly ToolCall[]) => calls.map((c) => ({ name: c.function.name, arguments: JSON.parse(c.function.arguments) as unknown }));

describe.each(FAMILIES)('$name', (f) => {
  const format = detectToolFormat(f.template);

  it('is detected from the template', () => {
    expect(format.name).toBe(f.format);
  });

  it('renders tools, the past call and the tool result as the template wants them', () => {
    const out = render(f.template);
    let at = 0;
    for (const part of f.rendered) {
      const i = out.indexOf(part, at);
      expect(i, `missing after ${at}: ${JSON.stringify(part)}\nin:\n${out}`).toBeGreaterThanOrEqual(0);
      at = i + part.length;
    }
  });

  it('tool_choice none: no tools in the prompt, the past turns still render', () => {
    const out = render(f.template, { tools: undefined });
    expect(out).not.toContain("I'm special");
    expect(out).toContain('RESULT_42');
  });

  it('parses sample outputs, whole and streamed in random pieces', () => {
    for (const o of f.outputs) {
      const whole = parseToolCalls(format, o.text);
      expect(plain(whole.tool_calls), o.text).toEqual(o.calls);
      expect(whole.content, o.text).toBe(o.content);
      for (const c of whole.tool_calls) expect(c.id).toMatch(format.idLength ? /^[a-zA-Z0-9]{9}$/ : /^call_[a-zA-Z0-9]{24}$/);
      for (let seed = 1; seed <= 20; seed++) {
        const s = streamed(format, o.text, seed);
        expect(plain(s.calls), `${o.text} (seed ${seed})`).toEqual(o.calls);
        expect(s.content.trim() ? s.content : '', `${o.text} (seed ${seed})`).toBe(o.content);
      }
    }
  });

  it('the forced-call grammar takes the family syntax of a valid call, and nothing else', () => {
    const m = new GrammarMatcher(parseGBNF(toolGrammar(format, [SPECIAL_FUNCTION, WEATHER], 'required')!));
    const call = format.write([{ name: 'special_function', arguments: '{"arg1": 1}' }]);
    expect(m.matchesString(call), call).toBe(true);
    expect(m.matchesString(format.write([{ name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' }]))).toBe(true);
    // the schema is enforced: a wrong type, a missing required field, an unknown function
    expect(m.matchesString(format.write([{ name: 'special_function', arguments: '{"arg1": "one"}' }]))).toBe(false);
    expect(m.matchesString(format.write([{ name: 'get_weather', arguments: '{"city": "Paris"}' }]))).toBe(false);
    expect(m.matchesString(format.write([{ name: 'other', arguments: '{"arg1": 1}' }]))).toBe(false);
    // a named choice allows only that function
    const named = new GrammarMatcher(parseGBNF(toolGrammar(format, [SPECIAL_FUNCTION, WEATHER], { type: 'function', function: { name: 'get_weather' } })!));
    expect(named.matchesString(call)).toBe(false);
    // and what the grammar accepts parses back
    expect(plain(parseToolCalls(format, call).tool_calls)).toEqual([{ name: 'special_function', arguments: { arg1: 1 } }]);
  });
});

describe('templates without tools', () => {
  const CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  it('get the tools described in the system prompt, calls written as <tool_call> blocks, results as user turns (llama.cpp/minja fallback)', () => {
    const format = detectToolFormat(CHATML);
    expect(format.name).toBe('generic');
    const out = render(CHATML);
    expect(out).toMatch(/^<\|im_start\|>system\nYou can call any of the following tools to satisfy the user's requests: \[/);
    expect(out).toContain('"name": "special_function"');
    expect(out).toContain('<|im_start|>system\n');
    expect(out).toContain('You are a helpful assistant.<|im_end|>');
    expect(out).toContain('<|im_start|>assistant\n<tool_call>\n{"name":"special_function","arguments":{"arg1":1}}\n</tool_call><|im_end|>');
    // the template shows the tool role as is, so the result stays a tool turn
    expect(out).toContain('<|im_start|>tool\nRESULT_42<|im_end|>');
  });
});

describe('streaming', () => {
  it('announces a call once its name is known and passes the arguments on as they come', () => {
    const format = detectToolFormat(template('Qwen-Qwen3-0.6B'));
    const s = new ToolCallStream(format);
    const text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';
    const deltas = [...text].map((ch) => s.push(ch));
    const at = (pred: (d: ReturnType<ToolCallStream['push']>) => boolean) => deltas.findIndex(pred);
    const announced = at((d) => d.tool_calls.some((t) => t.function?.name === 'get_weather'));
    expect(announced).toBe(text.indexOf('{"city"'));
    const fragments = deltas.flatMap((d) => d.tool_calls).filter((t) => t.function?.arguments).map((t) => t.function!.arguments!);
    // one fragment per generated character of the arguments object, all before the close tag
    expect(fragments.join('')).toBe('{"city": "Paris", "unit": "celsius"}');
    expect(fragments.length).toBe(fragments.join('').length);
    expect(s.flush()).toEqual({ content: '', tool_calls: [] });
    expect(deltas.every((d) => d.content === '')).toBe(true);
  });

  it('a call cut off (max_tokens) stays a call with the arguments generated so far, as OpenAI does', () => {
    const format = detectToolFormat(template('Qwen-Qwen3-0.6B'));
    const r = parseToolCalls(format, '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par');
    expect(r.tool_calls.map((c) => [c.function.name, c.function.arguments])).toEqual([['get_weather', '{"city": "Par']]);
    expect(r.content).toBe('');
  });

  it('Mistral calls (the id comes after the arguments) arrive complete, with the model\'s id', () => {
    const format = detectToolFormat(template('mistralai-Mistral-Nemo-Instruct-2407'));
    const r = parseToolCalls(format, '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]');
    expect(r.tool_calls).toEqual([{ id: '123456789', type: 'function', function: { name: 'special_function', arguments: '{"arg1":1}' } }]);
  });
});

describe('around the parser', () => {
  it('Qwen3 thinking then a call: reasoning_content, then tool_calls, no content (worker deltas)', () => {
    const format = detectToolFormat(template('Qwen-Qwen3-0.6B'));
    const d = deltaStream({ split: true, startsInReasoning: false, tools: new ToolCallStream(format) });
    const text = '<think>\nParis weather needed.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';
    const out = [...pieces(text, 3).map((p) => d.push(p)), d.flush()].filter((x) => x !== null);
    expect(out.map((x) => x.reasoning_content ?? '').join('')).toBe('Paris weather needed.');
    expect(out.map((x) => x.content ?? '').join('')).toBe('');
    const args = out.flatMap((x) => x.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'celsius' });
    expect(out[0].role).toBe('assistant');
  });

  it('a forced call after a thinking block the template opened: the grammar lets the thinking end first', () => {
    const format = detectToolFormat(template('Qwen-Qwen3-0.6B'));
    const m = new GrammarMatcher(parseGBNF(toolGrammar(format, [WEATHER], 'required', true)!));
    const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';
    expect(m.matchesString(`I need the weather, so <b>call</b> it.</think>\n\n${call}`)).toBe(true);
    expect(m.matchesString(`No thinking end ${call}`)).toBe(false);
    expect(m.matchesString('Done.</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>')).toBe(false);
  });

  it('an MLC conv_template (no tools of its own): tools in the system text, calls and results written in', () => {
    const conv = {
      name: 'chatml', systemTemplate: '<|im_start|>system\n{system_message}<|im_end|>\n', systemMessage: 'You are helpful.',
      roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant' }, roleTemplates: {}, roleContentSep: '\n', roleEmptySep: '\n',
      seps: ['<|im_end|>\n'], stopStr: [], stopTokenIds: [], systemPrefixTokenIds: [], addRoleAfterSystemMessage: true,
    } as unknown as Parameters<typeof renderChat>[0]['template'];
    const out = render(conv as never);
    expect(out).toContain("<|im_start|>system\nYou can call any of the following tools to satisfy the user's requests: [");
    expect(out).toContain('<|im_start|>assistant\n<tool_call>\n{"name":"special_function","arguments":{"arg1":1}}\n</tool_call>');
    expect(out).toContain('<|im_start|>user\n{"tool_response":{"tool":"special_function","content":"RESULT_42"}}');
  });
});

describe('fallback on a strict template (Gemma 2: no tools, no system role, roles must alternate)', () => {
  it('two results in a row become one user turn; tools go to the first user turn', () => {
    const gemma = template('google-gemma-2-2b-it');
    expect(detectToolFormat(gemma).name).toBe('generic');
    const messages = [
      ...CONVERSATION,
      { role: 'tool' as const, content: 'RESULT_43', tool_call_id: 'x', name: 'special_function' },
    ];
    const out = render(gemma, { messages });
    expect(out).toMatch(/^<s><start_of_turn>user\nYou can call any of the following tools/);
    expect(out).toContain('<start_of_turn>model\n<tool_call>\n{"name":"special_function","arguments":{"arg1":1}}\n</tool_call><end_of_turn>\n');
    expect(out).toContain('<start_of_turn>user\n{"tool_response":{"tool":"special_function","content":"RESULT_42"}}\n{"tool_response":{"tool":"special_function","content":"RESULT_43"}}<end_of_turn>\n<start_of_turn>model\n');
  });
});

describe('stream = whole, on random text made of calls, cut calls, markers and JSON pieces', () => {
  const PIECES = ['<tool_call>', '</tool_call>', '{"name": "f", "arguments": ', '{"name": "g", "parameters": ', '{', '}', '"a"', ': ', '1', ' ', '\n',
    'text', '[TOOL_CALLS]', '[', ']', ', ', '<|tool_call|>', '<|/tool_call|>', '<|python_tag|>', '; ', '"', '\\', 'functools', '<tool', '</think>'];
  const ARGS = ['{}', '{"a": 1}', '{"s": "x}y\\"z", "l": [1, {"b": null}]}', '{"city": "Paris", "unit": "celsius"}'];
  it.each(['[TOOL_CALLS]', '<tool_call>', '<|python_tag|>', '<|tool|>', ''])('format of %j: the deltas of any split add up to the whole parse', (marker) => {
    const f = detectToolFormat(marker);
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    let withCalls = 0;
    for (let run = 0; run < 300; run++) {
      const segment = (): string => {
        const call = f.write([{ name: rnd(2) ? 'f' : 'g', arguments: ARGS[rnd(ARGS.length)] }]);
        switch (rnd(5)) {
          case 0: case 1: return call;
          case 2: return call.slice(0, rnd(call.length));
          case 3: return ['Sure. ', '\n', ' ', 'The answer is 4.'][rnd(4)];
          default: return PIECES[rnd(PIECES.length)];
        }
      };
      const text = Array.from({ length: 1 + rnd(6) }, segment).join('');
      const whole = parseToolCalls(f, text);
      if (whole.tool_calls.length) withCalls++;
      const s = streamed(f, text, run + 1);
      const what = `${f.name}: ${JSON.stringify(text)}`;
      expect(s.calls.map((c) => c.function), what).toEqual(whole.tool_calls.map((c) => c.function));
      // parseToolCalls drops whitespace-only content around calls
      expect(whole.tool_calls.length && !s.content.trim() ? '' : s.content, what).toBe(whole.content);
    }
    expect(withCalls).toBeGreaterThan(100);
  });
});
