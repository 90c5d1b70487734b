// Which engine answers: this device (our engine, in a worker), a remote OpenAI-compatible server, or
// WebLLM. Conversations and stats stay the same whichever answers.
import type { ChatEngine, EngineKind, EngineModel } from '../../worker/api.ts';
import type { Remote } from '../hooks/use-remote.ts';
import { RemotePanel } from './RemotePanel.tsx';
import { WebLLMPanel } from './WebLLMPanel.tsx';

const KINDS: { kind: EngineKind; label: string; note: string }[] = [
  { kind: 'local', label: 'This device', note: 'GGUF models run in this browser (WebGPU or WASM); nothing leaves it. Pick or add models under Models.' },
  { kind: 'remote', label: 'Remote server', note: 'An OpenAI-compatible server on your network answers: a bigger model, or one spread over several boards.' },
  { kind: 'webllm', label: 'WebLLM', note: 'MLC\'s compiled model libraries on this device\'s GPU.' },
];

export function EnginePanel({ kind, onKind, remote, onWebllm, busy }: {
  kind: EngineKind; onKind(kind: EngineKind): void; remote: Remote;
  onWebllm(engine: ChatEngine, model: EngineModel | null): void; busy: boolean;
}) {
  return (
    <div className="settings engine">
      <fieldset className="engine-kinds" disabled={busy}>
        <legend className="small muted">Who answers</legend>
        {KINDS.map((k) => (
          <label key={k.kind} className="field row engine-kind">
            <span>{k.label}</span>
            <input type="radio" name="engine" value={k.kind} checked={kind === k.kind} data-testid={`engine-${k.kind}`}
              onChange={() => onKind(k.kind)} />
          </label>
        ))}
      </fieldset>
      <p className="small muted">{KINDS.find((k) => k.kind === kind)?.note}</p>
      {kind === 'remote' && <RemotePanel remote={remote} busy={busy} />}
      {/* mounted only when chosen: mounting it is what imports @mlc-ai/web-llm */}
      {kind === 'webllm' && <WebLLMPanel onModel={onWebllm} />}
    </div>
  );
}
