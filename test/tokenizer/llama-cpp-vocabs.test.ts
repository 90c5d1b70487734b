// llama.cpp's own vocab files and tokenizer vectors at the commit node-llama-cpp 3.22.1 ships
// (models/ggml-vocab-*.gguf + .inp/.out, MIT; read from the bundled git repo, see llama-cpp-models.ts):
// every case of every SPM/BPE vocab must encode to exactly llama.cpp's ids and decode back.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/shared/errors.ts';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { ggufMetadata } from './helpers.ts';
import { llamaCppModelFile, llamaCppSource, llamaCppVocab } from './llama-cpp-models.ts';

// Case counts as committed upstream (qwen35 and gemma-4 have their own input sets).
const VOCABS: [string, number][] = [
  ['llama-spm', 46], ['phi-3', 46], ['gpt-2', 46], ['deepseek-llm', 46], ['deepseek-coder', 46], ['falcon', 46],
  ['llama-bpe', 46], ['qwen2', 46], ['qwen35', 50], ['command-r', 46], ['mpt', 46], ['refact', 46], ['starcoder', 46],
  ['gemma-4', 45],
];

const source = llamaCppSource();
if (!source.dir) console.warn(`SKIPPED llama.cpp vocab vectors: ${source.why}`);

describe.skipIf(!source.dir).each(VOCABS)('llama.cpp models/ggml-vocab-%s.gguf', (name, count) => {
  const vocab = source.dir ? llamaCppVocab(name) : null;
  const cases = vocab?.cases ?? [];
  const tok = vocab ? tokenizerFromGGUF(ggufMetadata(vocab.file)) : undefined;

  it(`has all ${count} cases`, () => {
    expect(cases.length).toBe(count);
  });

  it.each(cases.map((c, i) => [i, c] as const))('case %i encodes like llama.cpp', (_i, c) => {
    expect(tok!.encode(c.text, { parseSpecial: false })).toEqual(c.ids);
  });

  it('decodes llama.cpp ids back to every input', () => {
    for (const c of cases) expect(tok!.decode(c.ids), JSON.stringify(c.text)).toBe(c.text);
  });
});

describe.skipIf(!source.dir)('llama.cpp vocab types we do not run', () => {
  it('rejects WordPiece (bert-bge, nomic-bert-moe) with a typed error', () => {
    for (const name of ['bert-bge', 'nomic-bert-moe']) {
      const meta = ggufMetadata(llamaCppModelFile(`ggml-vocab-${name}.gguf`)!);
      expect(() => tokenizerFromGGUF(meta)).toThrow(EngineError);
    }
  });
});

describe.skipIf(!source.dir)('gemma-4 (SentencePiece-style BPE) special handling as llama.cpp', () => {
  it('forces add_bos, reads BOS/EOS from the file, and turns ▁ back into spaces', () => {
    const tok = tokenizerFromGGUF(ggufMetadata(llamaCppModelFile('ggml-vocab-gemma-4.gguf')!));
    expect([tok.bosId, tok.eosId, tok.addBos]).toEqual([2, 1, true]);
    const ids = tok.encode(' Hello  world\n\n\n x');
    expect(tok.decode(ids)).toBe(' Hello  world\n\n\n x');
    // a run of newlines that is a token is taken whole, not merged pair by pair
    expect(ids.filter((id) => tok.tokenText(id).includes('\n')).map((id) => tok.tokenText(id))).toEqual(['\n\n\n']);
  });
});
