// The app served by `npm start` (scripts/serve.mjs, cross-origin isolated) points at our own engine
// served by `cli serve` on another port — as a tablet would at a board — and chats: streaming, stats,
// Stop, and a clear error with the history kept when the server dies mid-answer.
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCliServe } from '../test/serve/cli-serve.ts';
import { FIXTURES, launch, remoteChatStory } from './harness.ts';

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

describe('remote engine: cli serve', () => {
  it('the app chats with our engine served on another port', async () => {
    // one thread: the browser and the server share the machine's two cores
    const server = await startCliServe({ model: `${FIXTURES}/arch/dev-llama32.Q8_0.gguf`, args: ['--threads', '1'] });
    try {
      const models = await (await fetch(`${server.url}/v1/models`)).json() as { data: { id: string }[] };
      await remoteChatStory(browser, { url: server.url, model: models.data[0].id, kill: async () => { await server.kill(); } });
    } finally {
      await server.stop();
    }
  });
});
