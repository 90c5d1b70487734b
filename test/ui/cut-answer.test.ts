// An answer cut off by the engine worker's death keeps its text and is marked interrupted (stored so
// with the conversation); other errors stay errors.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/shared/errors.ts';
import type { ChatItem } from '../../src/ui/state/conversations.ts';
import { endedByError } from '../../src/ui/state/cut-answer.ts';

const reply: ChatItem = { id: 'a1', role: 'assistant', content: 'Once upon a time there', model: 'm' };

describe('endedByError', () => {
  it('a dead worker (WORKER_LOST, as it arrives through Comlink: a plain Error with code) marks the answer interrupted', () => {
    const crossed = Object.assign(new Error('The engine stopped: it was ended by the browser.'), { code: 'WORKER_LOST' });
    for (const e of [crossed, new EngineError('WORKER_LOST', 'gone')]) {
      const item = endedByError(reply, e);
      expect(item).toEqual({ ...reply, interrupted: 'engine-stopped' });
      expect(item.error).toBeUndefined();
      // survives the trip to IndexedDB (structured clone) unchanged
      expect(structuredClone(item)).toEqual(item);
    }
  });

  it('any other failure is the answer\'s error, text kept, not marked interrupted', () => {
    const item = endedByError(reply, new EngineError('CONTEXT_FULL', 'The conversation is longer than the context.'));
    expect(item).toEqual({ ...reply, error: 'The conversation is longer than the context.' });
    expect(endedByError(reply, 'odd')).toEqual({ ...reply, error: 'odd' });
  });
});
