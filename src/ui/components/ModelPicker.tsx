// Choose the model to chat with: the bundled demo plus every completely stored model.
import type { Models } from '../hooks/use-models.ts';
import { bundledRef } from '../hooks/use-models.ts';
import type { ModelRef } from '../../worker/api.ts';

function key(ref: ModelRef | undefined): string {
  if (!ref) return '';
  return ref.kind === 'stored' ? `stored:${ref.id}` : `bundled:${ref.url}`;
}

export function ModelPicker({ models, disabled }: { models: Models; disabled: boolean }) {
  const options: { ref: ModelRef; label: string }[] = [
    ...models.catalogue.filter((e) => e.bundled).map((e) => ({ ref: bundledRef(e), label: e.name })),
    ...models.stored.filter((m) => m.complete && m.missingChunks === 0).map((m) => ({ ref: { kind: 'stored', id: m.id } as ModelRef, label: m.name })),
  ];
  const current = key(models.loaded?.ref);
  return (
    <select data-testid="model-picker" aria-label="Model" value={current} disabled={disabled || models.loading !== null}
      onChange={(e) => {
        const opt = options.find((o) => key(o.ref) === e.target.value);
        if (opt) void models.load(opt.ref);
      }}>
      {current === '' && <option value="">{models.loading ? `Loading ${models.loading.name}…` : 'No model loaded'}</option>}
      {options.map((o) => <option key={key(o.ref)} value={key(o.ref)}>{o.label}</option>)}
    </select>
  );
}
