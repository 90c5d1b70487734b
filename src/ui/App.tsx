// Layout: conversations | chat | side panel (engine, models, settings, device). Esc stops an answer;
// GGUF files dropped anywhere are imported. The chosen engine (this device, a remote server, WebLLM)
// answers the chat; conversations are stored the same way whichever it is.
import { useCallback, useEffect, useState } from 'react';
import { ChatView } from './components/ChatView.tsx';
import { Composer } from './components/Composer.tsx';
import { ConversationList } from './components/ConversationList.tsx';
import { DevicePanel } from './components/DevicePanel.tsx';
import { EnginePanel } from './components/EnginePanel.tsx';
import { ModelManager } from './components/ModelManager.tsx';
import { ModelPicker } from './components/ModelPicker.tsx';
import { RemoteModelPicker } from './components/RemotePanel.tsx';
import { SettingsPanel } from './components/SettingsPanel.tsx';
import { localEngine, remoteEngine, webllmEngine, type ActiveEngine, type WebLLMActive } from './hooks/active-engine.ts';
import { useEngine } from './hooks/engine.ts';
import { useChat } from './hooks/use-chat.ts';
import { useConversations } from './hooks/use-conversations.ts';
import { useModels } from './hooks/use-models.ts';
import { useRemote } from './hooks/use-remote.ts';
import { loadEngineChoice, saveEngineChoice, type EngineChoice, type RemoteConfig } from './state/engine-choice.ts';
import type { ChatEngine, EngineModel } from '../worker/api.ts';
import { loadSettings, saveSettings, type Settings } from './state/settings.ts';
import { checkJsonOutput, type JsonOutput } from './state/json-output.ts';
import { newConversation, type Conversation } from './state/conversations.ts';
import { checkToolsOption, TOOLS_OFF, type ToolsOption } from './state/tool-options.ts';
import { waitingCalls } from './state/tool-calls.ts';

type Panel = 'engine' | 'models' | 'settings' | 'device';
const PANELS: { id: Panel; label: string }[] = [
  { id: 'engine', label: 'Engine' }, { id: 'models', label: 'Models' }, { id: 'settings', label: 'Settings' }, { id: 'device', label: 'Device' },
];

export function App() {
  const [settings, setSettings] = useState<Settings>(loadSettings);
  const [panel, setPanel] = useState<Panel | null>(null);
  const [sidebar, setSidebar] = useState(false);
  const [choice, setChoice] = useState<EngineChoice>(loadEngineChoice);
  useEffect(() => saveEngineChoice(choice), [choice]);
  const updateRemote = useCallback((patch: Partial<RemoteConfig>) => setChoice((c) => ({ ...c, remote: { ...c.remote, ...patch } })), []);
  const conversations = useConversations();
  const client = useEngine();
  const models = useModels(settings, choice.kind === 'local');
  const remote = useRemote(choice.remote, updateRemote, choice.kind === 'remote');
  // WebLLM's engine and model, as its panel reports them (the panel is what imports the package)
  const [webllm, setWebllm] = useState<WebLLMActive>(null);
  const onWebllm = useCallback((engine: ChatEngine, model: EngineModel | null) => setWebllm(model ? { engine, model } : null), []);
  const active: ActiveEngine = choice.kind === 'remote' ? remoteEngine(remote)
    : choice.kind === 'webllm' ? webllmEngine(webllm)
      : localEngine(client, models);
  const chat = useChat({
    conversation: conversations.active, commit: conversations.commit, select: conversations.select,
    streaming: conversations.streaming, settings, active,
  });

  // the active chat's JSON output option; set on a chat not yet started, it starts one (so a reload keeps it)
  const jsonOutput: JsonOutput = conversations.active?.jsonOutput ?? { on: false, schema: '' };
  const jsonCheck = jsonOutput.on ? checkJsonOutput(jsonOutput, active.kind) : null;
  const setOption = (patch: Pick<Conversation, 'jsonOutput'> | Pick<Conversation, 'tools'>): void => {
    const conv = conversations.active ?? newConversation();
    if (!conversations.active) conversations.select(conv.id);
    conversations.commit({ ...conv, ...patch }, true);
  };
  const setJsonOutput = (j: JsonOutput): void => setOption({ jsonOutput: { on: j.on, schema: j.schema, updatedAt: Date.now() } });
  // the chat's tools, likewise
  const toolsOption: ToolsOption = conversations.active?.tools ?? TOOLS_OFF;
  const toolsCheck = toolsOption.on ? checkToolsOption(toolsOption, active.kind) : null;
  const setToolsOption = (t: ToolsOption): void => setOption({ tools: { on: t.on, tools: t.tools, choice: t.choice, updatedAt: Date.now() } });
  const jsonNote = !jsonCheck ? undefined
    : jsonCheck.ok ? { text: `JSON output: ${jsonCheck.format.type === 'json_object' ? 'any JSON object' : 'follows the chat\'s schema'} (Settings)${active.thinkingToggle && settings.thinking ? '; the model does not think meanwhile' : ''}.`, blocked: false }
      : { text: `JSON output: the schema has a problem, so Send is off — fix it in Settings or turn JSON output off. ${jsonCheck.error}`, blocked: true };
  const toolsNote = !toolsCheck ? undefined
    : toolsCheck.ok ? { text: `Tools: ${toolsCheck.summary} (Settings)`, blocked: false }
      : { text: `Tools: Send is off — fix them in Settings or turn Tools off. ${toolsCheck.error}`, blocked: true };
  // a message typed while calls wait is fine: it records them as not run (use-chat.ts), and says so first
  const waiting = chat.generating || !conversations.active ? 0 : waitingCalls(conversations.active.messages).length;
  const waitingNote = waiting === 0 ? undefined : {
    text: `${waiting === 1 ? 'A tool call waits' : `${waiting} tool calls wait`} for a result (the box under the call); a message sent instead tells the model ${waiting === 1 ? 'it was' : 'they were'} not run.`,
    blocked: false,
  };
  const notes = [waitingNote, jsonNote, toolsNote].filter((n) => n !== undefined);
  const composerNote = notes.length === 0 ? undefined
    : { text: notes.map((n) => n.text).join(' '), blocked: notes.some((n) => n.blocked) };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape' && chat.generating) { e.preventDefault(); chat.stop(); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [chat]);

  const updateSettings = (s: Settings): void => {
    setSettings(s);
    saveSettings(s);
    if ((s.backend !== settings.backend || s.kvType !== settings.kvType) && models.loaded) void models.load(models.loaded.ref, s);
  };

  return (
    <div className="app"
      onDragOver={(e) => { if (e.dataTransfer.types.includes('Files')) e.preventDefault(); }}
      onDrop={(e) => {
        const files = [...e.dataTransfer.files].filter((f) => /\.gguf$/i.test(f.name));
        if (files.length === 0) return;
        e.preventDefault();
        setPanel('models');
        void models.importFiles(files);
      }}>
      <aside className={`sidebar${sidebar ? ' open' : ''}`}>
        <ConversationList conversations={conversations} disabled={chat.generating}
          onNew={() => { conversations.select(null); setSidebar(false); }} />
      </aside>
      <main className="main">
        <header className="topbar">
          <button type="button" className="icon menu" aria-label="Show chats" onClick={() => setSidebar((s) => !s)}>☰</button>
          {choice.kind === 'local' && <ModelPicker models={models} disabled={chat.generating} />}
          {choice.kind === 'remote' && <RemoteModelPicker remote={remote} disabled={chat.generating} />}
          <span className="status muted" aria-live="polite" data-testid="engine-status">{active.status}</span>
          <nav className="tabs">
            {PANELS.map((p) => (
              <button type="button" key={p.id} aria-pressed={panel === p.id} onClick={() => setPanel(panel === p.id ? null : p.id)}>
                {p.label}
              </button>
            ))}
          </nav>
        </header>
        {choice.kind === 'local' && models.notice && (
          <div className="banner" role="status" data-testid="engine-notice">{models.notice}</div>
        )}
        {((choice.kind === 'local' && models.loadError) || conversations.error) && (
          <div className="banner error" role="alert">{(choice.kind === 'local' && models.loadError) || conversations.error}</div>
        )}
        <ChatView conversation={conversations.active} chat={chat} active={active} />
        <Composer chat={chat} disabled={!active.engine}
          thinking={active.thinkingToggle
            ? { on: settings.thinking, set: (on) => updateSettings({ ...settings, thinking: on }) } : undefined}
          placeholder={active.continuation ? 'Start a story… (this model continues text)' : 'Ask something…'} note={composerNote} />
      </main>
      {panel && (
        <section className="panel" aria-label={panel}>
          <header className="panel-head">
            <h2>{PANELS.find((p) => p.id === panel)?.label}</h2>
            <button type="button" className="icon" aria-label="Close panel" onClick={() => setPanel(null)}>×</button>
          </header>
          <div className="panel-body">
            {panel === 'engine' && (
              <EnginePanel kind={choice.kind} onKind={(kind) => setChoice((c) => ({ ...c, kind }))} remote={remote} onWebllm={onWebllm} busy={chat.generating} />)}
            {panel === 'models' && <ModelManager models={models} />}
            {panel === 'settings' && <SettingsPanel settings={settings} onChange={updateSettings} busy={chat.generating || models.loading !== null}
              modelDefaults={choice.kind === 'local' ? models.loaded?.samplingDefaults : undefined}
              json={{ value: jsonOutput, check: jsonCheck, onChange: setJsonOutput, disabled: chat.generating }}
              tools={{ value: toolsOption, check: toolsCheck, onChange: setToolsOption, disabled: chat.generating }} />}
            {panel === 'device' && <DevicePanel loaded={models.loaded} />}
          </div>
        </section>
      )}
    </div>
  );
}
