// Real model templates (public Jinja from the models' tokenizer_config.json, and the one stored in
// llama.cpp's phi-3 vocab GGUF) against prompts written out by hand from the models' documented
// formats, or against llama.cpp's expected outputs where it has them.
import { describe, expect, it } from 'vitest';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { EngineError } from '../../src/shared/errors.ts';
import {
  NAMED_TEMPLATES, detectTemplate, mergeSystemIntoUser, renderChat, strftime, type ChatMessage, type RenderChatOptions,
} from '../../src/engine/chat-template.ts';
import { fixture } from '../fixtures.ts';
import { CONVERSATION as conversation } from './template-cases.ts';

const hello: ChatMessage[] = [{ role: 'user', content: 'Hello' }];

const render = (template: string | null, messages: readonly ChatMessage[], extra: Partial<RenderChatOptions> = {}): string =>
  renderChat({ template, messages, addGenerationPrompt: true, bosToken: '<s>', eosToken: '</s>', ...extra });

// meta-llama/Llama-3.2-3B-Instruct (as stored in llama.cpp models/templates/).
const LLAMA_3_2 = String.raw`{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
`;

// Qwen/Qwen2.5-*-Instruct (ChatML with a Hermes-style tools block).
const QWEN_2_5 = String.raw`{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
`;

// meta-llama/Llama-2-7b-chat-hf.
const LLAMA_2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

// llama.cpp test-chat-template.cpp, "Phi-3-mini" expected_output_jinja (bos_token "").
const PHI3_MINI_EXPECTED = "<|user|>\nYou are a helpful assistant\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n";

describe('real model templates', () => {
  it('Llama-3.2: system block with the date from strftime_now, then turns', () => {
    const now = (): Date => new Date(2025, 2, 5, 12, 0, 0);
    const sys = (s: string): string =>
      `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 05 Mar 2025\n\n${s}<|eot_id|>`;
    const opts = { bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>', now };
    expect(render(LLAMA_3_2, hello, opts)).toBe(
      `${sys('')}<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`);
    expect(render(LLAMA_3_2, conversation.slice(0, 3), { ...opts, addGenerationPrompt: false })).toBe(
      `${sys('You are a helpful assistant')}<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>` +
      '<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>');
  });

  it('Qwen2.5: default system prompt when none is given, ChatML turns', () => {
    const opts = { bosToken: '', eosToken: '<|im_end|>' };
    expect(render(QWEN_2_5, hello, opts)).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
      '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n');
    expect(render(QWEN_2_5, conversation, opts)).toBe(
      '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n' +
      '<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n' +
      '<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n' +
      '<|im_start|>assistant\n');
  });

  it('Llama-2-chat: <<SYS>> inside the first [INST], stripped turns, BOS per turn', () => {
    expect(render(LLAMA_2, conversation)).toBe(
      '<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>' +
      '<s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]');
  });

  it('Llama-2-chat: its raise_exception on non-alternating roles becomes a TEMPLATE error', () => {
    const bad: ChatMessage[] = [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }];
    expect(() => render(LLAMA_2, bad)).toThrowError(/Conversation roles must alternate user\/assistant/);
    try {
      render(LLAMA_2, bad);
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).code).toBe('TEMPLATE');
    }
  });

  it('phi-3 vocab GGUF: its tokenizer.chat_template renders as llama.cpp expects', async () => {
    const f = await openGGUF(await openNodeFile(fixture('tokenizers/llama.cpp/ggml-vocab-phi-3.gguf')));
    const template = f.metadata.get('tokenizer.chat_template') as string;
    const arch = f.metadata.get('general.architecture') as string;
    await f.close();
    const choice = detectTemplate(template, arch);
    expect(choice).toEqual({ kind: 'model', template });
    expect(render(choice!.template, conversation, { bosToken: '' })).toBe(PHI3_MINI_EXPECTED);
    expect(render(choice!.template, conversation, { bosToken: '<s>' })).toBe(`<s>${PHI3_MINI_EXPECTED}`);
  });
});

describe('named fallbacks', () => {
  const fb = (name: keyof typeof NAMED_TEMPLATES, extra: Partial<RenderChatOptions> = {}): string =>
    render(null, conversation, { fallback: name, ...extra });

  it('chatml, llama3, gemma and mistral match llama.cpp\'s expected prompts for the same formats', () => {
    expect(fb('chatml')).toBe(
      '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n');
    expect(fb('llama3', { bosToken: '' })).toBe(
      '<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    expect(fb('gemma', { bosToken: '' })).toBe(
      '<start_of_turn>user\nYou are a helpful assistant\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n');
    expect(fb('mistral', { bosToken: '' })).toBe(
      '[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]');
    expect(fb('phi3')).toBe(
      '<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n');
  });

  it('llama2 and zephyr give their documented formats', () => {
    expect(fb('llama2')).toBe(render(LLAMA_2, conversation));
    expect(fb('zephyr')).toBe(
      '<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n<|assistant|>\n');
  });

  it('addGenerationPrompt false leaves the assistant turn unopened', () => {
    expect(render(null, hello, { fallback: 'chatml', addGenerationPrompt: false })).toBe('<|im_start|>user\nHello<|im_end|>\n');
  });

  it('every named template has a stop list and renders a one-message chat', () => {
    for (const spec of Object.values(NAMED_TEMPLATES)) {
      expect(Array.isArray(spec.stop)).toBe(true);
      expect(render(spec.template, hello)).toContain('Hello');
    }
  });
});

describe('detectTemplate', () => {
  it('stories260K (no template, llama arch, no chat tokens) → plain continuation', async () => {
    const f = await openGGUF(await openNodeFile(fixture('models/stories260K.gguf')));
    const template = (f.metadata.get('tokenizer.chat_template') as string | undefined) ?? null;
    const arch = f.metadata.get('general.architecture') as string;
    const tokens = new Set(f.metadata.get('tokenizer.ggml.tokens') as string[]);
    await f.close();
    expect(template).toBeNull();
    expect(detectTemplate(template, arch, tokens)).toBeNull();
    const msgs: ChatMessage[] = [{ role: 'user', content: 'Once upon a time' }, { role: 'assistant', content: ' there was' }];
    expect(render(null, msgs)).toBe('Once upon a time there was');
  });

  it('uses vocab special tokens, then architecture, for models without a template', () => {
    expect(detectTemplate(null, 'llama', new Set(['<|start_header_id|>', '<|eot_id|>']))).toMatchObject({ kind: 'named', name: 'llama3' });
    expect(detectTemplate('', 'llama', new Set(['<|im_start|>', '<|im_end|>']))).toMatchObject({ kind: 'named', name: 'chatml' });
    expect(detectTemplate(null, 'llama', new Set(['<start_of_turn>', '<end_of_turn>']))).toMatchObject({ name: 'gemma' });
    expect(detectTemplate(null, 'qwen2')).toMatchObject({ kind: 'named', name: 'chatml', template: NAMED_TEMPLATES.chatml.template });
    expect(detectTemplate(null, 'phi3')).toMatchObject({ name: 'phi3' });
    expect(detectTemplate(null, 'gemma2')).toMatchObject({ name: 'gemma' });
    expect(detectTemplate(undefined, 'llama')).toBeNull();
    expect(detectTemplate(null)).toBeNull();
  });

  it('a bare template name in the metadata selects that fallback', () => {
    expect(detectTemplate('chatml')).toMatchObject({ kind: 'named', name: 'chatml' });
    expect(detectTemplate('{{ x }}')).toEqual({ kind: 'model', template: '{{ x }}' });
  });
});

describe('errors and helpers', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof EngineError ? e.code : 'not an EngineError';
    }
    return undefined;
  };

  it('syntax errors → TEMPLATE with the parser\'s message', () => {
    expect(() => render('{% if %}', hello)).toThrowError(/could not be parsed: .*Unexpected token/);
    expect(code(() => render('{% for m in messages %}', hello))).toBe('TEMPLATE');
  });

  it('runtime errors and raise_exception → TEMPLATE with the template\'s text', () => {
    expect(() => render("{{ raise_exception('No tools here!') }}", hello)).toThrowError(/rejected the conversation: No tools here!/);
    expect(code(() => render('{{ messages | nosuchfilter }}', hello))).toBe('TEMPLATE');
  });

  it('mergeSystemIntoUser folds system text into the next user turn', () => {
    expect(mergeSystemIntoUser([
      { role: 'system', content: 'A' }, { role: 'system', content: 'B' }, { role: 'user', content: 'u' },
      { role: 'assistant', content: 'x' }, { role: 'system', content: 'C' },
    ])).toEqual([{ role: 'user', content: 'A\nB\nu' }, { role: 'assistant', content: 'x' }, { role: 'user', content: 'C' }]);
  });

  it('strftime formats like Python in the C locale', () => {
    const d = new Date(2024, 6, 26, 9, 5, 3);
    expect(strftime(d, '%d %b %Y')).toBe('26 Jul 2024');
    expect(strftime(d, '%A %B %d, %y %H:%M:%S %%')).toBe('Friday July 26, 24 09:05:03 %');
  });
});
