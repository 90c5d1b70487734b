// A backend that dies mid-generation (as a lost WebGPU device does): the session switches to a
// fresh backend, rebuilds the KV cache from its history and finishes the same answer.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.ts';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { openNodeFiles } from '../../src/formats/node-file-source.ts';
import { loadModel, type LoadedModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { fixture } from '../fixtures.ts';
import { llamaGreedyIds } from '../llama-greedy.ts';

const stories = fixture('models', 'stories260K.gguf');

/** Wraps a backend so that its n-th matmul throws the error a lost device produces. */
function dying(b: Backend, n: number): Backend {
  let calls = 0;
  return new Proxy(b, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop !== 'matmul') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: Parameters<Backend['matmul']>) => {
        if (++calls === n) throw new EngineError('BACKEND', 'GPU device lost');
        return target.matmul(...args);
      };
    },
  });
}

async function answer(s: Session, prompt: readonly number[]) {
  for await (const ev of s.generate(prompt, { maxTokens: 60, sampling: { temperature: 0 } })) {
    if (ev.type === 'done') return ev;
  }
  throw new Error('no done event');
}
const text = async (s: Session, prompt: string): Promise<string> => (await answer(s, s.promptIds(prompt))).text;

describe('backend failure during generation', () => {
  it('falls back and finishes the same answer, then keeps the conversation', async () => {
    const open = async (wrap = (b: Backend) => b) =>
      loadModel(await openNodeFiles(stories), wrap(await createWasmBackend({ threads: 1 })));
    const ref = await open();
    const expected = await text(new Session(ref), 'Once upon a time');
    await ref.dispose();

    const failing = await open((b) => dying(b, 5 * 7 * 20)); // dies around the 20th decoded token
    const reasons: string[] = [];
    const s = new Session(failing, async (e) => {
      reasons.push(e.message);
      await failing.dispose();
      return open();
    });
    expect(await text(s, 'Once upon a time')).toBe(expected);
    expect(reasons).toEqual(['GPU device lost']);
    expect(s.model).not.toBe(failing);
    // the next turn reuses the rebuilt cache on the new backend
    const prompt = s.promptIds(`Once upon a time${expected} The end.`);
    const next = await answer(s, prompt);
    expect(next.ids).toEqual((await llamaGreedyIds(stories, prompt, 60)).ids);
    expect(next.stats.promptTokens).toBe(prompt.length);
    expect(next.stats.prefilledTokens).toBeLessThan(prompt.length);
    await s.model.dispose();
  });

  it('without a recovery path the typed error reaches the caller', async () => {
    const m = await loadModel(await openNodeFiles(stories), dying(await createWasmBackend({ threads: 1 }), 3));
    await expect(text(new Session(m), 'Hi')).rejects.toMatchObject({ code: 'BACKEND' });
    await m.dispose();
  });
});
