// The chat's tools (ui/state/tool-options.ts: what it sends, what it refuses, with the engine's own
// checks) and streamed calls (ui/state/tool-calls.ts: delta.tool_calls gathered as OpenAI streams them).
import { describe, expect, it } from 'vitest';
import { keepNewerOptions, mergeConversation } from '../../src/ui/state/conversation-merge.ts';
import type { ChatItem, Conversation } from '../../src/ui/state/conversations.ts';
import { addToolCallDeltas, answerEveryCall, NOT_RUN_RESULT, notRunTurns, pendingCalls, prettyArguments, waitingCalls } from '../../src/ui/state/tool-calls.ts';
import { checkToolsOption, choiceFromKey, choiceKey, choosableNames, namedChoice, type ToolsOption } from '../../src/ui/state/tool-options.ts';
import type { ChatMessage, ToolCall } from '../../src/worker/api.ts';

const WEATHER = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const opt = (tools: unknown, choice: ToolsOption['choice'] = 'auto'): ToolsOption => ({ on: true, tools: typeof tools === 'string' ? tools : JSON.stringify(tools), choice });

describe('checkToolsOption', () => {
  it('a good array: the tools and the choice as sent', () => {
    const r = checkToolsOption(opt([WEATHER], 'required'), 'local');
    expect(r).toMatchObject({ ok: true, tools: [WEATHER], choice: 'required', summary: expect.stringContaining('get_weather') });
  });

  it('empty, not JSON, not an array, a malformed tool, a duplicate name: refused with the reason', () => {
    expect(checkToolsOption(opt(' '), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/at least one tool/) });
    expect(checkToolsOption(opt('[{"type": "func'), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/^The tools are not valid JSON/) });
    expect(checkToolsOption(opt('[]'), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/empty/) });
    expect(checkToolsOption(opt(WEATHER), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/must be an array/) });
    expect(checkToolsOption(opt([{ type: 'function', function: { name: 'has space' } }]), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/tools\[0\]\.function\.name/) });
    expect(checkToolsOption(opt([{ type: 'code_interpreter' }]), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/only function tools/) });
    expect(checkToolsOption(opt([WEATHER, WEATHER]), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/given twice/) });
  });

  it('a schema feature the local grammar lacks: refused here, sent as typed to a server; WebLLM: not at all', () => {
    const email = [{ type: 'function', function: { name: 'mail', parameters: { type: 'object', properties: { to: { type: 'string', format: 'email' } } } } }];
    expect(checkToolsOption(opt(email), 'local')).toMatchObject({ ok: false, error: expect.stringMatching(/parameters/) });
    expect(checkToolsOption(opt(email), 'remote')).toMatchObject({ ok: true, tools: email, note: expect.stringMatching(/server decides/) });
    expect(checkToolsOption(opt('[{"type":'), 'remote')).toMatchObject({ ok: false });
    expect(checkToolsOption(opt([WEATHER]), 'webllm')).toMatchObject({ ok: false, error: expect.stringMatching(/not for WebLLM/) });
  });
});

describe('a named tool choice', () => {
  const TIME = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
  it('sent as OpenAI\'s {type: "function", function: {name}}; a name not in the tools is refused, here and for a server', () => {
    const r = checkToolsOption(opt([WEATHER, TIME], namedChoice('get_time')), 'local');
    expect(r).toMatchObject({ ok: true, choice: { type: 'function', function: { name: 'get_time' } }, summary: expect.stringContaining('must call get_time') });
    expect(checkToolsOption(opt([WEATHER], namedChoice('get_time')), 'local'))
      .toMatchObject({ ok: false, error: expect.stringMatching(/names the function "get_time", which is not in 'tools'/) });
    // a server gets a schema this device cannot compile, but not a choice naming a missing tool
    const email = { type: 'function', function: { name: 'mail', parameters: { type: 'object', properties: { to: { type: 'string', format: 'email' } } } } };
    expect(checkToolsOption(opt([email], namedChoice('mail')), 'remote')).toMatchObject({ ok: true, choice: namedChoice('mail') });
    expect(checkToolsOption(opt([email], namedChoice('get_time')), 'remote')).toMatchObject({ ok: false, error: expect.stringMatching(/not in 'tools'/) });
  });

  it('the select: one entry per typed tool (and the chosen one when it is gone); its values round-trip', () => {
    expect(choosableNames(opt([WEATHER, TIME]))).toEqual(['get_weather', 'get_time']);
    expect(choosableNames(opt([WEATHER], namedChoice('get_time')))).toEqual(['get_weather', 'get_time']);
    expect(choosableNames(opt('[{"type": "func', namedChoice('get_time')))).toEqual(['get_time']);
    expect(choosableNames(opt('not json'))).toEqual([]);
    for (const c of ['auto', 'none', 'required', namedChoice('get_weather'), namedChoice('auto')] as const) expect(choiceFromKey(choiceKey(c))).toEqual(c);
    expect(choiceKey(namedChoice('auto'))).not.toBe(choiceKey('auto'));
  });
});

describe('streamed tool calls', () => {
  it('pieces by index: the first names the call, later argument fragments concatenate', () => {
    let calls: ToolCall[] = [];
    calls = addToolCallDeltas(calls, [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }]);
    calls = addToolCallDeltas(calls, [{ index: 0, function: { arguments: '{"ci' } }]);
    // a second call interleaved, and a server that repeats the name
    calls = addToolCallDeltas(calls, [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time' } }, { index: 0, function: { name: 'get_weather', arguments: 'ty": "Paris"}' } }]);
    calls = addToolCallDeltas(calls, [{ index: 1, function: { arguments: '{}' } }]);
    expect(calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    // no id from the server: one is made up (the tool turn must name its call)
    expect(addToolCallDeltas([], [{ index: 0, function: { name: 'f' } }])[0].id).toMatch(/^call_./);
  });

  it('arguments pretty-printed only once they parse', () => {
    expect(prettyArguments('{"city":"Paris"}')).toBe('{\n  "city": "Paris"\n}');
    expect(prettyArguments('{"city":"Pa')).toBeNull();
  });

  it('a turn\'s calls wait for results until each has one, or the chat moves on', () => {
    const a: ToolCall = { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } };
    const b: ToolCall = { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } };
    const ask: ChatItem = { id: '1', role: 'user', content: 'q' };
    const calls: ChatItem = { id: '2', role: 'assistant', content: '', tool_calls: [a, b] };
    const resA: ChatItem = { id: '3', role: 'tool', content: '1', tool_call_id: 'a', name: 'f' };
    expect(pendingCalls([ask, calls], 1)).toEqual([a, b]);
    expect(pendingCalls([ask, calls, resA], 1)).toEqual([b]);
    expect(pendingCalls([ask, calls, resA, { id: '4', role: 'user', content: 'never mind' }], 1)).toEqual([]);
    expect(pendingCalls([ask, calls], 0)).toEqual([]);
  });
});

describe('a message sent while calls wait', () => {
  const a: ToolCall = { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } };
  const b: ToolCall = { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } };
  const ask: ChatItem = { id: '1', role: 'user', content: 'q' };
  const calls: ChatItem = { id: '2', role: 'assistant', content: '', tool_calls: [a, b] };
  const resA: ChatItem = { id: '3', role: 'tool', content: '1', tool_call_id: 'a', name: 'f' };

  it('the chat\'s waiting calls are its last answer\'s unanswered ones; each becomes a "not run" tool turn', () => {
    expect(waitingCalls([ask, calls])).toEqual([a, b]);
    expect(waitingCalls([ask, calls, resA])).toEqual([b]);
    expect(waitingCalls([ask, calls, resA, { id: '4', role: 'tool', content: '2', tool_call_id: 'b' }])).toEqual([]);
    expect(waitingCalls([ask, { id: '5', role: 'assistant', content: 'hi' }])).toEqual([]);
    expect(waitingCalls([])).toEqual([]);
    const turns = notRunTurns([b], 7);
    expect(turns).toEqual([{ id: expect.any(String), role: 'tool', content: NOT_RUN_RESULT, tool_call_id: 'b', name: 'g', notRun: true, updatedAt: 7 }]);
    expect(waitingCalls([ask, calls, resA, ...turns])).toEqual([]);
  });

  it('a request answers every call: one left open before the next message gets a "not run" turn after the turn\'s results', () => {
    const m = (x: Partial<ChatMessage> & Pick<ChatMessage, 'role'>): ChatMessage => ({ content: '', ...x });
    const call = m({ role: 'assistant', tool_calls: [a, b] });
    const res = m({ role: 'tool', content: '1', tool_call_id: 'a', name: 'f' });
    const next = m({ role: 'user', content: 'never mind' });
    const notRun = (c: ToolCall): ChatMessage => ({ role: 'tool', content: NOT_RUN_RESULT, tool_call_id: c.id, name: c.function.name });
    // a chat saved before unanswered calls were recorded: both, or the one without a result
    expect(answerEveryCall([m({ role: 'user', content: 'q' }), call, next])).toEqual([m({ role: 'user', content: 'q' }), call, notRun(a), notRun(b), next]);
    expect(answerEveryCall([call, res, next])).toEqual([call, res, notRun(b), next]);
    // answered, or a later answer's calls: nothing added; the last turn's calls stay open
    const answered = [call, res, m({ role: 'tool', content: '2', tool_call_id: 'b' }), m({ role: 'assistant', content: 'ok' }), next];
    expect(answerEveryCall(answered)).toEqual(answered);
    expect(answerEveryCall([next, call])).toEqual([next, call]);
    // what send() stores (the not-run turns, then the message) needs nothing more
    const sent = [call, res, ...notRunTurns([b]).map((t) => m({ role: 'tool', content: t.content, tool_call_id: t.tool_call_id, name: t.name })), next];
    expect(answerEveryCall(sent)).toEqual(sent);
  });
});

describe('two tabs and tools', () => {
  const c = (o: Partial<Conversation>): Conversation => ({ id: 'c', title: 't', createdAt: 1, updatedAt: 1, messages: [], ...o });
  it('the option changed last wins; an answer\'s tool_calls and the tool turn survive the merge', () => {
    const older: ToolsOption = { ...opt([WEATHER]), updatedAt: 5 };
    const newer: ToolsOption = { ...opt([WEATHER], 'required'), updatedAt: 9 };
    expect(mergeConversation(c({ tools: newer }), c({ tools: older })).tools).toEqual(newer);
    expect(mergeConversation(c({ tools: older }), c({ tools: newer })).tools).toEqual(newer);
    expect(keepNewerOptions(c({ tools: older }), c({ tools: newer })).tools).toEqual(newer);
    const call: ToolCall = { id: 'x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
    const answer: ChatItem = { id: 'a', role: 'assistant', content: '', tool_calls: [call], finish: 'tool_calls', updatedAt: 10 };
    const result: ChatItem = { id: 't', role: 'tool', content: '{"temp": 3}', tool_call_id: 'x', name: 'get_weather', updatedAt: 11 };
    // this tab's older copy of the answer (still streaming, no calls yet) does not drop them
    const merged = mergeConversation(c({ messages: [answer] }), c({ messages: [{ ...answer, tool_calls: undefined, updatedAt: 2 }, result] }));
    expect(merged.messages).toEqual([answer, result]);
  });
});
