// Opens a GGUF, checks that we can run it, and builds tokenizer + weights + decoder on a backend.
import type { Backend } from '../backends/backend.ts';
import type { KVType } from '../backends/kv-layout.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { openGGUF, type GGUFFile } from '../formats/gguf/reader.ts';
import { DEFAULT_MAX_BATCH, Decoder } from '../models/decoder.ts';
import type { HParams } from '../models/hparams.ts';
import { defaultContext } from '../models/memory.ts';
import { checkModelSupport } from '../models/support.ts';
import { loadWeights, type LoadProgress } from '../models/weights.ts';
import type { ArchSpec } from '../models/arch.ts';
import { tokenizerFromGGUF } from '../tokenizer/from-gguf.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { EngineError } from '../shared/errors.ts';

export interface LoadOptions {
  /** context length; default min(training context, 4096) */
  nCtx?: number;
  maxBatch?: number;
  /** KV cache element type; default f16 (as llama.cpp) */
  kvType?: KVType;
  onProgress?: LoadProgress;
}

export interface LoadedModel {
  file: GGUFFile;
  h: HParams;
  arch: ArchSpec;
  tokenizer: Tokenizer;
  decoder: Decoder;
  /** `tokenizer.chat_template`, if the file has one */
  chatTemplate: string | null;
  dispose(): Promise<void>;
}

/** Reads only the header: tokenizer and metadata (vocab-only GGUFs work here). */
export async function openTokenizer(sources: ByteSource | ByteSource[]): Promise<{ file: GGUFFile; tokenizer: Tokenizer }> {
  const file = await openGGUF(sources);
  return { file, tokenizer: tokenizerFromGGUF(file.metadata) };
}

export async function loadModel(sources: ByteSource | ByteSource[], backend: Backend, opts: LoadOptions = {}): Promise<LoadedModel> {
  const file = await openGGUF(sources);
  try {
    const { arch, h, tokenizer } = checkModelSupport(file);
    const nCtx = opts.nCtx ?? defaultContext(h);
    if (!Number.isInteger(nCtx) || nCtx < 1) throw new EngineError('BAD_ARGUMENT', `Context length must be a positive integer (got ${nCtx}).`);
    const kvType = opts.kvType ?? 'f16';
    if (kvType === 'q8_0' && h.headDim % 32 !== 0) {
      // as llama.cpp: a quantized cache's 32-value blocks must not straddle heads
      throw new EngineError('BAD_ARGUMENT', `A q8_0 KV cache needs heads of whole 32-value blocks; this model's heads have ${h.headDim} values (use an f16 KV cache).`);
    }
    const weights = await loadWeights(file, h, arch, backend, opts.onProgress);
    const decoder = new Decoder(backend, h, arch, weights, {
      nCtx, maxBatch: Math.min(opts.maxBatch ?? DEFAULT_MAX_BATCH, nCtx), kvType,
    });
    const tpl = file.metadata.get('tokenizer.chat_template');
    return {
      file, h, arch, tokenizer, decoder,
      chatTemplate: typeof tpl === 'string' ? tpl : null,
      dispose: async () => { backend.dispose(); await file.close(); },
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}
