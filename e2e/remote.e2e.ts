// The remote engine in real Chromium against llama.cpp: a two-node RPC cluster on loopback (two
// ggml-rpc-server workers, one llama-server --rpc holding a fixture model's layers on them) serves the
// app, which is served cross-origin isolated from another port (llama-server's CORS answers make that
// work). Then the error states a browser adds: offline, and a server whose CORS refuses the key header.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startLlamaServer, startRpcServer, type ServerProcess } from '../test/llama-server.ts';
import { shown } from '../test/llama-greedy.ts';
import {
  ask, chatRequests, closeServer, connectRemote, expect, FIXTURES, launch, openApp, remoteChatStory, serverAnswer, startApp, waitForRemote,
} from './harness.ts';

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

/** llama-server with every layer offloaded (-ngl 99) to two RPC workers; kill() takes all three down. */
async function rpcCluster(model: string): Promise<{ server: ServerProcess; workers: ServerProcess[]; kill(): Promise<void> }> {
  const workers = await Promise.all([startRpcServer(), startRpcServer()]);
  const server = await startLlamaServer({
    model, args: ['--rpc', workers.map((w) => w.url).join(','), '-ngl', '99', '-c', '2048', '-lv', '4'],
  }).catch(async (e: unknown) => { await Promise.all(workers.map((w) => w.kill())); throw e; });
  return { server, workers, kill: async () => { await server.kill(); await Promise.all(workers.map((w) => w.kill())); } };
}

describe('remote engine: llama-server over RPC workers', () => {
  it('connects, streams with stats, and keeps the history when the server dies mid-answer', async () => {
    const cluster = await rpcCluster(`${FIXTURES}/arch/dev-llama32.Q8_0.gguf`);
    // The layers really live on the two workers.
    const log = cluster.server.log();
    expect(log).toMatch(/offloaded 3\/3 layers to GPU/);
    for (const w of cluster.workers) expect(log).toContain(`RPC0[${w.url}] model buffer size`);
    const models = await (await fetch(`${cluster.server.url}/v1/models`)).json() as { data: { id: string }[] };
    await remoteChatStory(browser, { url: cluster.server.url, model: models.data[0].id, kill: () => cluster.kill() });
  });
});

describe('remote engine: the browser\'s own error states', () => {
  it('offline: a message says so, and the answer works again once back online', async () => {
    const server = await startLlamaServer({ model: `${FIXTURES}/models/stories260K.gguf`, args: ['--api-key', 'sesame'] });
    const app = await startApp();
    const { context, page } = await openApp(browser, app.url);
    const sent = chatRequests(page);
    try {
      // a wrong key, then the right one (llama-server's CORS lets Authorization through)
      await connectRemote(page, server.url, 'open');
      await expect(page.getByTestId('remote-state')).toHaveAttribute('data-code', 'REMOTE_UNAUTHORIZED');
      await expect(page.getByTestId('remote-state')).toContainText('refused the API key');
      await connectRemote(page, server.url, 'sesame');
      await waitForRemote(page);
      await page.getByRole('button', { name: 'Close panel' }).click();
      await context.setOffline(true);
      await page.getByTestId('prompt-input').fill('Once upon a time');
      await page.getByTestId('send-button').click();
      await expect(page.getByTestId('message-assistant').locator('.message-error')).toContainText('You are offline');
      await context.setOffline(false);
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Temperature (0 = greedy)').fill('0');
      await page.getByLabel('Max answer tokens').fill('16');
      await page.getByRole('button', { name: 'Close panel' }).click();
      // back online, the answer is llama-server's own (non-streamed, greedy) for the request the app sent
      const answer = await ask(page, 'Once upon a time');
      const body = sent.at(-1)!;
      expect(body).toMatchObject({ temperature: 0, max_tokens: 16 });
      expect(shown(answer)).toBe(shown(await serverAnswer(server.url, body, { Authorization: 'Bearer sesame' })));
      await expect(page.getByTestId('stats')).toContainText('remote');
    } finally {
      await context.close();
      await app.close();
      await server.stop();
    }
  });

  it('CORS: a server that allows the origin but not the Authorization header is REMOTE_CORS; one without CORS reads as unreachable, with the hint', async () => {
    // llama-server cannot be made to refuse its own preflight, so a tiny server plays one that lists
    // its models to anyone but answers preflights without Access-Control-Allow-Headers.
    const srv = http.createServer((req, res) => {
      if (req.url?.startsWith('/strict/')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"object":"list","data":[{"id":"m"}]}');
        return;
      }
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"object":"list","data":[{"id":"m"}]}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const app = await startApp();
    const { context, page } = await openApp(browser, app.url);
    try {
      await connectRemote(page, base, 'a-key');
      const state = page.getByTestId('remote-state');
      await expect(state).toHaveAttribute('data-code', 'REMOTE_CORS');
      await expect(state).toContainText('Blocked by the browser (CORS)');
      await expect(state).toContainText('Authorization');
      await expect(state).toContainText(new URL(app.url).origin);
      // without a key there is no preflight: the same server connects
      await connectRemote(page, base, '');
      await waitForRemote(page);
      // no CORS headers at all: under COEP the browser cannot tell this from a server that is down
      await connectRemote(page, `${base}/strict`, '');
      await expect(state).toHaveAttribute('data-code', 'REMOTE_UNREACHABLE');
      await expect(state).toContainText('CORS');
    } finally {
      await context.close();
      await app.close();
      await closeServer(srv);
    }
  });
});
