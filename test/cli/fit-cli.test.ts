// `fit` as a user runs it: on a fixture file, and on a URL of which only the header's byte ranges
// may be fetched (a local server holding a Llama-3-8B header in front of 4.9 GB of absent data).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFiles, openNodeModel } from '../../src/formats/node-file-source.ts';
import { fitJson, fitModel } from '../../src/models/fit.ts';
import { checkModelSupport } from '../../src/models/support.ts';
import { fixture } from '../fixtures.ts';
import { cli } from './run-cli.ts';
import { llama3_8bHeader, type CountingSource } from '../models/llama3-8b-header.ts';

const root = path.resolve(import.meta.dirname, '../..');

const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

describe('cli fit', () => {
  it('--json on a fixture: the contract object, equal to the pre-flight run in-process', async () => {
    const model = fixture('arch', 'dev-qwen3.Q8_0.gguf');
    const r = await cli('fit', '--model', model, '--ctx', '1024', '--kv-type', 'q8_0', '--memory', '1GiB', '--threads', '2', '--json');
    expect(r.code).toBe(0);
    const j = lastJson(r.stdout);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['verdict', 'weightsBytes', 'kvBytes', 'scratchBytes', 'totalBytes', 'maxCtx']));
    const file = await openGGUF(await openNodeFiles(model));
    await file.close();
    const { h, arch } = checkModelSupport(file);
    const want = fitModel(file, h, arch, { memoryBytes: 2 ** 30 }, { backend: 'wasm', nCtx: 1024, kvType: 'q8_0', threads: 2 });
    expect(j).toEqual(fitJson(want));
    expect(j).toMatchObject({ verdict: 'fits', nCtx: 1024, kvType: 'q8_0', backend: 'wasm' });
  });

  it('people get a table and the verdict line', async () => {
    const r = await cli('fit', '--model', fixture('models', 'stories260K.gguf'), '--memory', '2.5MiB');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KV cache\s+[\d.]+ MiB$/m);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^fits with a context of at most \d+ \(2048 needs [\d.]+ MiB, the limit is 2\.5 MiB\)$/);
  });

  it('bench reports the pre-flight beside the measured peak: equal, or at most 10% above it', async () => {
    for (const m of [fixture('arch', 'dev-qwen3.Q8_0.gguf'), fixture('quant', 'dev-llama.Q5_1.gguf')]) {
      const j = lastJson((await cli('bench', '--model', m, '--threads', '2', '--prompt-tokens', '70', '--gen-tokens', '4', '--json')).stdout);
      expect(j.predictedMemoryBytes).toBeGreaterThanOrEqual(j.peakMemoryBytes);
      expect(j.predictedMemoryBytes).toBeLessThanOrEqual(j.peakMemoryBytes * 1.1);
    }
  });

  it('bad --kv-type or --memory: exit 2', async () => {
    expect((await cli('fit', '--model', 'x.gguf', '--kv-type', 'q4_0')).code).toBe(2);
    expect((await cli('fit', '--model', 'x.gguf', '--memory', 'lots')).code).toBe(2);
  });

  describe('on a URL', () => {
    let server: Server;
    let src: CountingSource;
    let served = 0;
    let base = '';
    beforeAll(async () => {
      src = (await llama3_8bHeader('Q4_K_M')).source;
      served = 0;
      server = createServer((req, res) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (!m) { res.writeHead(416).end(); return; } // a whole-file GET would be a failure of the test
        const [a, b] = [Number(m[1]), Math.min(Number(m[2]), src.size - 1)];
        void src.read(a, b - a + 1).then((bytes) => {
          served += bytes.length;
          res.writeHead(206, { 'Content-Length': bytes.length, 'Content-Range': `bytes ${a}-${b}/${src.size}` }).end(bytes);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('Llama-3-8B by URL: only header ranges are fetched; fits an 8 GiB WebGPU device, not a 4 GiB WASM one', async () => {
      const before = src.readBytes;
      const g = await cli('fit', '--model', `${base}/llama3-8b.Q4_K_M.gguf`, '--backend', 'webgpu', '--memory', '8GiB', '--json');
      expect(g.code).toBe(0);
      expect(lastJson(g.stdout)).toMatchObject({ verdict: 'fits', backend: 'webgpu', nCtx: 4096, maxCtx: 8192 });
      // the first 1 MiB, then what the parser still lacks: at most twice the 7.8 MB header, of a 4.9 GB file
      expect(served).toBeLessThanOrEqual(2 * src.headerBytes + 1);
      expect(src.maxEnd).toBeLessThanOrEqual(2 * src.headerBytes);
      expect(src.readBytes - before).toBe(served);
      const w = await cli('fit', '--model', `${base}/llama3-8b.Q4_K_M.gguf`, '--memory', '4GiB', '--json');
      expect(lastJson(w.stdout)).toMatchObject({ verdict: 'needs-streaming', backend: 'wasm' });
    });
  });
});

describe('cli with a Hugging Face folder', () => {
  const dir = fixture('arch/hf/dev-hf-mistral');
  it('fit reads the folder\'s headers: every weight counted at its stored size', async () => {
    const r = await cli('fit', '--model', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.verdict).toBe('fits');
    const file = await openNodeModel(dir);
    if (Array.isArray(file)) throw new Error('a folder opens as one model');
    const stored = file.tensors.reduce((n, t) => n + t.byteSize, 0);
    await file.close();
    // the WASM heap holds each weight as stored (bf16 here), 64-byte aligned
    expect(j.weightsBytes).toBeGreaterThanOrEqual(stored);
    expect(j.weightsBytes).toBeLessThan(stored * 1.01);
  });

  it('commands that do not take a folder yet say so (exit 1), not a directory read error', async () => {
    const q = await cli('quantize', '--in', dir, '--type', 'Q8_0', '--out', path.join(root, 'build', 'never.gguf'));
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/is a folder: quantize takes a GGUF file/);
    const b = await cli('perplexity', '--browser', '--model', dir, '--file', fixture('quant/sample.txt'));
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/is a folder: .*drop --browser/);
  });
});
