// How an answer that ended in an error is kept: a dead engine worker cuts the answer off without
// any fault of the answer itself, so what had streamed stays, marked as interrupted (the worker
// is restarting meanwhile); any other error is shown as the answer's error.
import type { ChatItem } from './conversations.ts';
import { errorCode, errorMessage } from './format.ts';

export const INTERRUPTED_TEXT = 'Interrupted: the engine stopped and was restarted. The text above is what had arrived.';

/** `reply` (the text so far) as it is stored after `e` ended it. */
export function endedByError(reply: ChatItem, e: unknown): ChatItem {
  if (errorCode(e) === 'WORKER_LOST') return { ...reply, interrupted: 'engine-stopped' };
  return { ...reply, error: errorMessage(e) };
}
