// Split GGUFs (gguf-split layout) and the Blob / HTTP-range byte sources, against the single-file read.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGGUF, sortSplitNames, type GGUFFile } from '../../src/formats/gguf/reader.ts';
import { writeGGUF, type WriterEntry } from '../../src/formats/gguf/writer.ts';
import { ValueType } from '../../src/formats/gguf/constants.ts';
import { openNodeFile, openNodeFiles } from '../../src/formats/node-file-source.ts';
import { blobSource } from '../../src/formats/blob-source.ts';
import { urlSource } from '../../src/formats/url-source.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { fixture } from '../fixtures.ts';

const stories = fixture('models', 'stories260K.gguf');
const bytes = readFileSync(stories);

async function tensorsOf(f: GGUFFile) {
  return Promise.all(f.tensors.map(async (t) => ({ name: t.name, type: t.type, shape: t.shape, byteSize: t.byteSize, data: await f.readTensor(t) })));
}

/** Writes stories260K as n split parts the way llama.cpp's gguf-split lays them out. */
async function writeSplit(dir: string, n: number): Promise<string[]> {
  const f = await openGGUF(await openNodeFile(stories));
  const tensors = await tensorsOf(f);
  const meta: WriterEntry[] = [...f.metadata].map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
  const u16 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.UINT16 } });
  const i32 = (key: string, value: number): WriterEntry => ({ key, value, type: { type: ValueType.INT32 } });
  const per = Math.ceil(tensors.length / n);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const split = [u16('split.no', i), u16('split.count', n), i32('split.tensors.count', tensors.length)];
    const file = path.join(dir, `stories-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.gguf`);
    writeFileSync(file, writeGGUF(i === 0 ? [...meta, ...split] : split, tensors.slice(i * per, (i + 1) * per)));
    files.push(file);
  }
  await f.close();
  return files;
}

describe('split files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'split-'));
  let parts: string[];
  beforeAll(async () => { parts = await writeSplit(dir, 3); });

  it('merges the tensor table of all parts and reads identical tensor bytes', async () => {
    const whole = await openGGUF(await openNodeFile(stories));
    const split = await openGGUF(await openNodeFiles(parts[1])); // any part finds its siblings
    expect(split.tensors.map((t) => t.name)).toEqual(whole.tensors.map((t) => t.name));
    expect(new Set(split.tensors.map((t) => t.fileIndex))).toEqual(new Set([0, 1, 2]));
    for (const t of whole.tensors) {
      const same = Buffer.compare(await split.readTensor(split.tensor(t.name)!), await whole.readTensor(t)) === 0;
      expect(same, t.name).toBe(true);
    }
    expect(split.metadata.get('general.architecture')).toBe('llama');
  });

  it('a split model generates the same text as the single file', async () => {
    const greedy = async (file: string) => {
      const m = await loadModel(await openNodeFiles(file), await createWasmBackend({ threads: 1 }));
      const s = new Session(m);
      let text = '';
      for await (const ev of s.generate(s.promptIds('Once upon a time'), { maxTokens: 30, sampling: { temperature: 0 } })) {
        if (ev.type === 'done') text = ev.text;
      }
      await m.dispose();
      return text;
    };
    const text = await greedy(parts[0]);
    expect(text.startsWith(', there was a little girl named Lily.')).toBe(true); // llama.cpp's greedy text
    expect(text).toBe(await greedy(stories));
  });

  it('missing or misordered parts are clear errors', async () => {
    await expect(openGGUF([await openNodeFile(parts[0]), await openNodeFile(parts[1])])).rejects.toThrow(/split into 3 files/);
    await expect(openGGUF([await openNodeFile(parts[1]), await openNodeFile(parts[0]), await openNodeFile(parts[2])]))
      .rejects.toThrow(/expected part 1/);
    expect(sortSplitNames(['m-00003-of-00003.gguf', 'm-00001-of-00003.gguf', 'm-00002-of-00003.gguf']))
      .toEqual(['m-00001-of-00003.gguf', 'm-00002-of-00003.gguf', 'm-00003-of-00003.gguf']);
  });
});

describe('byte sources', () => {
  let server: Server;
  let base = '';
  let requests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.headers.range ?? 'none');
      if (req.url === '/norange.gguf') { res.writeHead(200); res.end(bytes); return; }
      if (req.url !== '/stories.gguf') { res.writeHead(404); res.end(); return; }
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
      if (!m) { res.writeHead(200, { 'Content-Length': bytes.length }); res.end(bytes); return; }
      const [a, b] = [Number(m[1]), Math.min(Number(m[2]), bytes.length - 1)];
      res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.length}`, 'Content-Length': b - a + 1 });
      res.end(bytes.subarray(a, b + 1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('Blob and URL sources read the same header and tensors as the file', async () => {
    const ref = await openGGUF(await openNodeFile(stories));
    requests = [];
    for (const src of [blobSource(new Blob([bytes]), 'stories.gguf'), await urlSource(`${base}/stories.gguf`)]) {
      const f = await openGGUF(src);
      expect(f.tensors).toEqual(ref.tensors);
      const t = ref.tensor('blk.4.ffn_down.weight')!;
      expect(Buffer.compare(await f.readTensor(f.tensor(t.name)!), await ref.readTensor(t))).toBe(0);
    }
    expect(requests.every((r) => r.startsWith('bytes='))).toBe(true); // never the whole file
  });

  it('URL source errors: 404 and servers without range support', async () => {
    await expect(urlSource(`${base}/missing.gguf`)).rejects.toThrow(/HTTP 404/);
    await expect(urlSource(`${base}/norange.gguf`)).rejects.toThrow(/range requests/);
  });
});
