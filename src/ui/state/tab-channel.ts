// The UI side of the tab channel (worker/tab-messages.ts): a hook that calls the latest handler
// with every message another tab (or this tab's worker) posts.
import { useEffect, useRef } from 'react';
import { onTabMessage, type TabMessage } from '../../worker/tab-messages.ts';

export function useTabMessages(handler: (msg: TabMessage) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => onTabMessage((msg) => latest.current(msg)), []);
}
