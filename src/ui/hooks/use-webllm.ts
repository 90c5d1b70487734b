// WebLLM state for its panel: the engine (opened when the panel first shows, which is when the
// package is imported), its catalogue, the custom entries kept in localStorage, a load with
// progress and cancel, and what WebLLM has cached on this device.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ChatEngine, EngineModel } from '../../worker/api.ts';
import type { WebLLMCachedModel } from '../../worker/webllm-cache.ts';
import { customRecord, type WebLLMCustomEntry, type WebLLMModel } from '../../worker/webllm-catalogue.ts';
import { WebLLMEngine, type WebLLMLoadProgress } from '../../worker/webllm-engine.ts';
import { errorCode, errorMessage } from '../state/format.ts';

const CUSTOM_KEY = 'edge-llm:webllm-custom';

export interface WebLLMState {
  engine: WebLLMEngine | null;
  /** opening the engine failed (the package could not load) */
  openError: string | null;
  models: WebLLMModel[];
  custom: WebLLMCustomEntry[];
  /** stored custom entries that no longer validate */
  rejected: { entry: WebLLMCustomEntry; message: string }[];
  loaded: WebLLMModel | null;
  loading: { id: string; progress?: WebLLMLoadProgress } | null;
  loadError: { code?: string; message: string } | null;
  cached: WebLLMCachedModel[];
  /** Validates and stores a custom entry; returns the reason when it is refused. */
  addCustom(entry: WebLLMCustomEntry): string | null;
  removeCustom(id: string): void;
  load(id: string): Promise<void>;
  cancelLoad(): void;
  /** frees the loaded model's GPU memory */
  unload(): Promise<void>;
  refreshCache(): Promise<void>;
  deleteCached(row: WebLLMCachedModel): Promise<void>;
}

function readCustom(): WebLLMCustomEntry[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(CUSTOM_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((e): e is WebLLMCustomEntry =>
      !!e && typeof e.id === 'string' && typeof e.modelUrl === 'string' && typeof e.modelLibUrl === 'string') : [];
  } catch {
    return [];
  }
}

let shared: Promise<WebLLMEngine> | null = null;

function sharedEngine(custom: WebLLMCustomEntry[]): Promise<WebLLMEngine> {
  shared ??= WebLLMEngine.open({ custom }).catch((e: unknown) => {
    shared = null;
    throw e;
  });
  return shared;
}

/** `onModel` hears every change of the model that answers: loaded (with it), or none (unloaded, deleted, replaced). */
export function useWebLLM(onModel?: (engine: ChatEngine, model: EngineModel | null) => void): WebLLMState {
  const [custom, setCustom] = useState<WebLLMCustomEntry[]>(readCustom);
  const [engine, setEngine] = useState<WebLLMEngine | null>(null);
  const [openError, setOpenError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState<WebLLMModel | null>(null);
  const [loading, setLoading] = useState<WebLLMState['loading']>(null);
  const [loadError, setLoadError] = useState<WebLLMState['loadError']>(null);
  const [cached, setCached] = useState<WebLLMCachedModel[]>([]);
  const [version, setVersion] = useState(0);
  const abort = useRef<AbortController | null>(null);
  const modelRef = useRef(onModel);
  modelRef.current = onModel;
  const customRef = useRef(custom);
  customRef.current = custom;

  // opened once per page, when the panel first shows (this is when the package is imported), and
  // kept when the panel unmounts: the chat may still be using it, and its model holds GPU memory
  useEffect(() => {
    let live = true;
    sharedEngine(customRef.current).then((e) => {
      if (!live) return;
      setEngine(e);
      setLoaded(e.loadedModel());
      void e.cachedModels().then((c) => live && setCached(c), () => undefined);
    }, (e: unknown) => live && setOpenError(errorMessage(e)));
    return () => { live = false; };
  }, []);

  useEffect(() => {
    if (!engine) return;
    engine.setCustom(custom);
    setVersion((v) => v + 1);
  }, [engine, custom]);

  // the chat answers with whatever is loaded now, including after the panel remounts
  useEffect(() => {
    if (engine) modelRef.current?.(engine, loaded);
  }, [engine, loaded]);

  // version changes whenever setCustom changed the catalogue
  const models = useMemo(() => engine?.catalogue() ?? [], [engine, version]);

  const saveCustom = useCallback((next: WebLLMCustomEntry[]) => {
    localStorage.setItem(CUSTOM_KEY, JSON.stringify(next));
    setCustom(next);
  }, []);

  const addCustom = useCallback((entry: WebLLMCustomEntry): string | null => {
    try {
      const rec = customRecord(entry);
      if (custom.some((c) => c.id === rec.model_id)) return `A custom entry "${rec.model_id}" exists already; remove it first.`;
      saveCustom([...custom, { ...entry, id: rec.model_id, modelUrl: rec.model, modelLibUrl: rec.model_lib }]);
      return null;
    } catch (e) {
      return errorMessage(e);
    }
  }, [custom, saveCustom]);

  const removeCustom = useCallback((id: string) => saveCustom(custom.filter((c) => c.id !== id)), [custom, saveCustom]);

  const refreshCache = useCallback(async () => {
    if (engine) setCached(await engine.cachedModels());
  }, [engine]);

  const load = useCallback(async (id: string) => {
    if (!engine) return;
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setLoadError(null);
    setLoading({ id });
    setLoaded(null);
    try {
      const model = await engine.load(id, (progress) => !ctl.signal.aborted && setLoading({ id, progress }), ctl.signal);
      setLoaded(engine.loadedModel() ?? model as WebLLMModel);
    } catch (e) {
      if (errorCode(e) !== 'ABORTED') setLoadError({ code: errorCode(e), message: errorMessage(e) });
    } finally {
      if (abort.current === ctl) {
        abort.current = null;
        setLoading(null);
      }
      void refreshCache().catch(() => undefined);
    }
  }, [engine, refreshCache]);

  const cancelLoad = useCallback(() => abort.current?.abort(), []);

  const unload = useCallback(async () => {
    await engine?.unload();
    setLoaded(null);
  }, [engine]);

  const deleteCached = useCallback(async (row: WebLLMCachedModel) => {
    if (!engine) return;
    if (row.id && row.id === loaded?.id) setLoaded(null);
    await engine.deleteCached(row);
    await refreshCache();
  }, [engine, loaded, refreshCache]);

  return {
    engine, openError, models, custom, rejected: engine?.rejected ?? [], loaded, loading, loadError, cached,
    addCustom, removeCustom, load, cancelLoad, unload, refreshCache, deleteCached,
  };
}
