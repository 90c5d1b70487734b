// WebLLM costs nothing until chosen: a production build puts @mlc-ai/web-llm (~6 MB) in a chunk of
// its own that only a dynamic import() reaches — from the app's entry and from the WebLLM panel.
import react from '@vitejs/plugin-react';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('WebLLM in the bundle', () => {
  it('lands in its own chunk, reached by no static import from the app or the panel', async () => {
    const out = await build({
      configFile: false, root: ROOT, logLevel: 'silent', plugins: [react()], worker: { format: 'es' },
      build: {
        write: false, target: 'es2022', chunkSizeWarningLimit: 10_000,
        rollupOptions: { input: { app: 'src/ui/main.tsx', panel: 'src/ui/components/WebLLMPanel.tsx' }, preserveEntrySignatures: 'exports-only' },
      },
    }) as Rolldown.RolldownOutput | Rolldown.RolldownOutput[];
    const chunks = (Array.isArray(out) ? out.flatMap((o) => o.output) : out.output)
      .filter((c): c is Rolldown.OutputChunk => c.type === 'chunk');
    const byName = new Map(chunks.map((c) => [c.fileName, c]));
    const hasWebLLM = (c: Rolldown.OutputChunk) => c.moduleIds.some((m) => m.includes('@mlc-ai/web-llm'));
    const webllm = chunks.filter(hasWebLLM);
    expect(webllm).toHaveLength(1);
    expect(webllm[0].code.length).toBeGreaterThan(1_000_000);

    const staticClosure = (c: Rolldown.OutputChunk, seen = new Set<string>()): Set<string> => {
      if (seen.has(c.fileName)) return seen;
      seen.add(c.fileName);
      for (const i of c.imports) if (byName.has(i)) staticClosure(byName.get(i)!, seen);
      return seen;
    };
    for (const name of ['app', 'panel']) {
      const entry = chunks.find((c) => c.isEntry && c.name === name)!;
      expect(entry, name).toBeDefined();
      expect([...staticClosure(entry)], name).not.toContain(webllm[0].fileName);
    }
    // the panel reaches it, lazily
    const panel = chunks.find((c) => c.isEntry && c.name === 'panel')!;
    const lazy = [...staticClosure(panel)].flatMap((f) => byName.get(f)!.dynamicImports);
    expect(lazy).toContain(webllm[0].fileName);
  }, 120_000);
});
