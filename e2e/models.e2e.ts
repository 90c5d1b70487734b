// Model manager: import through the file chooser and chat; a download whose connection drops
// halfway resumes with a Range request and stores the exact bytes; 404, non-GGUF and quota
// failures explain themselves and store nothing.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type App, ask, expect, expectStoriesGreedy, FIXTURES, launch, openApp, openModels, startApp, storedKeys, waitForModel } from './harness.ts';
import { startModelServer, type ModelServer } from './model-server.ts';
import { MiB, paddedModel, storedSha256 } from './stored-model.ts';

async function startDownload(page: Page, url: string): Promise<void> {
  await page.getByTestId('download-url').fill(url);
  await page.getByTestId('download-button').click();
}

let browser: Browser;
let app: App;
let host: ModelServer;
const big = paddedModel(40 * MiB);
const bigSha = createHash('sha256').update(big).digest('hex');

beforeAll(async () => {
  [browser, app, host] = await Promise.all([launch(), startApp(), startModelServer({
    'big-model.gguf': big,
    'not-a-model.gguf': new TextEncoder().encode('<!doctype html><title>Sign in</title><p>This is a login page, not a model.</p>'),
  })]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), host?.close()]);
});

describe('model manager', () => {
  it('imports a GGUF through the file chooser, chats with it, and deletes it', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    const chooser = page.waitForEvent('filechooser');
    await page.getByText('choose files').click();
    await (await chooser).setFiles(path.join(FIXTURES, 'quant/dev-qwen2-tied.Q4_K_M.gguf'));
    const card = page.getByTestId('stored-model').filter({ hasText: 'dev-qwen2-tied.Q4_K_M' });
    await expect(card).toContainText('MB');
    await page.getByTestId('model-picker').selectOption({ label: 'dev-qwen2-tied.Q4_K_M' });
    await expect(page.getByTestId('model-picker')).toHaveValue('stored:dev-qwen2-tied.Q4_K_M');
    await waitForModel(page);
    await ask(page, 'Hello there');
    await expect(page.getByTestId('message-assistant').last()).toContainText('dev-qwen2-tied.Q4_K_M');

    await card.getByRole('button', { name: 'Delete' }).click();
    await expect(card).toHaveCount(0);
    expect(await storedKeys(page, 'dev-qwen2-tied.Q4_K_M')).toEqual([]);
    await context.close();
  });

  it('resumes a download whose connection drops halfway and stores the exact bytes', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    await startDownload(page, `${host.url}drop-once/big-model.gguf`);
    const card = page.getByTestId('stored-model').filter({ hasText: 'big-model' });
    await expect(card.getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('transfer')).toHaveCount(0);

    const requests = host.log.filter((r) => r.path.endsWith('/big-model.gguf'));
    // The header first, as a range: it is checked before anything is stored.
    expect(requests[0]).toMatchObject({ range: 'bytes=0-1048575', status: 206 });
    expect(requests[1]).toMatchObject({ range: undefined, status: 200 });
    // The retry continues after the last whole 16 MiB chunk that was stored.
    expect(requests.slice(2)).toEqual([expect.objectContaining({ range: `bytes=${16 * MiB}-`, status: 206 })]);
    expect(await storedSha256(page, 'big-model')).toBe(bigSha);

    // The stored copy is a working model (the padding after the tensors is ignored).
    await card.getByRole('button', { name: 'Load' }).click();
    await expect(page.getByTestId('model-picker')).toHaveValue('stored:big-model');
    await waitForModel(page);
    await expectStoriesGreedy(page);
    await context.close();
  });

  it('pauses a download, lists the partial after a reload, and resumes it by Range', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    await startDownload(page, `${host.url}slow/big-model.gguf`);
    const transfer = page.getByTestId('transfer').filter({ hasText: 'big-model' });
    await expect(transfer).toContainText(/MB\/s · ETA/);
    // Past the first 16 MiB chunk, so something is stored when we pause.
    await expect(transfer).toContainText(/(1[7-9]|[23]\d)\.\d MB \/ 40\.0 MB/, { timeout: 30_000 });
    await transfer.getByRole('button', { name: 'Pause' }).click();
    await expect(transfer).toContainText('paused');

    await page.reload();
    await waitForModel(page);
    await openModels(page);
    const card = page.getByTestId('stored-model').filter({ hasText: 'big-model' });
    await expect(card).toContainText(/partial: (16|32)\.0 MB of 40\.0 MB/);
    const before = host.log.length;
    await card.getByRole('button', { name: 'Resume' }).click();
    await expect(card.getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 60_000 });
    expect(host.log[before].range).toMatch(/^bytes=(16777216|33554432)-$/);
    expect(await storedSha256(page, 'big-model')).toBe(bigSha);
    await context.close();
  });

  it('explains a 404, a non-GGUF file and a full quota, and stores nothing', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    const error = (name: string) => page.getByTestId('transfer').filter({ hasText: name }).getByTestId('transfer-error');

    await startDownload(page, `${host.url}files/missing-model.gguf`);
    await expect(error('missing-model')).toContainText('HTTP 404');
    await startDownload(page, `${host.url}files/not-a-model.gguf`);
    await expect(error('not-a-model')).toContainText('is not a GGUF model file');

    // The quota is checked against the announced size before anything is written.
    await startDownload(page, `${host.url}huge/huge-model.gguf`);
    await expect(error('huge-model')).toContainText(/Not enough browser storage for huge-model: needs 1024\.0 TB .* available/);

    for (const id of ['missing-model', 'not-a-model', 'huge-model']) expect(await storedKeys(page, id)).toEqual([]);
    await expect(page.getByTestId('stored-model')).toHaveCount(0);
    await context.close();
  });
});
