// The app served by `npm start` (scripts/serve.mjs, cross-origin isolated) points at our own engine
// served by `cli serve` on another port — as a tablet would at a board — and chats: streaming, stats,
// Stop, and a clear error with the history kept when the server dies mid-answer.
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCliServe } from '../test/serve/cli-serve.ts';
import { ask, connectRemote, expect, FIXTURES, launch, openApp, remoteChatStory, startApp, waitForRemote } from './harness.ts';

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

describe('remote engine: the Think toggle', () => {
  it('is offered when the server\'s template reads enable_thinking, and the chat sends the choice', async () => {
    const server = await startCliServe({ model: `${FIXTURES}/arch/dev-qwen3.Q8_0.gguf`, args: ['--threads', '1'] });
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    const bodies: unknown[] = [];
    page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) bodies.push(r.postDataJSON()); });
    try {
      await connectRemote(page, server.url);
      await waitForRemote(page);
      await page.getByRole('button', { name: 'Close panel' }).click();
      const toggle = page.getByTestId('thinking-toggle');
      await expect(toggle).toBeVisible();
      if ((await toggle.getAttribute('aria-pressed')) === 'true') await toggle.click();
      await expect(toggle).toHaveAttribute('aria-pressed', 'false');
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Max answer tokens').fill('8');
      await page.getByRole('button', { name: 'Close panel' }).click();
      await ask(page, 'Hi');
      expect(bodies.at(-1)).toMatchObject({ chat_template_kwargs: { enable_thinking: false } });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
      await server.stop();
    }
  });
});
