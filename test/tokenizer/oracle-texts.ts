// Texts the oracle tests tokenize with llama.cpp (node-llama-cpp) and with ours, and the GGUF
// vocabs made for them.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ValueType } from '../../src/formats/gguf/constants.ts';
import { parseHeader, type GGUFValueTypeInfo } from '../../src/formats/gguf/header-parser.ts';
import { writeGGUF, type WriterEntry } from '../../src/formats/gguf/writer.ts';
import { fixture } from '../fixtures.ts';
import { hfTokenizerFiles, vocabFile } from './helpers.ts';

const SAMPLE = readFileSync(fixture('quant', 'sample.txt'), 'utf8');

/** Chat-template text of each family: special tokens next to text, spaces and newlines around them. */
export const CHAT_TEXTS = [
  '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n Hi  there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi <|im_end|>\n<|im_start|>assistant\nOK<|im_end|><|endoftext|>',
  '<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_response>x</tool_response>',
  '<|fim_prefix|>def f(<|fim_suffix|>):<|fim_middle|> <tool_call>{"a": 1}</tool_call>',
  '<bos><start_of_turn>user\nHi  there<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n<eos><unused0> <mask>[multimodal]<table>',
  '<s>[INST] Hi there [/INST] Hello</s><s>[INST]x[/INST]',
  '<|system|>\nsys<|end|>\n<|user|>\n  Hi<|end|>\n<|assistant|>\n ok <|placeholder1|>  x<|endoftext|>',
];

export const TEXTS = [
  SAMPLE,
  'Once upon a time',
  "I'M HERE, you're there; WE'LL see. They'd've DON'T 'S 'll",
  '   leading and trailing   \n\n\t\t  \r\n  mixed\u00a0nbsp\u3000ideographic\u2003em\u0085nel',
  '1234567890 12.5% $99.99 ~tilde~ `code` <tag> a+b=c^d|e 3333333 ١٢٣ ½ ²',
  'Khmer ស្រុកខ្មែរ, Hindi हिन्दी, Arabic العربية, Cyrillic Привет, Greek Ελληνικά, Thai ภาษาไทย',
  '日本語のテキストと中文文本，还有한국어 텍스트。「括弧」！？',
  'emoji 🦙🦙 👩‍👩‍👧‍👦 🏳️‍🌈 ✅ ❤️ 🇯🇵 combining e\u0301 a\u0308 zero\u200bwidth',
  '<s>not special</s> <unk> <|endoftext|> <|end|> <|user|>\nhi<|assistant|>',
  'def f(x):\n    return x ** 2  # comment\n\n\nclass A:\n\tpass\n',
  ...CHAT_TEXTS,
];

export function randomTexts(n: number, seed: number): string[] {
  const pool = Array.from("aAbZ 0159 \n\t\r'.,!?-_()<>|/\\\"#$%&*+=~`^@ é ü ß ñ Ω ж 中 文 한 ☃ 🦙 \u00a0\u2003\u0301\u200d");
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => pool[Math.floor(rnd() * pool.length)]).join(''));
}

/**
 * The GPT-2 vocab re-labelled with another `tokenizer.ggml.pre`, so llama.cpp runs that
 * pre-tokenizer (Llama 3, Qwen2, ...) on a small vocab.
 */
export function relabelledVocab(dir: string, pre: string): string {
  const buf = readFileSync(vocabFile('gpt-2'));
  const h = parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, 'gpt-2');
  const entries = [...h.metadata].map(([key, value]) => ({ key, value: key === 'tokenizer.ggml.pre' ? pre : value, type: h.metadataTypes.get(key)! }));
  const file = path.join(dir, `relabelled-${pre}.gguf`);
  writeFileSync(file, writeGGUF(entries, []));
  return file;
}

/**
 * Gemma 3 as the SentencePiece (`llama`) vocab that GGUFs made from tokenizer.model carry: Gemma 3's
 * token texts and types from its tokenizer.json, with stand-in scores (−id: SentencePiece BPE
 * scores pieces by merge order, which the ids follow) since only tokenizer.json is at hand.
 * Hyperparameters are dev-gemma3's, so llama.cpp loads it as a gemma3 vocab.
 */
export function gemma3SpmVocab(dir: string): string {
  const { json } = hfTokenizerFiles('gemma3') as { json: { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string; special: boolean }[] } };
  const n = Object.keys(json.model.vocab).length + json.added_tokens.filter((a) => !(a.content in json.model.vocab)).length;
  const tokens: string[] = new Array(n);
  for (const [t, id] of Object.entries(json.model.vocab)) tokens[id] = t;
  const types = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) if (/^<0x[0-9A-F]{2}>$/.test(tokens[i] ?? '')) types[i] = 6;
  for (const a of json.added_tokens) {
    tokens[a.id] = a.content;
    types[a.id] = a.content === '<unk>' ? 2 : a.special || a.content.startsWith('<unused') || a.content === '<mask>' ? 3 : 4;
  }
  const scores = Float32Array.from(tokens, (_t, i) => (types[i] === 1 ? -i : 0));
  const src = fixture('arch', 'dev-gemma3.Q8_0.gguf');
  const buf = readFileSync(src);
  const h = parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, src);
  const entries: WriterEntry[] = [...h.metadata].filter(([k]) => !k.startsWith('tokenizer.'))
    .map(([key, value]) => ({ key, value, type: h.metadataTypes.get(key)! }));
  const arr = (elemType: number): GGUFValueTypeInfo => ({ type: ValueType.ARRAY, elemType });
  const u32: GGUFValueTypeInfo = { type: ValueType.UINT32 };
  entries.push(
    { key: 'tokenizer.ggml.model', value: 'llama', type: { type: ValueType.STRING } },
    { key: 'tokenizer.ggml.tokens', value: tokens, type: arr(ValueType.STRING) },
    { key: 'tokenizer.ggml.scores', value: scores, type: arr(ValueType.FLOAT32) },
    { key: 'tokenizer.ggml.token_type', value: types, type: arr(ValueType.INT32) },
    { key: 'tokenizer.ggml.bos_token_id', value: 2, type: u32 },
    { key: 'tokenizer.ggml.eos_token_id', value: 1, type: u32 },
    { key: 'tokenizer.ggml.unknown_token_id', value: 3, type: u32 },
    { key: 'tokenizer.ggml.padding_token_id', value: 0, type: u32 },
    { key: 'tokenizer.ggml.add_bos_token', value: true, type: { type: ValueType.BOOL } },
    { key: 'tokenizer.ggml.add_space_prefix', value: false, type: { type: ValueType.BOOL } },
  );
  const file = path.join(dir, 'gemma3-spm.gguf');
  writeFileSync(file, writeGGUF(entries, []));
  return file;
}
