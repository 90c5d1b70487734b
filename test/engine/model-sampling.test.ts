// The model's sampler defaults apply where the caller leaves a setting unset (llama.cpp's order:
// the user's value, else general.sampling.*, else the built-in default). The GGUF here is the one
// convert writes from a folder whose generation_config.json sets them; llama.cpp's own GGUF reader
// (node-llama-cpp) confirms the keys are where llama.cpp looks.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { convertToFile } from '../../src/cli/convert.ts';
import { loadModel } from '../../src/engine/load.ts';
import { modelSamplingDefaults } from '../../src/engine/model-sampling.ts';
import { DEFAULT_SAMPLING, resolveSamplingParams, Sampler } from '../../src/engine/sampling.ts';
import { Session } from '../../src/engine/session.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'model-sampling-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('sampling precedence', () => {
  it('caller > model > built-in default, field by field', () => {
    const model = { temperature: 0.3, topK: 20, presencePenalty: 0.5 };
    expect(resolveSamplingParams({ temperature: 1.1, topK: undefined }, model)).toEqual({
      ...DEFAULT_SAMPLING, temperature: 1.1, topK: 20, presencePenalty: 0.5,
    });
    expect(resolveSamplingParams({}, {})).toEqual(DEFAULT_SAMPLING);
    expect(new Sampler({ topP: 0.5 }, 10, model).params).toMatchObject({ temperature: 0.3, topK: 20, topP: 0.5, minP: DEFAULT_SAMPLING.minP });
  });

  it('metadata values the sampler would refuse are left out; penalty_last_n -1 is the whole context', () => {
    const metadata = new Map<string, unknown>([
      ['general.sampling.temp', 0.6], ['general.sampling.top_p', 1.7], ['general.sampling.top_k', 2.5],
      ['general.sampling.penalty_last_n', -1], ['general.sampling.min_p', 'x'],
    ]);
    expect(modelSamplingDefaults({ metadata } as never, 512)).toEqual({ temperature: 0.6, repeatLastN: 512 });
  });
});

describe('a GGUF with general.sampling.* keys', () => {
  it('its values become the session\'s defaults; the caller\'s own values still win', async () => {
    const hf = path.join(tmp, 'hf');
    cpSync(fixture('models', 'TinyStories-656K'), hf, { recursive: true });
    writeFileSync(path.join(hf, 'generation_config.json'), JSON.stringify({
      bos_token_id: 1, eos_token_id: 2, temperature: 0, top_k: 7, top_p: 0.8, min_p: 0.02, repetition_penalty: 1.3,
    }));
    const gguf = path.join(tmp, 'ts.F32.gguf');
    await convertToFile(hf, gguf, 'F32', { threads: 2 });
    const info = await readGgufFileInfo(gguf, { readTensorInfo: false });
    const sampling = (info.metadata.general as unknown as { sampling: Record<string, number> }).sampling;
    expect(sampling).toMatchObject({ temp: 0, top_k: 7, top_p: expect.closeTo(0.8, 6), min_p: expect.closeTo(0.02, 6), penalty_repeat: expect.closeTo(1.3, 6) });

    const m = await loadModel(await openNodeFile(gguf), await createWasmBackend({ threads: 2 }));
    try {
      expect(m.samplingDefaults).toMatchObject({ temperature: 0, topK: 7, topP: expect.closeTo(0.8, 6), minP: expect.closeTo(0.02, 6), repeatPenalty: expect.closeTo(1.3, 6) });
      const run = async (sampling?: object) => {
        const s = new Session(m);
        for await (const ev of s.generate(s.promptIds('Once upon a time'), { maxTokens: 16, sampling })) if (ev.type === 'done') return ev.ids;
        throw new Error('no done event');
      };
      // the model's temperature 0 makes an unset temperature greedy: two runs agree with an explicit greedy one
      const greedy = await run({ temperature: 0 });
      expect(await run()).toEqual(greedy);
      expect(await run()).toEqual(greedy);
      // an explicit temperature wins over the model's
      expect(await run({ temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 3 })).not.toEqual(greedy);
    } finally {
      await m.dispose();
    }
  }, 60_000);
});
