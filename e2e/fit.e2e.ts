// "Will it fit?" in the app: the catalogue shows the pre-flight's verdict, a pasted URL is checked
// from its header (closed byte ranges only) before any download starts, and the device panel shows
// the budget the verdicts are made against.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type App, expect, FIXTURES, launch, openApp, startApp, waitForModel } from './harness.ts';
import { startModelServer, type ModelServer } from './model-server.ts';

let browser: Browser;
let app: App;
let host: ModelServer;

beforeAll(async () => {
  const qwen3 = new Uint8Array(readFileSync(path.join(FIXTURES, 'arch/dev-qwen3.Q8_0.gguf')));
  [browser, app, host] = await Promise.all([launch(), startApp(), startModelServer({ 'qwen3.gguf': qwen3 })]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), host?.close()]);
});

describe('memory pre-flight in the app', () => {
  it('catalogue verdict, a pasted URL checked from its header before the download, and the device budget', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    // the built-in demo is checked as soon as the catalogue shows
    await expect(page.locator('.catalogue [data-testid="fit-verdict"]').first()).toHaveAttribute('data-verdict', 'fits');

    const url = `${host.url}files/qwen3.gguf`;
    // a paste, as a person does it (fill() types without a paste event)
    await page.getByTestId('download-url').evaluate((input, text) => {
      const data = new DataTransfer();
      data.setData('text', text);
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    }, url);
    await page.getByTestId('download-url').fill(url);
    const verdict = page.locator('.url-form [data-testid="fit-verdict"]');
    await expect(verdict).toHaveAttribute('data-verdict', 'fits');
    await expect(verdict).toHaveAttribute('title', /^fits on (WASM|WebGPU): .* at a context of 2048$/);
    // header only: closed ranges, never the body
    const requests = host.log.filter((r) => r.path.endsWith('qwen3.gguf'));
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => /^bytes=\d+-\d+$/.test(r.range ?? ''))).toBe(true);
    await expect(page.getByTestId('stored-model')).toHaveCount(0);

    await page.getByRole('button', { name: 'Device', exact: true }).click();
    await expect(page.getByTestId('memory-budget')).toHaveText(/^[\d.]+ [GM]B/);
    await context.close();
  });
});
