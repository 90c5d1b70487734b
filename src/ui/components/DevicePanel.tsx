// What this device offers the engine: GPU, threads, storage.
import { useEffect, useState } from 'react';
import type { Capabilities, LoadedModelInfo } from '../../worker/api.ts';
import { webllmCacheTotals } from '../../worker/webllm-cache.ts';
import { useEngine } from '../hooks/engine.ts';
import { errorMessage, formatBytes, gpuFallbackText } from '../state/format.ts';
import { FitBadge } from './FitBadge.tsx';

export function DevicePanel({ loaded }: { loaded: LoadedModelInfo | null }) {
  const engine = useEngine();
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [webllm, setWebllm] = useState<{ files: number; bytes: number } | null>(null);
  const refresh = (): void => {
    engine.capabilities().then(setCaps, (e: unknown) => setError(errorMessage(e)));
    webllmCacheTotals().then(setWebllm, () => setWebllm(null));
  };
  useEffect(refresh, [engine]);
  if (error) return <p className="error">{error}</p>;
  if (!caps) return <p className="muted">Probing the device…</p>;
  const { webgpu, threads, storage, memory } = caps;
  const ref = loaded?.ref;
  return (
    <div className="device">
      <h3>Engine</h3>
      <dl>
        <dt>Model</dt><dd>{loaded ? `${loaded.name} (${loaded.arch}, ctx ${loaded.contextLength})` : 'none'}</dd>
        <dt>Backend</dt><dd>{loaded ? `${loaded.backend}${loaded.backend === 'wasm' ? `, ${loaded.threads} thread(s)` : ''}` : '—'}</dd>
        {loaded?.gpuFallback && <><dt>GPU not used</dt><dd data-testid="gpu-fallback">{gpuFallbackText(loaded.gpuFallback).long}</dd></>}
        <dt>Prompt format</dt><dd>{loaded ? (loaded.template === 'none' ? 'plain continuation' : loaded.template) : '—'}</dd>
      </dl>
      <h3>Memory</h3>
      <dl>
        <dt>Device memory</dt><dd>{memory.deviceMemoryBytes ? formatBytes(memory.deviceMemoryBytes) : 'not reported by this browser'}</dd>
        <dt>Budget for a model</dt><dd data-testid="memory-budget">{formatBytes(memory.budgetBytes)}{memory.deviceMemoryBytes ? '' : ' (assumed)'}</dd>
        <dt>WASM heap ceiling</dt><dd>{formatBytes(memory.wasm32Bytes)} (wasm32)</dd>
        {ref && <><dt>Loaded model</dt><dd><FitBadge auto source={ref.kind === 'stored' ? { kind: 'stored', id: ref.id } : { kind: 'bundled', url: ref.url, name: ref.name }} /></dd></>}
      </dl>
      <h3>WebGPU</h3>
      {webgpu.available ? (
        <dl>
          <dt>Adapter</dt>
          <dd>{[webgpu.adapter?.vendor, webgpu.adapter?.architecture, webgpu.adapter?.device, webgpu.adapter?.description].filter(Boolean).join(' · ') || 'unnamed'}</dd>
          <dt>shader-f16</dt><dd>{webgpu.f16 ? 'yes' : 'no'}</dd>
          {Object.entries(webgpu.limits ?? {}).map(([k, v]) => (
            <div key={k} className="dl-row"><dt>{k}</dt><dd>{k.endsWith('Size') ? formatBytes(v) : v}</dd></div>
          ))}
        </dl>
      ) : <p className="muted">{webgpu.reason}</p>}
      <h3>CPU</h3>
      <dl>
        <dt>Logical cores</dt><dd>{threads.hardware}</dd>
        <dt>Cross-origin isolated</dt><dd>{threads.crossOriginIsolated ? 'yes' : 'no (WASM runs single-threaded)'}</dd>
        <dt>Shared memory</dt><dd>{threads.sharedMemory ? 'yes' : 'no'}</dd>
      </dl>
      <h3>Storage</h3>
      <dl>
        <dt>Used</dt><dd>{formatBytes(storage.usage)}</dd>
        <dt>Quota</dt><dd>{formatBytes(storage.quota)}</dd>
        <dt>Persistent</dt><dd data-testid="storage-persisted">{storage.persisted === null ? 'unknown' : storage.persisted ? 'yes' : 'no (the browser may evict models)'}</dd>
        {/* WebLLM keeps its models in the Cache API, apart from ours; its panel lists and deletes them */}
        {webllm && <><dt>WebLLM's cache</dt><dd data-testid="webllm-cache-total">{webllm.files === 0 ? 'empty'
          : `${formatBytes(webllm.bytes)} in ${webllm.files} file${webllm.files === 1 ? '' : 's'} (Engine → WebLLM to manage)`}</dd></>}
      </dl>
      <button type="button" onClick={refresh}>Refresh</button>
    </div>
  );
}
