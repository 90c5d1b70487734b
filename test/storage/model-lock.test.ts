// The per-model write lock where navigator.locks is missing (Node): the in-process queue must give
// the Web Locks semantics the app relies on (storage/model-lock.ts), and imports honour it.
import { describe, expect, it } from 'vitest';
import { importModelFiles } from '../../src/storage/import-file.ts';
import { exclusiveModelWrite, modelLockName, tryModelLock, whenModelUnlocked, withModelLock } from '../../src/storage/model-lock.ts';
import { ModelBusyError } from '../../src/storage/storage-errors.ts';
import { freshCache, ggufBytes } from './helpers.ts';

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { open, opened };
}

describe('model lock', () => {
  it('names one lock per model', () => {
    expect(modelLockName('qwen3-0.6b')).toBe('edge-llm:model:qwen3-0.6b');
  });

  it('runs writers of one model one after another, and of two models side by side', async () => {
    const order: string[] = [];
    const first = gate();
    const a = withModelLock('m', async () => { order.push('a start'); await first.opened; order.push('a end'); });
    const b = withModelLock('m', async () => { order.push('b'); });
    const other = withModelLock('n', async () => { order.push('n'); });
    await other;
    expect(order).toEqual(['a start', 'n']);
    first.open();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'n', 'a end', 'b']);
  });

  it('says busy while held, refuses a second writer with MODEL_BUSY, and frees the lock after a failure', async () => {
    const held = gate();
    const holder = withModelLock('busy', () => held.opened);
    expect(await tryModelLock('busy', async () => 1)).toEqual({ busy: true });
    const refused = exclusiveModelWrite('busy', 'Busy model', async () => 1);
    await expect(refused).rejects.toBeInstanceOf(ModelBusyError);
    await expect(refused).rejects.toMatchObject({ code: 'MODEL_BUSY', message: expect.stringContaining('Busy model is being downloaded or imported in another tab') });
    let unlocked = false;
    const waiting = whenModelUnlocked('busy').then(() => { unlocked = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(unlocked).toBe(false);
    held.open();
    await holder;
    await waiting;
    await expect(withModelLock('busy', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await tryModelLock('busy', async () => 2)).toEqual({ busy: false, value: 2 });
  });

  it('gives up waiting when the signal aborts', async () => {
    const held = gate();
    const holder = withModelLock('slow', () => held.opened);
    const ctrl = new AbortController();
    const waiting = whenModelUnlocked('slow', ctrl.signal);
    ctrl.abort();
    held.open();
    await holder;
    await expect(waiting).rejects.toThrow();
  });

  it('an import of a model another writer holds is refused and stores nothing', async () => {
    const { cache, rawKeys } = freshCache();
    const held = gate();
    const holder = withModelLock('tiny', () => held.opened);
    const file = new File([ggufBytes(100_000, 7)], 'tiny.gguf');
    await expect(importModelFiles([file], { cache })).rejects.toMatchObject({ code: 'MODEL_BUSY' });
    expect(await rawKeys()).toEqual([]);
    held.open();
    await holder;
    await expect(importModelFiles([file], { cache })).resolves.toMatchObject({ id: 'tiny', complete: true });
  });
});
