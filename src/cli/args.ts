// Command-line contract (see README): parsing and validation only, no engine work.
import { parseArgs } from 'node:util';
import { EngineError } from '../shared/errors.ts';
import { FILE_TYPES, isFileTypeName } from '../quant/quantize-model.ts';
import { isKVType, KV_TYPES, type KVType } from '../backends/kv-layout.ts';

export const COMMANDS = ['generate', 'perplexity', 'tokenize', 'bench', 'quantize', 'convert', 'fit', 'serve'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliOptions {
  command: Command;
  model: string;
  prompt?: string;
  text?: string;
  file?: string;
  maxTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed?: number;
  threads?: number;
  chat: boolean;
  json: boolean;
  noBos: boolean;
  promptTokens: number;
  genTokens: number;
  backend: 'wasm' | 'webgpu';
  browser: boolean;
  ctx?: number;
  /** generate: stop with 'length' when the context is full instead of shifting it */
  noContextShift: boolean;
  /** --no-fuse: the backend's fused ops off (each fusion's matmuls run apart), to measure what they save */
  noFuse: boolean;
  /** KV cache element type */
  kvType?: KVType;
  /** fit: the memory budget in bytes (default: this machine's RAM) */
  memory?: number;
  /** --max-memory: the engine's device memory cap in bytes (all backend allocations) */
  maxMemory?: number;
  /** quantize / convert: input model (convert: an HF folder), output path and target type (a FileTypeName; convert also 'keep') */
  in?: string;
  out?: string;
  type?: string;
  /** serve: where to listen (default 127.0.0.1:8080), the key clients must send, the name /v1/models lists */
  host?: string;
  port?: number;
  apiKey?: string;
  alias?: string;
  /** generate, bench: constrain the output to the GBNF grammar in this file (llama.cpp's --grammar-file) */
  grammarFile?: string;
  /** generate, bench: constrain the output to the JSON schema in this file (llama.cpp's --json-schema-file) */
  jsonSchemaFile?: string;
}

export const USAGE = `usage: npm run -s cli -- <command> [options]
  generate   --model PATH --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
             [--min-p P] [--seed S] [--threads N] [--chat] [--no-context-shift] [--json]
             [--grammar GBNF_FILE | --json-schema SCHEMA_FILE]   (the answer follows the grammar / schema)
  perplexity --model PATH --file TEXT_FILE [--json]
  tokenize   --model PATH (--text TEXT | --file FILE) [--no-bos] [--json]
  bench      --model PATH [--prompt-tokens N] [--gen-tokens N] [--threads N] [--json]
             [--grammar GBNF_FILE | --json-schema SCHEMA_FILE]: greedy decode under the constraint (a fresh
             document each time one completes), with the mask's own time per token
  quantize   --in F32_OR_F16.gguf --type Q4_K_M|Q4_K_S|Q5_K_M|Q6_K|Q8_0|Q4_0|Q4_1|Q5_0|Q5_1|Q2_K|Q3_K_M|IQ4_NL|IQ4_XS|F16|BF16 --out PATH
  convert    --in HF_FOLDER --out PATH.gguf [--type Q4_K_M (default)|Q8_0|Q4_0|Q6_K|F16|BF16|F32|keep|…] [--json]
             a Hugging Face folder to a GGUF file llama.cpp loads (what convert_hf_to_gguf.py + llama-quantize make)
  fit        --model PATH|URL [--ctx N] [--kv-type f32|f16|q8_0] [--memory BYTES] [--json]   (header only)
  serve      --model PATH [--host H] [--port P] [--api-key K] [--alias NAME] [--threads N]
             OpenAI-compatible server (default 127.0.0.1:8080; --port 0 picks a free port)
PATH: a GGUF file (the first part of a split set), or a Hugging Face folder (config.json + safetensors; llama family)
every model command: [--backend wasm|webgpu] (default wasm; webgpu in Node runs on Dawn) [--browser] [--ctx N] [--kv-type f32|f16|q8_0] (default f16)
  [--no-fuse] (the backend's fused ops off: q/k/v, gate/up + GLU, on WebGPU also rope into the KV store and
  attention, the residual adds and the RMSNorms into q/k/v and gate/up; to measure what fusing saves)
  [--max-memory BYTES] (suffixes K, M, G: 1024-based) caps the engine's device memory (weights, KV cache,
  scratch); layers that do not fit are read from the file on every forward pass`;

function bad(msg: string): never {
  throw new EngineError('BAD_ARGUMENT', msg);
}

function number(v: string | undefined, name: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) bad(`--${name} needs a number (got "${v}").`);
  if (opts.int && !Number.isInteger(n)) bad(`--${name} needs a whole number (got ${v}).`);
  if (opts.min !== undefined && n < opts.min) bad(`--${name} must be at least ${opts.min} (got ${v}).`);
  if (opts.max !== undefined && n > opts.max) bad(`--${name} must be at most ${opts.max} (got ${v}).`);
  return n;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** BYTES, or a number with a K/M/G/T suffix (optionally KiB/KB…, all 1024-based). */
export function parseBytes(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(v);
  if (!m) bad(`--${name} needs a byte count such as 3221225472, 3G or 512M (got "${v}").`);
  const n = Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
  if (n < 1) bad(`--${name} must be at least 1 byte (got ${v}).`);
  return n;
}

function quantizeOptions(command: 'quantize' | 'convert', v: { in?: string; out?: string; type?: string; json?: boolean; threads?: string }): CliOptions {
  const type = command === 'convert' ? v.type ?? 'Q4_K_M' : v.type;
  if (command === 'convert' && (!v.in || !v.out)) bad('convert needs --in HF_FOLDER and --out PATH.gguf (and optionally --type TYPE).');
  if (!v.in || !v.out || !type) bad('quantize needs --in MODEL.gguf, --type TYPE and --out PATH.');
  const types = [...Object.keys(FILE_TYPES), ...(command === 'convert' ? ['keep'] : [])];
  if (!isFileTypeName(type) && !(command === 'convert' && type === 'keep')) bad(`--type must be one of ${types.join(', ')} (got ${type}).`);
  return {
    command, model: v.in, in: v.in, out: v.out, type, maxTokens: 0, chat: false, json: !!v.json,
    threads: number(v.threads, 'threads', { int: true, min: 1, max: 256 }),
    noBos: false, promptTokens: 0, genTokens: 0, backend: 'wasm', browser: false, noContextShift: false, noFuse: false,
  };
}

function kvTypeOption(v: string | undefined): KVType | undefined {
  if (v === undefined) return undefined;
  if (!isKVType(v)) bad(`--kv-type must be one of ${KV_TYPES.join(', ')} (got ${v}).`);
  return v;
}

/** --grammar FILE (GBNF text) / --json-schema FILE (a JSON schema), read here so --browser gets the text too. */
export function parseCli(argv: string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string' }, prompt: { type: 'string' }, text: { type: 'string' }, file: { type: 'string' },
      'max-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' },
      'top-p': { type: 'string' }, 'min-p': { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
      chat: { type: 'boolean' }, json: { type: 'boolean' }, 'no-bos': { type: 'boolean' },
      'prompt-tokens': { type: 'string' }, 'gen-tokens': { type: 'string' }, backend: { type: 'string' },
      browser: { type: 'boolean' }, ctx: { type: 'string' }, 'no-context-shift': { type: 'boolean' }, 'no-fuse': { type: 'boolean' }, 'max-memory': { type: 'string' },
      in: { type: 'string' }, out: { type: 'string' }, type: { type: 'string' },
      'kv-type': { type: 'string' }, memory: { type: 'string' },
      host: { type: 'string' }, port: { type: 'string' }, 'api-key': { type: 'string' }, alias: { type: 'string' },
      grammar: { type: 'string' }, 'json-schema': { type: 'string' },
    },
  });
  const command = positionals[0] as Command;
  if (!COMMANDS.includes(command)) bad(positionals[0] ? `Unknown command "${positionals[0]}".` : 'No command given.');
  if (positionals.length > 1) bad(`Unexpected argument "${positionals[1]}".`);
  if (command === 'quantize' || command === 'convert') return quantizeOptions(command, values);
  if (!values.model) bad('--model PATH is required.');
  const backend = values.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'webgpu') bad(`--backend must be wasm or webgpu (got ${backend}).`);
  const o: CliOptions = {
    command, model: values.model, prompt: values.prompt, text: values.text, file: values.file,
    maxTokens: number(values['max-tokens'], 'max-tokens', { int: true, min: 0 }) ?? 256,
    temperature: number(values.temperature, 'temperature', { min: 0 }),
    topK: number(values['top-k'], 'top-k', { int: true, min: 0 }),
    topP: number(values['top-p'], 'top-p', { min: 0, max: 1 }),
    minP: number(values['min-p'], 'min-p', { min: 0, max: 1 }),
    seed: number(values.seed, 'seed', { int: true, min: 0, max: 2 ** 32 - 1 }),
    threads: number(values.threads, 'threads', { int: true, min: 1, max: 256 }),
    chat: !!values.chat, json: !!values.json, noBos: !!values['no-bos'],
    promptTokens: number(values['prompt-tokens'], 'prompt-tokens', { int: true, min: 1 }) ?? 128,
    genTokens: number(values['gen-tokens'], 'gen-tokens', { int: true, min: 1 }) ?? 64,
    backend, browser: !!values.browser,
    ctx: number(values.ctx, 'ctx', { int: true, min: 1 }),
    noContextShift: !!values['no-context-shift'],
    noFuse: !!values['no-fuse'],
    kvType: kvTypeOption(values['kv-type']),
    memory: parseBytes(values.memory, 'memory'),
    maxMemory: parseBytes(values['max-memory'], 'max-memory'),
    host: values.host, port: number(values.port, 'port', { int: true, min: 0, max: 65535 }),
    apiKey: values['api-key'], alias: values.alias,
    grammarFile: values.grammar, jsonSchemaFile: values['json-schema'],
  };
  if (command !== 'serve' && (o.host ?? o.port ?? o.apiKey ?? o.alias) !== undefined) bad('--host, --port, --api-key and --alias are for serve.');
  if (command === 'serve' && (o.browser || o.backend !== 'wasm')) bad('serve runs in Node on the WASM backend; drop --browser and --backend webgpu.');
  if (o.host === '') bad('--host needs an address such as 127.0.0.1 or 0.0.0.0.');
  if (o.apiKey === '') bad('--api-key needs a non-empty key.');
  if (command !== 'generate' && command !== 'bench' && (o.grammarFile ?? o.jsonSchemaFile) !== undefined) bad('--grammar and --json-schema are for generate and bench.');
  if (o.grammarFile !== undefined && o.jsonSchemaFile !== undefined) bad('Give only one of --grammar FILE and --json-schema FILE.');
  if (o.grammarFile === '' || o.jsonSchemaFile === '') bad(`--${o.grammarFile === '' ? 'grammar' : 'json-schema'} needs a file path.`);
  if (command === 'generate' && o.prompt === undefined) bad('generate needs --prompt TEXT (use --prompt "" to start from BOS only).');
  if (command === 'perplexity' && !o.file) bad('perplexity needs --file TEXT_FILE.');
  if (command === 'tokenize' && (o.text === undefined) === (o.file === undefined)) bad('tokenize needs exactly one of --text TEXT or --file FILE.');
  if (command === 'fit' && o.browser) bad('fit runs in Node; drop --browser.');
  return o;
}
