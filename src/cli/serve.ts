// `cli serve`: our engine (WASM backend in Node) behind llama-server's OpenAI-compatible routes.
// Listens first (so /health can say "loading" with a 503), then loads the model. The address goes
// to stderr as `listening on http://H:P` (the real port with --port 0), for people and for tests.
import os from 'node:os';
import path from 'node:path';
import { createWasmBackend } from '../backends/wasm/wasm-backend.ts';
import { chooseTemplate } from '../engine/chat.ts';
import { loadModelInput } from '../engine/load.ts';
import { Session } from '../engine/session.ts';
import { openNodeModel } from '../formats/node-file-source.ts';
import { createOpenAIServer } from '../server/openai-server.ts';
import type { CliOptions } from './args.ts';

const err = (s: string) => process.stderr.write(s);

export async function runServe(o: CliOptions): Promise<void> {
  const host = o.host ?? '127.0.0.1';
  const api = createOpenAIServer({ apiKey: o.apiKey, log: (l) => err(`${l}\n`) });
  await new Promise<void>((resolve, reject) => {
    api.server.once('error', reject);
    api.server.listen(o.port ?? 8080, host, () => resolve());
  });
  const { port } = api.server.address() as { port: number };
  err(`listening on http://${host.includes(':') ? `[${host}]` : host}:${port}\n`);

  let closing: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (closing) process.exit(130); // a second signal: quit now
    closing = (async () => {
      err(`${signal}: closing the server\n`);
      await api.close();
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const closed = new Promise<void>((resolve) => api.server.once('close', () => resolve()));

  const t0 = performance.now();
  const backend = await createWasmBackend({ threads: o.threads ?? Math.min(os.availableParallelism(), 8), maxMemoryBytes: o.maxMemory });
  let m;
  try {
    m = await loadModelInput(await openNodeModel(o.model), backend, { nCtx: o.ctx, kvType: o.kvType, maxMemoryBytes: o.maxMemory });
  } catch (e) {
    backend.dispose();
    await api.close();
    throw e;
  }
  try {
    const session = new Session(m);
    const template = chooseTemplate(m);
    api.setModel({
      // llama-server's choice: --alias if given, else the model path as given on the command line
      id: o.alias ?? o.model,
      target: { session, template, model: o.alias ?? o.model, backend: () => ({ backend: backend.name, threads: backend.threads }) },
      nCtx: m.decoder.opts.nCtx, vocabSize: m.h.vocabSize, created: Math.floor(Date.now() / 1000),
    });
    err(`model ${path.basename(o.model)} loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
      `(${m.h.arch}, context ${m.decoder.opts.nCtx}, template ${template ? (template.kind === 'model' ? 'from the model' : template.name) : 'none: plain continuation'}, ` +
      `${backend.threads} thread(s))\n`);
    await closed;
    await closing;
  } finally {
    await m.dispose().catch(() => {});
  }
}
