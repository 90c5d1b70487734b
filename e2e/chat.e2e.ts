// First visit streams a greedy answer from the bundled demo model that matches llama.cpp's; a reload
// with the server gone and the network off still has the app, the model and the history.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ask, expect, FIXTURES, launch, openApp, startApp, storedTurns, waitForModel } from './harness.ts';
import { llamaGreedy, shown } from '../test/llama-greedy.ts';

const STORIES = path.join(FIXTURES, 'models/stories260K.gguf');
const refs = JSON.parse(readFileSync(path.join(FIXTURES, 'quant/llamacpp-refs.json'), 'utf8')) as Record<string, { greedy: string }>;

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

describe('chat with the bundled demo model', () => {
  it('streams an answer with tok/s, then works offline with history after a reload', async () => {
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    await expect(page.getByTestId('model-picker')).toHaveValue(/stories260K\.gguf$/);

    // Greedy decoding, so the answer can be compared with llama.cpp's (the fixture's reference).
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Temperature (0 = greedy)').fill('0');
    await page.getByLabel('Max answer tokens').fill('48');
    await page.getByRole('button', { name: 'Close panel' }).click();

    // Streaming: the stop button shows while tokens arrive (the prompt is long enough to watch).
    const answer = await ask(page, 'Once upon a time');
    expect(answer.replace(/\s+/g, ' ').trim()).toBe(refs['stories260K.gguf'].greedy);
    const stats = page.getByTestId('stats').first();
    await expect(stats).toContainText(/decode [\d.]+ tok\/s/);
    await expect(stats).toContainText(/prefill [\d.]+ tok\/s/);
    await expect(stats).toContainText('5/5 prompt tok');
    const decode = Number(/decode ([\d.]+) tok\/s/.exec((await stats.textContent()) ?? '')?.[1]);
    expect(decode).toBeGreaterThan(0);

    // Offline: the service worker must control the page, then the server goes away entirely.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    await app.close();
    await context.setOffline(true);
    await page.reload();
    await waitForModel(page);
    await expect(page.getByTestId('message-user')).toHaveText([/Once upon a time/]);
    await expect(page.getByTestId('message-assistant')).toContainText([refs['stories260K.gguf'].greedy.slice(0, 40)]);
    // the second turn continues the whole conversation (a model without a template: the texts joined),
    // as llama.cpp does on the same text; a third reuses the cache (fewer tokens computed than sent)
    const second = await ask(page, ' The little dog');
    await expect(page.getByTestId('message-user')).toHaveCount(2);
    const turns = () => storedTurns(page);
    expect(shown(second)).toBe(shown(await llamaGreedy(STORIES, (await turns()).slice(0, 3).join(''), 48)));
    const third = await ask(page, ' The end.');
    expect(shown(third)).toBe(shown(await llamaGreedy(STORIES, (await turns()).slice(0, 5).join(''), 48)));
    const [computed, total] = (/(\d+)\/(\d+) prompt tok/.exec((await page.getByTestId('stats').last().textContent()) ?? '') ?? []).slice(1).map(Number);
    expect(total).toBeGreaterThan(20);
    expect(computed).toBeLessThan(total);
    // Still cross-origin isolated when the service worker serves the page (COOP/COEP kept).
    await page.getByRole('button', { name: 'Device' }).click();
    await expect(page.locator('.device')).toContainText(/Cross-origin isolated\s*yes/);
    await expect(page.locator('.device')).toContainText(/Backend\s*wasm, \d+ thread/);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('runs on WebGPU when chosen (SwiftShader here) with the same greedy answer', async () => {
    const app = await startApp();
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Temperature (0 = greedy)').fill('0');
    await page.getByLabel('Max answer tokens').fill('48');
    await page.getByLabel('Backend').selectOption('webgpu');
    await expect(page.locator('.topbar .status')).toHaveText('webgpu', { timeout: 60_000 });
    const answer = await ask(page, 'Once upon a time');
    expect(answer.replace(/\s+/g, ' ').trim()).toBe(refs['stories260K.gguf'].greedy);
    await expect(page.getByTestId('stats')).toContainText('webgpu');
    await context.close();
    await app.close();
  });

  it('stops a streaming answer with Esc and regenerates', async () => {
    const app = await startApp();
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Max answer tokens').fill('4096');
    await page.getByRole('button', { name: 'Close panel' }).click();
    await page.getByTestId('prompt-input').fill('Once upon a time');
    await page.getByTestId('prompt-input').press('Enter');
    await expect(page.getByTestId('stop-button')).toBeVisible();
    await page.keyboard.press('Escape');
    const stats = page.getByTestId('stats');
    await expect(stats).toHaveCount(1);
    await expect(stats).toContainText('stopped');
    await expect(page.getByTestId('send-button')).toBeVisible();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await expect(page.getByTestId('stop-button')).toBeVisible();
    await page.getByTestId('stop-button').click();
    await expect(page.getByTestId('message-assistant')).toHaveCount(1);
    await expect(page.getByTestId('stats')).toHaveCount(1);
    await context.close();
    await app.close();
  });

  it('a chat longer than the chosen context keeps answering (context shift)', async () => {
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Temperature (0 = greedy)').fill('0');
    await page.getByLabel('Max answer tokens').fill('120');
    await page.getByLabel(/Context tokens/).fill('128');
    await expect(page.getByTestId('context-shift')).toBeChecked();
    await page.getByRole('button', { name: 'Close panel' }).click();
    // the context applies at the next load: the app loads the last model again on start-up
    await page.reload();
    await waitForModel(page);
    const answer = await ask(page, 'Once upon a time, there was a little girl named Lily. She liked to play in the park. '.repeat(4));
    expect(answer.trim().length).toBeGreaterThan(0);
    const stats = page.getByTestId('stats');
    await expect(stats).toContainText('context shifted');
    expect(errors).toEqual([]);
    await context.close();
    await app.close();
  });
});
