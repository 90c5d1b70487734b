// Layout: conversations | chat | side panel (models, settings, device). Esc stops an answer;
// GGUF files dropped anywhere are imported.
import { useEffect, useState } from 'react';
import { ChatView } from './components/ChatView.tsx';
import { Composer } from './components/Composer.tsx';
import { ConversationList } from './components/ConversationList.tsx';
import { DevicePanel } from './components/DevicePanel.tsx';
import { ModelManager } from './components/ModelManager.tsx';
import { ModelPicker } from './components/ModelPicker.tsx';
import { SettingsPanel } from './components/SettingsPanel.tsx';
import { useChat } from './hooks/use-chat.ts';
import { useConversations } from './hooks/use-conversations.ts';
import { useModels } from './hooks/use-models.ts';
import { loadSettings, saveSettings, type Settings } from './state/settings.ts';

type Panel = 'models' | 'settings' | 'device';
const PANELS: { id: Panel; label: string }[] = [
  { id: 'models', label: 'Models' }, { id: 'settings', label: 'Settings' }, { id: 'device', label: 'Device' },
];

export function App() {
  const [settings, setSettings] = useState<Settings>(loadSettings);
  const [panel, setPanel] = useState<Panel | null>(null);
  const [sidebar, setSidebar] = useState(false);
  const conversations = useConversations();
  const models = useModels(settings);
  const chat = useChat({
    conversation: conversations.active, commit: conversations.commit, select: conversations.select,
    settings, model: models.loaded,
  });

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
  const status = models.loading
    ? `Loading ${models.loading.name}…`
    : models.loaded ? `${models.loaded.backend}${models.loaded.backend === 'wasm' ? ` ×${models.loaded.threads}` : ''}` : '';

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
          <ModelPicker models={models} disabled={chat.generating} />
          <span className="status muted" aria-live="polite">{status}</span>
          <nav className="tabs">
            {PANELS.map((p) => (
              <button type="button" key={p.id} aria-pressed={panel === p.id} onClick={() => setPanel(panel === p.id ? null : p.id)}>
                {p.label}
              </button>
            ))}
          </nav>
        </header>
        {(models.loadError || conversations.error) && (
          <div className="banner error" role="alert">{models.loadError ?? conversations.error}</div>
        )}
        <ChatView conversation={conversations.active} chat={chat} modelName={models.loaded?.name} />
        <Composer chat={chat} disabled={!models.loaded || models.loading !== null}
          thinking={models.loaded?.thinkingToggle
            ? { on: settings.thinking, set: (on) => updateSettings({ ...settings, thinking: on }) } : undefined}
          placeholder={models.loaded?.template === 'none' ? 'Start a story… (this model continues text)' : 'Ask something…'} />
      </main>
      {panel && (
        <section className="panel" aria-label={panel}>
          <header className="panel-head">
            <h2>{PANELS.find((p) => p.id === panel)?.label}</h2>
            <button type="button" className="icon" aria-label="Close panel" onClick={() => setPanel(null)}>×</button>
          </header>
          <div className="panel-body">
            {panel === 'models' && <ModelManager models={models} />}
            {panel === 'settings' && <SettingsPanel settings={settings} onChange={updateSettings} busy={chat.generating || models.loading !== null} />}
            {panel === 'device' && <DevicePanel loaded={models.loaded} />}
          </div>
        </section>
      )}
    </div>
  );
}
