// The tab channel's messages (worker/tab-messages.ts): what parses, what is ignored, and a real
// BroadcastChannel round trip (Node has the same API as the browser).
import { describe, expect, it } from 'vitest';
import { onTabMessage, parseTabMessage, postTabMessage, TAB_CHANNEL, type TabMessage } from '../../src/worker/tab-messages.ts';

describe('tab messages', () => {
  it('parses every message type and drops extra fields', () => {
    const progress = { loaded: 5, total: 10, bytesPerSec: 1, etaSec: Infinity };
    expect(parseTabMessage({ type: 'progress', id: 'm', progress, extra: 1 })).toEqual({ type: 'progress', id: 'm', progress });
    expect(parseTabMessage({ type: 'done', id: 'm' })).toEqual({ type: 'done', id: 'm' });
    expect(parseTabMessage({ type: 'deleted', id: 'm' })).toEqual({ type: 'deleted', id: 'm' });
    expect(parseTabMessage({ type: 'failed', id: 'm', code: 'IO', message: 'x' })).toEqual({ type: 'failed', id: 'm', code: 'IO', message: 'x' });
    expect(parseTabMessage({ type: 'models-changed' })).toEqual({ type: 'models-changed' });
    expect(parseTabMessage({ type: 'conversations-changed', id: 'c', deleted: true })).toEqual({ type: 'conversations-changed', id: 'c', deleted: true });
    expect(parseTabMessage({ type: 'conversations-changed', id: 'c', deleted: 'yes' })).toEqual({ type: 'conversations-changed', id: 'c' });
  });

  it('ignores what another build or another script might post', () => {
    for (const bad of [null, 'done', 42, {}, { type: 'done' }, { type: 'done', id: 3 }, { type: 'progress', id: 'm', progress: { loaded: '5' } },
      { type: 'progress', id: 'm', progress: { loaded: NaN, total: 1, bytesPerSec: 0, etaSec: 0 } }, { type: 'failed', id: 'm', code: 'IO' }, { type: 'reload-all' }]) {
      expect(parseTabMessage(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('delivers posted messages to other listeners, and not the ones that do not parse', async () => {
    const got: TabMessage[] = [];
    const stop = onTabMessage((m) => got.push(m));
    const raw = new BroadcastChannel(TAB_CHANNEL);
    raw.postMessage({ type: 'bogus' });
    raw.close();
    postTabMessage({ type: 'deleted', id: 'gone' });
    await expect.poll(() => got).toEqual([{ type: 'deleted', id: 'gone' }]);
    stop();
  });
});
