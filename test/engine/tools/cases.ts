// Tool-calling test data: llama.cpp's own test tool and sample outputs (tests/test-chat.cpp:
// special_function_tool, message_assist_call …), the real templates of test/fixtures/templates/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../../../src/engine/chat-template.ts';
import type { Tool } from '../../../src/engine/tools/types.ts';
import { PHI_4_MINI } from '../template-cases.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/templates');
export const template = (name: string): string => readFileSync(path.join(dir, `${name}.jinja`), 'utf8');

/** llama.cpp's special_function_tool */
export const SPECIAL_FUNCTION: Tool = {
  type: 'function',
  function: {
    name: 'special_function', description: "I'm special",
    parameters: { type: 'object', properties: { arg1: { type: 'integer', description: 'The arg.' } }, required: ['arg1'] },
  },
};

export const WEATHER: Tool = {
  type: 'function',
  function: {
    name: 'get_weather', description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 20 }, unit: { enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};

/** user → assistant call (id 123456789, 9 characters as Mistral wants) → tool result */
export const CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Hey there!' },
  { role: 'assistant', content: '', tool_calls: [{ id: '123456789', type: 'function', function: { name: 'special_function', arguments: '{"arg1": 1}' } }] },
  { role: 'tool', content: 'RESULT_42', tool_call_id: '123456789', name: 'special_function' },
];

export interface FamilyCase {
  name: string;
  template: string;
  format: string;
  /** what the rendering of CONVERSATION + [SPECIAL_FUNCTION] must contain, in order */
  rendered: string[];
  /** model outputs → the calls in them and the content left */
  outputs: { text: string; calls: { name: string; arguments: unknown }[]; content: string }[];
}

const ARG1 = { name: 'special_function', arguments: { arg1: 1 } };

export const FAMILIES: FamilyCase[] = [
  {
    name: 'Llama 3.2', template: template('meta-llama-Llama-3.2-3B-Instruct'), format: 'llama3',
    rendered: [
      '<|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n',
      'Given the following functions, please respond with a JSON for a function call',
      '"name": "special_function"',
      'Hey there!<|eot_id|>',
      // the past call as the model writes it (arguments as an object, not a string)
      '<|start_header_id|>assistant<|end_header_id|>\n\n{"name": "special_function", "parameters": {"arg1": 1}}<|eot_id|>',
      '<|start_header_id|>ipython<|end_header_id|>\n\n"RESULT_42"<|eot_id|>',
      '<|start_header_id|>assistant<|end_header_id|>\n\n',
    ],
    outputs: [
      { text: '{"name": "special_function", "parameters": {"arg1": 1}}', calls: [ARG1], content: '' },
      { text: '<|python_tag|>{"name": "special_function", "parameters": {"arg1": 1}}', calls: [ARG1], content: '' },
      {
        text: '{"name": "special_function", "parameters": {"arg1": 1}}; {"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}',
        calls: [ARG1, { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } }], content: '',
      },
      { text: 'Hello, world!\nWhat\'s up?', calls: [], content: 'Hello, world!\nWhat\'s up?' },
      // JSON that is no call stays content
      { text: '{"answer": 42}', calls: [], content: '{"answer": 42}' },
    ],
  },
  ...['Qwen-Qwen2.5-7B-Instruct', 'Qwen-Qwen3-0.6B'].map((file): FamilyCase => ({
    name: file, template: template(file), format: 'hermes',
    rendered: [
      '<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n',
      '<tools>\n{"type": "function", "function": {"name": "special_function", "description": "I\'m special", "parameters": {"type": "object", "properties": {"arg1": {"type": "integer", "description": "The arg."}}, "required": ["arg1"]}}}\n</tools>',
      '<|im_start|>user\nHey there!<|im_end|>\n',
      // llama.cpp's reconstruction of message_assist_call for these templates
      '<|im_start|>assistant\n<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call><|im_end|>\n',
      '<|im_start|>user\n<tool_response>\nRESULT_42\n</tool_response><|im_end|>\n',
      '<|im_start|>assistant\n',
    ],
    outputs: [
      { text: '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>', calls: [ARG1], content: '' },
      { text: 'Hello, world!\nWhat\'s up?\n<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>', calls: [ARG1], content: 'Hello, world!\nWhat\'s up?\n' },
      {
        text: '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>',
        calls: [ARG1, { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } }], content: '',
      },
      { text: 'I think <tool_call> is a tag.', calls: [], content: 'I think <tool_call> is a tag.' },
      { text: 'Hello, world!\nWhat\'s up?', calls: [], content: 'Hello, world!\nWhat\'s up?' },
    ],
  })),
  {
    name: 'Mistral Nemo', template: template('mistralai-Mistral-Nemo-Instruct-2407'), format: 'mistral',
    rendered: [
      '[AVAILABLE_TOOLS][{"type": "function", "function": {"name": "special_function", "description": "I\'m special", "parameters": {"type": "object", "properties": {"arg1": {"type": "integer", "description": "The arg."}}, "required": ["arg1"]}}}][/AVAILABLE_TOOLS]',
      '[INST]Hey there![/INST]',
      // llama.cpp's test output for message_assist_call_id, reconstructed
      '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]</s>',
      '[TOOL_RESULTS]{"content": RESULT_42, "call_id": "123456789"}[/TOOL_RESULTS]',
    ],
    outputs: [
      { text: '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]', calls: [ARG1], content: '' },
      // the control token detokenized to nothing
      { text: '[{"name": "special_function", "arguments": {"arg1": 1}}]', calls: [ARG1], content: '' },
      { text: 'Hello, world!\nWhat\'s up?', calls: [], content: 'Hello, world!\nWhat\'s up?' },
    ],
  },
  {
    name: 'Phi-4-mini', template: PHI_4_MINI, format: 'phi4',
    rendered: [
      // the tools go into the system message's `tools` field, which the template prints between <|tool|> tags
      '<|system|>You are a helpful assistant.<|tool|>[{"name":"special_function","description":"I\'m special","parameters":',
      '<|/tool|><|end|><|user|>Hey there!<|end|>',
      // the template renders no tool_calls: the call is written into the content in Phi-4-mini's syntax
      '<|assistant|><|tool_call|>[{"name":"special_function","arguments":{"arg1":1}}]<|/tool_call|><|end|>',
      '<|tool|>RESULT_42<|end|><|assistant|>',
    ],
    outputs: [
      { text: '<|tool_call|>[{"name": "special_function", "arguments": {"arg1": 1}}]<|/tool_call|>', calls: [ARG1], content: '' },
      { text: 'functools[{"name": "special_function", "arguments": {"arg1": 1}}]', calls: [ARG1], content: '' },
      { text: 'Sure.<|tool_call|>[{"name": "special_function", "arguments": {"arg1": 1}}]<|/tool_call|>', calls: [ARG1], content: 'Sure.' },
      { text: 'Hello, world!\nWhat\'s up?', calls: [], content: 'Hello, world!\nWhat\'s up?' },
    ],
  },
];
