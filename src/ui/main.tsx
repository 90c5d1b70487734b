import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngineClient } from '../worker/client.ts';
import { App } from './App.tsx';
import { EngineContext } from './hooks/engine.ts';
import './styles.css';

const engine = createEngineClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <EngineContext.Provider value={engine}>
      <App />
    </EngineContext.Provider>
  </StrictMode>,
);
