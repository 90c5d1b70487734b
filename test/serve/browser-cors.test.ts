// The app runs on another origin than `cli serve`: real Chromium (a cross-origin-isolated page, as
// the app is) must get through the preflight with an API key, read the stream, and read errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserHarness } from '../browser/harness.ts';
import { fixture } from '../fixtures.ts';
import { startCliServe, type ServerProcess } from './cli-serve.ts';

const KEY = 'browser-key';
let srv: ServerProcess;
let browser: BrowserHarness;

beforeAll(async () => {
  [srv, browser] = await Promise.all([
    startCliServe({ model: fixture('models', 'stories260K.gguf'), args: ['--threads', '1', '--api-key', KEY] }),
    openBrowser(),
  ]);
});
afterAll(async () => { await Promise.all([srv?.stop(), browser?.close()]); });

const PAGE = 'test/serve/pages/cors-page.ts';

describe('cli serve from a page on another origin (Chromium)', () => {
  it('fetch with Authorization: preflight passes, the SSE stream reads to [DONE]', async () => {
    const r = await browser.run<{ status: number; text: string; done: boolean; usage: { completion_tokens: number } }>(PAGE, 'rawStream', srv.url, KEY);
    expect(r).toMatchObject({ status: 200, text: ', there was a little girl', done: true });
    expect(r.usage.completion_tokens).toBe(8);
  });

  it('a wrong key: the page reads the 401 and its error object', async () => {
    expect(await browser.run(PAGE, 'refused', srv.url)).toEqual({ status: 401, type: 'authentication_error' });
  });

  it('the openai client in the browser lists the model and streams a chat', async () => {
    const r = await browser.run<{ models: string[]; text: string }>(PAGE, 'clientChat', srv.url, KEY);
    expect(r.models).toEqual([fixture('models', 'stories260K.gguf')]);
    expect(r.text).toBe(', there was a little girl');
  });
});
