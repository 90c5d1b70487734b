// Two tabs saving the same conversation (ui/state/conversation-merge.ts): no turn is lost, a stale
// copy never overwrites a newer message, and a message removed on purpose stays removed.
import { describe, expect, it } from 'vitest';
import { mergeConversation } from '../../src/ui/state/conversation-merge.ts';
import type { ChatItem, Conversation } from '../../src/ui/state/conversations.ts';

const msg = (id: string, content: string, updatedAt: number, role: ChatItem['role'] = id.startsWith('u') ? 'user' : 'assistant'): ChatItem => (
  { id, role, content, updatedAt });
const conv = (messages: ChatItem[], extra: Partial<Conversation> = {}): Conversation => (
  { id: 'c', title: 'Chat', createdAt: 1, updatedAt: Math.max(1, ...messages.map((m) => m.updatedAt ?? 0)), messages, ...extra });
const ids = (c: Conversation) => c.messages.map((m) => `${m.id}:${m.content}`);

describe('mergeConversation', () => {
  const u1 = msg('u1', 'hi', 10);
  const a1 = msg('a1', 'hello', 11);

  it('takes the new record when nothing is stored', () => {
    const mine = conv([u1, a1]);
    expect(mergeConversation(undefined, mine)).toBe(mine);
  });

  it('keeps both tabs’ turns when each added one to the same older copy', () => {
    const stored = conv([u1, a1, msg('u2', 'from A', 20), msg('a2', 'answer A', 21)]);
    const mine = conv([u1, a1, msg('u3', 'from B', 22), msg('a3', 'answer B', 23)]);
    const merged = mergeConversation(stored, mine);
    expect(ids(merged)).toEqual(['u1:hi', 'a1:hello', 'u2:from A', 'a2:answer A', 'u3:from B', 'a3:answer B']);
    expect(merged.updatedAt).toBe(23);
  });

  it('keeps the finished answer when a tab saves a stale, still empty copy of it', () => {
    const stored = conv([u1, a1, msg('u2', 'q', 20), msg('a2', 'the full answer', 30)]);
    const stale = conv([u1, a1, msg('u2', 'q', 20), msg('a2', '', 21), msg('u3', 'next', 31)]);
    expect(ids(mergeConversation(stored, stale))).toEqual(['u1:hi', 'a1:hello', 'u2:q', 'a2:the full answer', 'u3:next']);
  });

  it('takes this tab’s newer edit of a message both copies hold', () => {
    const stored = conv([u1, a1]);
    const mine = conv([msg('u1', 'edited', 40)]);
    expect(ids(mergeConversation(stored, mine))[0]).toBe('u1:edited');
  });

  it('does not bring back a message removed on purpose, nor lose the tombstone', () => {
    const stored = conv([u1, a1, msg('a-old', 'old answer', 12)]);
    const regenerated = conv([u1, msg('a-new', 'new answer', 50)], { removed: ['a1', 'a-old'] });
    const merged = mergeConversation(stored, regenerated);
    expect(ids(merged)).toEqual(['u1:hi', 'a-new:new answer']);
    // the other tab, still holding the old answers, saves a new turn: they stay gone
    const otherTab = conv([u1, a1, msg('a-old', 'old answer', 12), msg('u9', 'more', 60)]);
    const again = mergeConversation(merged, otherTab);
    expect(ids(again)).toEqual(['u1:hi', 'a-new:new answer', 'u9:more']);
    expect(again.removed?.sort()).toEqual(['a-old', 'a1']);
  });
});
