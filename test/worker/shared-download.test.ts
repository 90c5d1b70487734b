// One writer per model (worker/shared-download.ts), in Node: the in-process lock and Node's own
// BroadcastChannel stand in for Web Locks and the browser's channel. A second download of a model
// being written follows the first: its progress (marked otherTab), then its result or its error.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../src/storage/manifest.ts';
import { defaultShardCache } from '../../src/storage/shard-cache.ts';
import { HttpError } from '../../src/storage/storage-errors.ts';
import { EngineError } from '../../src/shared/errors.ts';
import type { DownloadRequest, TransferProgress } from '../../src/worker/api.ts';
import { sharedDownload } from '../../src/worker/shared-download.ts';

type Write = (onProgress: ((p: TransferProgress) => void) | undefined) => Promise<ModelManifest>;

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { open, opened };
}

const p = (loaded: number): TransferProgress => ({ loaded, total: 100, bytesPerSec: 1, etaSec: 1 });

/** A writer that reports 10 bytes, waits for `release`, then stores an empty complete model (or throws `fail`). */
function writer(req: DownloadRequest, release: Promise<void>, fail?: Error): { write: Write; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    write: async (onProgress) => {
      calls++;
      onProgress?.(p(10));
      await release;
      onProgress?.(p(100));
      if (fail) throw fail;
      const cache = defaultShardCache();
      await cache.createModel({ id: req.id, name: req.name, files: [{ name: 'x.gguf', size: 0 }], source: { kind: 'url', url: req.url } });
      return cache.markComplete(req.id);
    },
  };
}

async function followWhileWriting(req: DownloadRequest, fail?: Error) {
  const release = gate();
  const first = writer(req, release.opened, fail);
  const second = writer(req, Promise.resolve());
  const seen: TransferProgress[] = [];
  const writing = sharedDownload(req, first.write, undefined, new AbortController().signal);
  await new Promise((r) => setTimeout(r, 20));
  const following = sharedDownload(req, second.write, (x) => seen.push(x), new AbortController().signal);
  await expect.poll(() => seen.length).toBeGreaterThan(0);
  release.open();
  return { writing, following, seen, secondCalls: second.calls };
}

describe('sharedDownload', () => {
  it('a second download of the same model follows the writer and ends with its stored model', async () => {
    const req = { id: 'shared-ok', url: 'https://example.test/ok.gguf', name: 'ok' };
    const { writing, following, seen, secondCalls } = await followWhileWriting(req);
    expect((await writing).complete).toBe(true);
    expect(await following).toMatchObject({ id: 'shared-ok', complete: true, source: { url: req.url } });
    expect(secondCalls()).toBe(0);
    expect(seen.every((x) => x.otherTab)).toBe(true);
    await expect.poll(() => seen.at(-1)?.loaded).toBe(100);
  });

  it('the follower ends with the writer’s error, code and message', async () => {
    const req = { id: 'shared-404', url: 'https://example.test/missing.gguf', name: 'missing' };
    const { writing, following } = await followWhileWriting(req, new HttpError(req.url, 404, 'Not Found'));
    await expect(writing).rejects.toBeInstanceOf(HttpError);
    await expect(following).rejects.toMatchObject({ code: 'IO', message: `Download failed: ${req.url} answered HTTP 404 Not Found.` });
  });

  it('a writer that stopped leaves the follower a resumable ABORTED, and the next call writes', async () => {
    const req = { id: 'shared-paused', url: 'https://example.test/p.gguf', name: 'paused' };
    const { writing, following } = await followWhileWriting(req, new EngineError('ABORTED', 'paused'));
    await expect(writing).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(following).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('in another tab stopped') });
    const again = writer(req, Promise.resolve());
    await expect(sharedDownload(req, again.write, undefined, new AbortController().signal)).resolves.toMatchObject({ complete: true });
    expect(again.calls()).toBe(1);
  });
});
