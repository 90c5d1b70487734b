// This chat's options (JSON output, tools), then the settings every chat shares: system prompt, sampling,
// thinking, backend and KV cache. A sampler field left empty uses the model's own default, shown as
// the placeholder.
import type { ModelSamplingDefaults } from '../../worker/api.ts';
import type { SamplingKey, Settings } from '../state/settings.ts';
import { DEFAULT_SETTINGS } from '../state/settings.ts';
import type { JsonOutput, JsonOutputCheck } from '../state/json-output.ts';
import { choiceFromKey, choiceKey, choosableNames, namedChoice, type ToolsCheck, type ToolsOption } from '../state/tool-options.ts';

/** The active chat's JSON output option: `check` is what it would send, or why it cannot. */
export interface ChatJsonOption {
  value: JsonOutput;
  check: JsonOutputCheck | null;
  onChange(v: JsonOutput): void;
  /** an answer is streaming into this chat */
  disabled: boolean;
}

/** The active chat's tools option, likewise. */
export interface ChatToolsOption {
  value: ToolsOption;
  check: ToolsCheck | null;
  onChange(v: ToolsOption): void;
  disabled: boolean;
}

const TOOLS_PLACEHOLDER = `[{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]`;

function ToolsField({ value, check, onChange, disabled }: ChatToolsOption) {
  return (<>
    <label className="field row">
      <span>Tools (the model may call functions; you send their results)</span>
      <input type="checkbox" data-testid="tools-on" checked={value.on} disabled={disabled}
        onChange={(e) => onChange({ ...value, on: e.target.checked })} />
    </label>
    {value.on && (<>
      <label className="field">
        <span>Tools: a JSON array of OpenAI function definitions (not for WebLLM)</span>
        <textarea data-testid="tools-json" rows={8} spellCheck={false} value={value.tools} disabled={disabled}
          placeholder={TOOLS_PLACEHOLDER}
          aria-invalid={check?.ok === false || undefined} aria-describedby="tools-status"
          onChange={(e) => onChange({ ...value, tools: e.target.value })} />
        {check && !check.ok && <span id="tools-status" className="error" role="alert" data-testid="tools-error">{check.error} Send is off until it is fixed.</span>}
        {check?.ok && <span id="tools-status" className="hint" data-testid="tools-ok">{check.summary}{check.note ? ` ${check.note}` : ''}</span>}
      </label>
      <label className="field row">
        <span>Tool choice</span>
        <select data-testid="tool-choice" value={choiceKey(value.choice)} disabled={disabled}
          onChange={(e) => onChange({ ...value, choice: choiceFromKey(e.target.value) })}>
          <option value="auto">auto (the model decides)</option>
          <option value="required">required (must call one)</option>
          <option value="none">none (tools hidden)</option>
          {choosableNames(value).map((name) => <option key={name} value={choiceKey(namedChoice(name))}>{name} (must call it)</option>)}
        </select>
      </label>
    </>)}
  </>);
}

function ChatOptions({ json, tools }: { json: ChatJsonOption; tools: ChatToolsOption }) {
  return (
    <fieldset className="chat-options" data-testid="chat-options">
      <legend>This chat</legend>
      <JsonOutputField {...json} />
      <ToolsField {...tools} />
    </fieldset>
  );
}

function JsonOutputField({ value, check, onChange, disabled }: ChatJsonOption) {
  return (<>
    <label className="field row">
      <span>JSON output (the answer is constrained to JSON)</span>
      <input type="checkbox" data-testid="json-output" checked={value.on} disabled={disabled}
        onChange={(e) => onChange({ ...value, on: e.target.checked })} />
    </label>
    {value.on && (
      <label className="field">
        <span>JSON schema (empty = any JSON object)</span>
        <textarea data-testid="json-schema" rows={6} spellCheck={false} value={value.schema} disabled={disabled}
          placeholder={'{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}'}
          aria-invalid={check?.ok === false || undefined} aria-describedby="json-schema-status"
          onChange={(e) => onChange({ ...value, schema: e.target.value })} />
        {check && !check.ok && <span id="json-schema-status" className="error" role="alert" data-testid="json-schema-error">{check.error} Send is off until it is fixed.</span>}
        {check?.ok && <span id="json-schema-status" className="hint" data-testid="json-schema-ok">{check.summary}{check.note ? ` ${check.note}` : ''}</span>}
      </label>
    )}
  </>);
}

type NumKey = SamplingKey | 'maxTokens' | 'contextLength';
const SAMPLING = new Set<NumKey>(['temperature', 'topP', 'topK', 'minP', 'repeatPenalty']);

const NUMBERS: { key: NumKey; label: string; min: number; max: number; step: number }[] = [
  { key: 'temperature', label: 'Temperature (0 = greedy)', min: 0, max: 2, step: 0.05 },
  { key: 'topP', label: 'Top-p', min: 0, max: 1, step: 0.01 },
  { key: 'topK', label: 'Top-k (0 = off)', min: 0, max: 200, step: 1 },
  { key: 'minP', label: 'Min-p', min: 0, max: 1, step: 0.01 },
  { key: 'repeatPenalty', label: 'Repeat penalty', min: 0.5, max: 2, step: 0.01 },
  { key: 'maxTokens', label: 'Max answer tokens', min: 1, max: 4096, step: 1 },
  { key: 'contextLength', label: 'Context tokens (0 = model default; next load)', min: 0, max: 131072, step: 256 },
];

export function SettingsPanel({ settings, onChange, busy, modelDefaults, json, tools }: {
  settings: Settings; onChange(s: Settings): void; busy: boolean;
  /** the loaded model's sampler defaults (local engine only) */
  modelDefaults?: ModelSamplingDefaults;
  json: ChatJsonOption;
  tools: ChatToolsOption;
}) {
  const placeholder = (key: NumKey): string | undefined => {
    if (!SAMPLING.has(key)) return undefined;
    const v = modelDefaults?.[key as SamplingKey];
    return v !== undefined ? `model: ${v}` : 'default';
  };
  return (
    <div className="settings">
      <ChatOptions json={json} tools={tools} />
      <label className="field">
        <span>System prompt</span>
        <textarea rows={4} value={settings.systemPrompt} placeholder="(none — story models continue plain text)"
          onChange={(e) => onChange({ ...settings, systemPrompt: e.target.value })} />
      </label>
      {NUMBERS.map((n) => (
        <label className="field row" key={n.key}>
          <span>{n.label}</span>
          <input type="number" min={n.min} max={n.max} step={n.step} value={settings[n.key] ?? ''} placeholder={placeholder(n.key)}
            onChange={(e) => {
              const v = Number(e.target.value);
              // emptied: a sampler setting goes back to the model's default
              if (e.target.value === '' && SAMPLING.has(n.key)) onChange({ ...settings, [n.key]: null });
              else if (e.target.value !== '' && Number.isFinite(v)) onChange({ ...settings, [n.key]: Math.min(n.max, Math.max(n.min, v)) });
            }} />
        </label>
      ))}
      <label className="field row">
        <span>Seed (empty = random)</span>
        <input type="text" inputMode="numeric" value={settings.seed}
          onChange={(e) => onChange({ ...settings, seed: e.target.value.replace(/[^0-9]/g, '') })} />
      </label>
      <label className="field row">
        <span>Thinking (models that can turn it off)</span>
        <input type="checkbox" checked={settings.thinking} onChange={(e) => onChange({ ...settings, thinking: e.target.checked })} />
      </label>
      <label className="field row">
        <span>Context shift (long chats drop their oldest half)</span>
        <input type="checkbox" data-testid="context-shift" checked={settings.contextShift}
          onChange={(e) => onChange({ ...settings, contextShift: e.target.checked })} />
      </label>
      <label className="field row">
        <span>Backend</span>
        <select value={settings.backend} disabled={busy} onChange={(e) => onChange({ ...settings, backend: e.target.value as Settings['backend'] })}>
          <option value="auto">Auto</option>
          <option value="webgpu">WebGPU</option>
          <option value="wasm">WASM (CPU)</option>
        </select>
      </label>
      <label className="field row">
        <span>KV cache</span>
        <select value={settings.kvType} disabled={busy} onChange={(e) => onChange({ ...settings, kvType: e.target.value as Settings['kvType'] })}>
          <option value="f16">f16</option>
          <option value="q8_0">q8_0 (half the memory)</option>
          <option value="f32">f32</option>
        </select>
      </label>
      <label className="field row">
        <span>Memory cap, MiB (0 = none; applies at the next load; layers past it stream from storage)</span>
        <input type="number" min={0} step={64} value={settings.maxMemoryMiB} disabled={busy}
          onChange={(e) => onChange({ ...settings, maxMemoryMiB: Math.max(0, Math.floor(Number(e.target.value) || 0)) })} />
      </label>
      <button type="button" onClick={() => onChange({ ...DEFAULT_SETTINGS })}>Reset to defaults</button>
    </div>
  );
}
