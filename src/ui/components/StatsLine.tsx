import type { CompletionStats, FinishReason } from '../../worker/api.ts';
import { formatRate, gpuFallbackText } from '../state/format.ts';

const FINISH: Record<FinishReason, string> = {
  stop: '', length: 'stopped at the token limit', abort: 'stopped', tool_calls: '',
};

export function StatsLine({ stats, finish }: { stats: CompletionStats; finish?: FinishReason }) {
  const note = finish ? FINISH[finish] : '';
  return (
    <div className="stats" data-testid="stats">
      <span title="prompt tokens (computed / total)">{stats.prefilledTokens}/{stats.promptTokens} prompt tok</span>
      <span title="time to first token">TTFT {Math.round(stats.timeToFirstTokenMs)} ms</span>
      <span title="prefill speed">prefill {formatRate(stats.prefillTokensPerSec)} tok/s</span>
      <span title="decode speed">decode {formatRate(stats.decodeTokensPerSec)} tok/s</span>
      <span title="generated tokens">{stats.generatedTokens} tok</span>
      <span title="backend">{stats.backend}{stats.backend === 'wasm' ? ` ×${stats.threads}` : ''}</span>
      {stats.gpuFallback && (
        <span className="stats-gpu" data-testid="gpu-fallback-note" title={gpuFallbackText(stats.gpuFallback).long}>
          GPU not used: {gpuFallbackText(stats.gpuFallback).short}
        </span>)}
      {!!stats.contextShifts && (
        <span className="stats-note" data-testid="context-shifts" title="the conversation outgrew the context: its oldest half (after the system prompt) was dropped">
          context shifted{stats.contextShifts > 1 ? ` ×${stats.contextShifts}` : ''}
        </span>)}
      {note && <span className="stats-note">{note}</span>}
    </div>
  );
}
