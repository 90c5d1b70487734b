// The engine client, shared through React context (one worker per page).
import { createContext, useContext } from 'react';
import type { EngineClient } from '../../worker/api.ts';

export const EngineContext = createContext<EngineClient | null>(null);

export function useEngine(): EngineClient {
  const engine = useContext(EngineContext);
  if (!engine) throw new Error('useEngine outside <EngineContext.Provider>');
  return engine;
}
