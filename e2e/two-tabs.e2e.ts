// Two tabs of the app in one browser profile (one context: shared IndexedDB, Web Locks and
// BroadcastChannel). One model has one writer: a second tab that asks for the same download
// follows the first one's; when the writer's tab is closed the other finds a resumable partial,
// never a torn model listed as ready. Chats written in one tab appear in the other, and turns
// sent from both at once are all kept. A model loaded in one tab cannot be deleted from another.
import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type App, ask, expect, launch, startApp, waitForModel } from './harness.ts';
import { paddedModel, rawModel } from './stored-model.ts';
import { startModelServer, type ModelServer } from './model-server.ts';

const MiB = 1024 * 1024;
const big = paddedModel(40 * MiB);
const bigSha = createHash('sha256').update(big).digest('hex');

let browser: Browser;
let app: App;
let host: ModelServer;
beforeAll(async () => { [browser, app, host] = await Promise.all([launch(), startApp(), startModelServer({ 'big-model.gguf': big })]); });
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), host?.close()]);
});

interface Tabs { context: BrowserContext; a: Page; b: Page; errors: string[] }

/** Two pages of one context, both with the demo model loaded (the first visit loads it). */
async function openTwoTabs(): Promise<Tabs> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const errors: string[] = [];
  const tab = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(app.url);
    await waitForModel(page);
    return page;
  };
  const a = await tab();
  return { context, a, b: await tab(), errors };
}

async function startDownload(page: Page, url: string): Promise<void> {
  await page.getByRole('button', { name: 'Models', exact: true }).click();
  await page.getByTestId('download-url').fill(url);
  await page.getByTestId('download-button').click();
}

const card = (page: Page) => page.getByTestId('stored-model').filter({ hasText: 'big-model' });
const transfer = (page: Page) => page.getByTestId('transfer').filter({ hasText: 'big-model' });
const bodyRequests = (from: number) => host.log.slice(from).filter((r) => r.path.endsWith('/big-model.gguf') && !/^bytes=\d+-\d+$/.test(r.range ?? ''));

describe('two tabs', () => {
  it('both tabs download the same model: one writer, one transfer, both list it ready with the served bytes', async () => {
    const { context, a, b, errors } = await openTwoTabs();
    const from = host.log.length;
    const url = `${host.url}slow/big-model.gguf`;
    await startDownload(a, url);
    await expect(transfer(a)).toContainText(/MB\/s · ETA/);
    await startDownload(b, url);
    // B follows A's download: its progress, no Pause of its own
    await expect(transfer(b)).toHaveAttribute('data-other-tab', 'true');
    await expect(transfer(b)).toContainText('running in another tab');
    await expect(transfer(b)).toContainText(/[1-9]\d?\.\d MB \/ 40\.0 MB/, { timeout: 30_000 });
    await expect(transfer(b).getByRole('button', { name: 'Pause' })).toHaveCount(0);

    for (const page of [a, b]) await expect(card(page).getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 60_000 });
    for (const page of [a, b]) await expect(transfer(page)).toHaveCount(0);
    // one header probe and one full body: nothing from the second tab
    const probes = host.log.slice(from).filter((r) => r.path.endsWith('/big-model.gguf') && r.range === 'bytes=0-1048575');
    expect(probes).toHaveLength(1);
    expect(bodyRequests(from)).toEqual([expect.objectContaining({ range: undefined, status: 200 })]);
    const raw = await rawModel(b, 'big-model');
    expect(raw.manifest?.complete).toBe(true);
    expect(raw.sha256).toBe(bigSha);

    // Loaded in A, it cannot be deleted from B (A's layer streaming may read it); A itself can.
    await card(a).getByRole('button', { name: 'Load' }).click();
    await expect(a.getByTestId('model-picker')).toHaveValue('stored:big-model');
    await waitForModel(a);
    await card(b).getByRole('button', { name: 'Delete' }).click();
    await expect(b.locator('.banner.error')).toContainText('big-model is loaded in another tab of this app.');
    await expect(card(b)).toHaveCount(1);
    // Deleting in A (which unloads it first) shows in B without a reload.
    await card(a).getByRole('button', { name: 'Delete' }).click();
    await expect(card(b)).toHaveCount(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the writer tab is closed mid-download: the other lists a resumable partial and Resume completes it', async () => {
    const { context, a, b, errors } = await openTwoTabs();
    const url = `${host.url}slow/big-model.gguf`;
    await startDownload(a, url);
    await startDownload(b, url);
    await expect(transfer(b)).toHaveAttribute('data-other-tab', 'true');
    // past the first 16 MiB chunk, so A has stored something
    await expect(transfer(b)).toContainText(/(1[7-9]|[23]\d)\.\d MB \/ 40\.0 MB/, { timeout: 30_000 });
    // B lists the partial A is writing; deleting it there is refused while A writes
    await expect(card(b)).toContainText(/partial: /);
    await expect(card(b).getByRole('button', { name: 'Resume' })).toHaveCount(0);
    await card(b).getByRole('button', { name: 'Delete' }).click();
    await expect(b.locator('.banner.error')).toContainText('big-model is being downloaded or imported in another tab of this app.');
    await expect(transfer(a)).toHaveText(/running/);
    await a.close();

    await expect(transfer(b).getByTestId('transfer-error')).toContainText('in another tab stopped', { timeout: 30_000 });
    await expect(card(b)).toContainText(/partial: (16|32)\.0 MB of 40\.0 MB/);
    await expect(card(b).getByRole('button', { name: 'Load' })).toHaveCount(0);
    // the manifest counts exactly the chunks that are stored: nothing torn
    const partial = await rawModel(b, 'big-model');
    expect(partial.manifest?.complete).toBe(false);
    expect(partial.chunkKeys).toHaveLength(partial.manifest!.files[0].chunks);

    const from = host.log.length;
    await card(b).getByRole('button', { name: 'Resume' }).click();
    await expect(card(b).getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 60_000 });
    expect(bodyRequests(from)).toEqual([expect.objectContaining({ range: `bytes=${partial.chunkKeys.length * 16 * MiB}-`, status: 206 })]);
    expect((await rawModel(b, 'big-model')).sha256).toBe(bigSha);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a chat written in tab A appears in tab B, a turn in B appears in A, and turns sent at once are all kept', async () => {
    const { context, a, b, errors } = await openTwoTabs();
    for (const page of [a, b]) {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Max answer tokens').fill('16');
      await page.getByRole('button', { name: 'Close panel' }).click();
    }
    const firstAnswer = await ask(a, 'Hello from tab A');
    const title = b.getByRole('button', { name: 'Hello from tab A', exact: true });
    await expect(title).toBeVisible();
    await title.click();
    const users = (page: Page) => page.getByTestId('message-user').locator('.message-body');
    await expect(users(b)).toHaveText(['Hello from tab A']);
    await expect(b.getByTestId('message-assistant').locator('.message-body')).toHaveText([firstAnswer]);

    await ask(b, 'Reply from tab B');
    await expect(users(a)).toHaveText(['Hello from tab A', 'Reply from tab B']);
    await expect(a.getByTestId('message-assistant').getByTestId('stats')).toHaveCount(2);

    // Both tabs send into the same conversation in the same millisecond, each from its own copy
    // (neither has seen the other's turn yet): a plain put would keep only the last one saved.
    for (const [page, text] of [[a, 'Both at once: A'], [b, 'Both at once: B']] as const) await page.getByTestId('prompt-input').fill(text);
    const at = Date.now() + 500;
    await Promise.all([a, b].map((page) => page.evaluate((t) => {
      setTimeout(() => document.querySelector<HTMLButtonElement>('[data-testid="send-button"]')!.click(), t - Date.now());
    }, at)));
    const all = ['Hello from tab A', 'Reply from tab B', 'Both at once: A', 'Both at once: B'];
    for (const page of [a, b]) {
      await expect(users(page)).toHaveCount(4, { timeout: 60_000 });
      await expect(page.getByTestId('message-assistant').getByTestId('stats')).toHaveCount(4, { timeout: 60_000 });
      const texts = (await users(page).allTextContents()).map((t) => t.trim());
      expect(texts.slice(0, 2)).toEqual(all.slice(0, 2));
      expect([...texts].sort()).toEqual([...all].sort());
    }
    const stored = await a.evaluate(() => new Promise<{ role: string; content: string }[][]>((resolve, reject) => {
      const open = indexedDB.open('edge-llm-chat');
      open.onsuccess = () => {
        const req = open.result.transaction('conversations').objectStore('conversations').getAll();
        req.onsuccess = () => resolve((req.result as { messages: { role: string; content: string }[] }[]).map((c) => c.messages));
        req.onerror = () => reject(req.error);
      };
      open.onerror = () => reject(open.error);
    }));
    expect(stored).toHaveLength(1);
    expect(stored[0].filter((m) => m.role === 'user').map((m) => m.content).sort()).toEqual([...all].sort());
    expect(stored[0].filter((m) => m.role === 'assistant')).toHaveLength(4);
    expect(errors).toEqual([]);
    await context.close();
  });
});
