// Model files served over loopback HTTP for the engine service tests, which load them as bundled
// models (a fetch of the whole file, as the app fetches its demo model).
import { createServer } from 'node:http';
import type { ModelRef } from '../../src/worker/api.ts';

export interface ModelHost {
  /** a bundled-model reference to `name` on this host */
  ref(name: string): ModelRef;
  close(): Promise<void>;
}

/** Serves `files` (name → bytes, read when requested, so entries may be added later); unknown names 404. */
export async function hostModels(files: Record<string, Uint8Array>): Promise<ModelHost> {
  const server = createServer((req, res) => {
    const body = files[(req.url ?? '').slice(1)];
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    ref: (name) => ({ kind: 'bundled', url: `${base}/${name}`, name }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
