// One writer per model across tabs: a download takes the model's lock (storage/model-lock.ts) and
// reports progress and its outcome on the tab channel. A tab that asks for a model another tab is
// already downloading does not start a second transfer: it follows that one (its progress, marked
// otherTab) until the lock is released, then answers from what is stored — the complete model, or,
// when the writer failed, paused or its tab was closed, the same error / a resumable partial.
import { storedBytes, type ModelManifest } from '../storage/manifest.ts';
import { tryModelLock, whenModelUnlocked } from '../storage/model-lock.ts';
import { defaultShardCache } from '../storage/shard-cache.ts';
import { abortError } from '../storage/storage-errors.ts';
import { EngineError, type ErrorCode } from '../shared/errors.ts';
import type { DownloadRequest, TransferProgress } from './api.ts';
import { onTabMessage, postTabMessage } from './tab-messages.ts';

type Progress = ((p: TransferProgress) => void) | undefined;

export async function sharedDownload(req: DownloadRequest, write: (onProgress: Progress) => Promise<ModelManifest>,
  onProgress: Progress, signal: AbortSignal): Promise<ModelManifest> {
  let failure: { code: string; message: string } | undefined;
  let following = false;
  // Listening starts before the lock is tried, so the writer's outcome cannot slip by.
  const stop = onTabMessage((msg) => {
    if (following && msg.type === 'progress' && msg.id === req.id) onProgress?.({ ...msg.progress, otherTab: true });
    if (msg.type === 'failed' && msg.id === req.id) failure = msg;
  });
  try {
    const r = await tryModelLock(req.id, () => writeAndTell(req, write, onProgress));
    if (!r.busy) return r.value;
    following = true;
    const before = await defaultShardCache().getManifest(req.id);
    const file = before?.files[0];
    onProgress?.({ loaded: file ? storedBytes(file) : 0, total: file?.size ?? req.size ?? 0, bytesPerSec: 0, etaSec: Infinity, otherTab: true });
    try {
      await whenModelUnlocked(req.id, signal);
    } catch (e) {
      if (signal.aborted) throw abortError(`Following the download of ${req.name}`);
      throw e;
    }
    const m = await defaultShardCache().getManifest(req.id);
    if (m?.complete && m.source.url === req.url) return m;
    if (m?.complete) throw new EngineError('BAD_ARGUMENT', `A different model with id "${req.id}" is already stored.`);
    if (failure && failure.code !== 'ABORTED') throw new EngineError(failure.code as ErrorCode, failure.message);
    throw new EngineError('ABORTED',
      `The download of ${req.name} in another tab stopped (paused there, or that tab was closed). Resume continues it here.`);
  } finally {
    stop();
  }
}

async function writeAndTell(req: DownloadRequest, write: (onProgress: Progress) => Promise<ModelManifest>,
  onProgress: Progress): Promise<ModelManifest> {
  try {
    const m = await write((p) => {
      onProgress?.(p);
      postTabMessage({ type: 'progress', id: req.id, progress: p });
    });
    postTabMessage({ type: 'done', id: req.id });
    return m;
  } catch (e) {
    const code = e instanceof EngineError ? e.code : 'IO';
    postTabMessage({ type: 'failed', id: req.id, code, message: (e as Error).message ?? String(e) });
    throw e;
  }
}
