// A model the engine cannot run is refused from its header: an import stores nothing, a download
// never fetches the body; a model that fails to load leaves the previous one selected and
// answering; on WASM under 'auto' the app says why the GPU was not used.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openGGUF } from '../src/formats/gguf/reader.ts';
import { openNodeFile } from '../src/formats/node-file-source.ts';
import { writeGGUF } from '../src/formats/gguf/writer.ts';
import { type App, ask, expect, expectStoriesGreedy, FIXTURES, launch, openApp, startApp, storedKeys, waitForModel } from './harness.ts';
import { startModelServer, type ModelServer } from './model-server.ts';

/** stories260K with general.architecture renamed, written to a temp dir (never committed). */
async function fakeArchModel(): Promise<Uint8Array> {
  const f = await openGGUF(await openNodeFile(path.join(FIXTURES, 'models/stories260K.gguf')));
  const meta = [...f.metadata].map(([key, value]) => ({ key, value: key === 'general.architecture' ? 'notarealarch' : value, type: f.metadataTypes.get(key)! }));
  const tensors = await Promise.all(f.tensors.map(async (t) => ({ ...t, data: await f.readTensor(t) })));
  await f.close();
  return writeGGUF(meta, tensors);
}

/** Writes a complete model straight into the app's IndexedDB store, as an older version of the app might have. */
function injectStoredModel(page: Page, id: string, bytes: Uint8Array): Promise<void> {
  return page.evaluate(({ id, b64 }) => new Promise<void>((resolve, reject) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('shards', 'readwrite');
      const store = tx.objectStore('shards');
      store.put(data, `${id}/0/0`);
      store.put({
        id, name: id, complete: true, createdAt: Date.now(), source: { kind: 'file' },
        files: [{ name: `${id}.gguf`, size: data.length, chunkSize: 16 * 1024 * 1024, chunks: 1 }],
      }, `manifest:${id}`);
      tx.oncomplete = () => { open.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), { id, b64: Buffer.from(bytes).toString('base64') });
}

const DEMO = /^bundled:.*stories260K\.gguf$/;

let browser: Browser;
let app: App;
let host: ModelServer;
let fakePath: string;
let fake: Uint8Array;

beforeAll(async () => {
  fake = await fakeArchModel();
  fakePath = path.join(mkdtempSync(path.join(tmpdir(), 'refuse-e2e-')), 'stories-notarealarch.gguf');
  writeFileSync(fakePath, fake);
  [browser, app, host] = await Promise.all([launch(), startApp(), startModelServer({ 'unsupported.gguf': fake })]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), host?.close()]);
});

describe('refused before the copy', () => {
  it('an import of an unsupported architecture stores nothing, and the demo model still answers', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByText('choose files').click();
    await (await chooser).setFiles(fakePath);
    const error = page.getByTestId('transfer').filter({ hasText: 'stories-notarealarch' }).getByTestId('transfer-error');
    await expect(error).toContainText(`architecture is 'notarealarch', which this engine cannot run yet (supported: llama`);
    await expect(error).toContainText('Nothing was stored.');
    expect(await storedKeys(page, 'stories-notarealarch')).toEqual([]);
    await expect(page.getByTestId('stored-model')).toHaveCount(0);
    await expect(page.getByTestId('model-picker')).toHaveValue(DEMO);
    await expectStoriesGreedy(page);
    await context.close();
  });

  it('a download by URL of an unsupported file is refused from a range of its header, before the body', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByTestId('download-url').fill(`${host.url}files/unsupported.gguf`);
    await page.getByTestId('download-button').click();
    const error = page.getByTestId('transfer').filter({ hasText: 'unsupported' }).getByTestId('transfer-error');
    await expect(error).toContainText(`architecture is 'notarealarch'`);
    const requests = host.log.filter((r) => r.path.endsWith('/unsupported.gguf'));
    expect(requests).toEqual([{ path: '/files/unsupported.gguf', range: 'bytes=0-1048575', status: 206 }]);
    expect(await storedKeys(page, 'unsupported')).toEqual([]);
    await context.close();
  });
});

describe('a failed load keeps the previous model', () => {
  it('shows the error, keeps the demo selected and answering', async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await injectStoredModel(page, 'legacy-notarealarch', fake);
    await page.reload();
    await waitForModel(page);
    await page.getByTestId('model-picker').selectOption({ label: 'legacy-notarealarch' });
    await expect(page.locator('.banner.error')).toContainText(
      /legacy-notarealarch could not be loaded: .*'notarealarch'.*\. stories260K \(demo, built in\) is still loaded\./);
    await expect(page.getByTestId('model-picker')).toHaveValue(DEMO);
    await waitForModel(page);
    await expectStoriesGreedy(page);
    await context.close();
  });
});

describe('why the GPU was not used', () => {
  it("on WASM under 'auto', the device panel and the stats say why, from the worker's typed reason", async () => {
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    const status = (await page.locator('.topbar .status').textContent()) ?? '';
    if (!status.startsWith('wasm')) { await context.close(); return; } // a real GPU: nothing fell back
    await ask(page, 'Once upon a time');
    await expect(page.getByTestId('gpu-fallback-note').last()).toContainText(/^GPU not used: (no WebGPU|no GPU adapter|software GPU only|GPU refused a device|model failed on the GPU)$/);
    await page.getByRole('button', { name: 'Device' }).click();
    const reason = page.getByTestId('gpu-fallback');
    await expect(reason).toBeVisible();
    // Headless Chromium here offers only SwiftShader, which 'auto' passes over for WASM.
    const adapter = await page.evaluate(async () => (await (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info: { vendor: string } } | null> } }).gpu?.requestAdapter())?.info.vendor ?? null);
    if (adapter !== null) await expect(reason).toContainText(/emulates a GPU on the CPU|failed to load on the GPU|could not be started/);
    await context.close();
  });
});
