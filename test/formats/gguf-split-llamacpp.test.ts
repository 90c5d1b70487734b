// The split reader on sets written by llama.cpp's own llama-gguf-split (not by our writer): every
// tensor reads the same bytes as the unsplit file, the metadata is the same apart from split.*, the
// Node opener finds the parts from any one of them, an import stores the set, and our perplexity
// on the split set equals llama.cpp's figure for the file (quant/llamacpp-refs.json).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { openGGUF, type GGUFFile } from '../../src/formats/gguf/reader.ts';
import { openNodeFile, openNodeFiles } from '../../src/formats/node-file-source.ts';
import { importModelFiles } from '../../src/storage/import-file.ts';
import { defaultShardCache } from '../../src/storage/shard-cache.ts';
import { fixture } from '../fixtures.ts';
import { llamaBinDir } from '../llama-server.ts';

const refs = JSON.parse(readFileSync(fixture('quant', 'llamacpp-refs.json'), 'utf8')) as Record<string, { ppl: number }>;
const sample = readFileSync(fixture('quant', 'sample.txt'), 'utf8');
const dir = mkdtempSync(path.join(tmpdir(), 'gguf-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** llama-gguf-split --split of `file` into parts of at most `maxTensors` tensors; the part paths in order. */
function llamaSplit(file: string, maxTensors: number, extra: string[] = []): string[] {
  const base = path.join(dir, `${path.basename(file, '.gguf')}-${maxTensors}${extra.length ? '-nt' : ''}`);
  execFileSync(path.join(llamaBinDir(), 'llama-gguf-split'), ['--split', '--split-max-tensors', String(maxTensors), ...extra, file, base], { stdio: 'ignore' });
  const prefix = path.basename(base);
  return readdirSync(dir).filter((n) => n.startsWith(`${prefix}-`) && /-\d{5}-of-\d{5}\.gguf$/.test(n)).sort().map((n) => path.join(dir, n));
}

const withoutSplitKeys = (f: GGUFFile) => [...f.metadata].filter(([k]) => !k.startsWith('split.'));

describe('split sets written by llama-gguf-split', () => {
  for (const [name, maxTensors, extra] of [['dev-llama.Q4_K_M.gguf', 7, []], ['dev-qwen2-tied.Q8_0.gguf', 5, ['--no-tensor-first-split']]] as const) {
    it(`${name} in parts of ≤ ${maxTensors} tensors${extra.length ? ', metadata alone in part 1' : ''}: same tensors, metadata and llama.cpp's perplexity`, async () => {
      const file = fixture('quant', name);
      const parts = llamaSplit(file, maxTensors, [...extra]);
      const whole = await openGGUF(await openNodeFile(file));
      const split = await openGGUF(await openNodeFiles(parts.at(-1)!)); // any part finds its siblings
      expect(parts.length).toBe(Math.ceil(whole.tensors.length / maxTensors) + (extra.length ? 1 : 0));
      expect(split.tensors.map((t) => [t.name, t.type, t.shape])).toEqual(whole.tensors.map((t) => [t.name, t.type, t.shape]));
      expect(new Set(split.tensors.map((t) => t.fileIndex)).size).toBe(Math.ceil(whole.tensors.length / maxTensors));
      for (const t of whole.tensors) {
        expect(Buffer.compare(await split.readTensor(split.tensor(t.name)!), await whole.readTensor(t)), t.name).toBe(0);
      }
      expect(withoutSplitKeys(split)).toEqual(withoutSplitKeys(whole));
      expect(split.metadata.get('split.count')).toBe(parts.length);
      await Promise.all([whole.close(), split.close()]);

      const m = await loadModel(await openNodeFiles(parts[0]), await createWasmBackend({ threads: 1 }));
      try {
        const t = m.tokenizer;
        const { ppl } = await new Session(m).perplexity([...(t.addBos ? [t.bosId!] : []), ...t.encode(sample)]);
        expect(Math.abs(Math.log(ppl) - Math.log(refs[name].ppl))).toBeLessThan(0.01);
      } finally { await m.dispose(); }
    }, 120_000);
  }

  it('the app imports the parts (any order) as one model that reads the same tensors', async () => {
    const parts = llamaSplit(fixture('quant', 'dev-llama.Q4_K_M.gguf'), 7);
    const files = parts.map((p) => new File([readFileSync(p)], path.basename(p))).reverse();
    const stored = await importModelFiles(files, {});
    expect(stored.files.map((f) => f.name)).toEqual(parts.map((p) => path.basename(p)));
    const fromCache = await openGGUF(await defaultShardCache().openModelSource(stored.id));
    const whole = await openGGUF(await openNodeFile(fixture('quant', 'dev-llama.Q4_K_M.gguf')));
    for (const t of whole.tensors) {
      expect(Buffer.compare(await fromCache.readTensor(fromCache.tensor(t.name)!), await whole.readTensor(t)), t.name).toBe(0);
    }
    await defaultShardCache().deleteModel(stored.id);
  });
});
