// Storage under stress, in real Chromium with real IndexedDB: the disk fills up mid-download
// (a shim in the engine worker, see fullDiskShim), the network goes away mid-download, the
// browser loses a stored chunk, and a server changes a byte between Pause and Resume. Never is a
// half-stored or damaged model offered as ready, and every model with a known hash is verified.
// The catalogue of a copy of the built app lists the test models with their SHA-256.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type App, DIST, expect, launch, openApp, openModels, startApp, storedKeys, waitForModel } from './harness.ts';
import { startModelServer, type ModelServer } from './model-server.ts';
import { deleteStoredKey, MiB, paddedModel, storedManifest, storedSha256 } from './stored-model.ts';

const big = paddedModel(40 * MiB);
const bigSha = createHash('sha256').update(big).digest('hex');
/** catalogue name → model id and the model server route it is served from */
const MODELS: Record<string, { id: string; route: 'slow' | 'files' }> = {
  'Chaos quota': { id: 'chaos-quota', route: 'slow' },
  'Chaos offline': { id: 'chaos-offline', route: 'slow' },
  'Chaos evict': { id: 'chaos-evict', route: 'files' },
  'Chaos corrupt': { id: 'chaos-corrupt', route: 'slow' },
};

let browser: Browser;
let host: ModelServer;
let app: App;
let fullDisk: App;
let bundledBroken: App;
const copies: string[] = [];

/** A copy of dist/ with `change` applied (the service worker precaches whatever this copy serves). */
function distCopy(change: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'storage-chaos-'));
  cpSync(DIST, dir, { recursive: true });
  change(dir);
  copies.push(dir);
  return dir;
}

/**
 * Prepended to the engine worker: a disk that fills up after `limit` bytes. Each IndexedDB put of
 * model bytes past it throws the QuotaExceededError DOMException a full disk gives, until the page
 * posts 'freed' on the BroadcastChannel 'chaos-disk'. (Chromium's DevTools quota override,
 * Storage.overrideQuotaForOrigin, has no effect on this build, and page.route breaks the worker's
 * cross-origin fetches, so the shim is part of the served worker file.)
 */
const fullDiskShim = (limit: number): string => `{
  let written = 0, freed = false;
  new BroadcastChannel('chaos-disk').onmessage = (e) => { if (e.data === 'freed') freed = true; };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, key) {
    if (value instanceof Uint8Array && !freed && (written += value.byteLength) > ${limit}) {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    return put.call(this, value, key);
  };
}
`;

function addChaosCatalogue(dir: string): void {
  const file = path.join(dir, 'models.json');
  const cat = JSON.parse(readFileSync(file, 'utf8')) as { models: Record<string, unknown>[] };
  cat.models = [cat.models[0], ...Object.entries(MODELS).map(([name, m]) => ({
    id: m.id, name, url: `${host.url}${m.route}/${m.id}.gguf`, size: big.length, memory: 3_000_000, license: 'MIT', sha256: bigSha,
  }))];
  writeFileSync(file, JSON.stringify(cat));
}

beforeAll(async () => {
  [browser, host] = await Promise.all([launch(), startModelServer(Object.fromEntries(
    Object.values(MODELS).map((m) => [`${m.id}.gguf`, big])))]);
  const withChaosModels = distCopy(addChaosCatalogue);
  const withFullDisk = distCopy((dir) => {
    addChaosCatalogue(dir);
    const assets = path.join(dir, 'assets');
    const worker = readdirSync(assets).find((f) => /^engine\.worker-.*\.js$/.test(f));
    if (!worker) throw new Error('dist/assets has no engine.worker-*.js');
    writeFileSync(path.join(assets, worker), fullDiskShim(20 * MiB) + readFileSync(path.join(assets, worker), 'utf8'));
  });
  const withDamagedDemo = distCopy((dir) => {
    const file = path.join(dir, 'models/stories260K.gguf');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1000] ^= 0x01; // in the tensor data: the header still parses
    writeFileSync(file, bytes);
  });
  [app, fullDisk, bundledBroken] = await Promise.all([startApp(withChaosModels), startApp(withFullDisk), startApp(withDamagedDemo)]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), fullDisk?.close(), bundledBroken?.close(), host?.close()]);
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

function catalogueButton(page: Page, name: string, button: string) {
  return page.getByTestId('catalogue-entry').filter({ hasText: name }).getByRole('button', { name: button, exact: true });
}

/** Records every "verifying … %" line the transfer rows show from now on. */
async function watchVerifying(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { verifying: string[] }).verifying = seen;
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="transfer-verifying"]')) seen.push(el.textContent ?? '');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { verifying: string[] }).verifying);
}

/** Waits until the transfer of `name` is past its first 16 MiB chunk, so one chunk is committed. */
async function pastFirstChunk(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId('transfer').filter({ hasText: name })).toContainText(/(1[7-9]|2\d)\.\d MB \/ 40\.0 MB/, { timeout: 30_000 });
}

/** The model is listed, verified and loadable: Load shown, the exact bytes stored, the hash recorded. */
async function expectReady(page: Page, name: string): Promise<void> {
  const card = page.getByTestId('stored-model').filter({ hasText: name });
  await expect(card.getByRole('button', { name: 'Load', exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(card.getByTestId('missing-data')).toHaveCount(0);
  expect(await storedSha256(page, MODELS[name].id)).toBe(bigSha);
  expect((await storedManifest(page, MODELS[name].id))?.files[0].sha256).toBe(bigSha);
}

/** Not offered as ready: no Load on its card and not in the model picker. */
async function expectNotReady(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId('stored-model').filter({ hasText: name }).getByRole('button', { name: 'Load', exact: true })).toHaveCount(0);
  await expect(page.getByTestId('model-picker').locator('option', { hasText: name })).toHaveCount(0);
}

describe('storage chaos', () => {
  it('quota runs out mid-download: a clear message, the committed chunk is kept, Resume finishes once space is back', async () => {
    // this copy of the app's engine worker has a disk that is full after 20 MiB (fullDiskShim)
    const { context, page, errors } = await openApp(browser, fullDisk.url);
    await waitForModel(page);
    await openModels(page);
    const name = 'Chaos quota';
    await catalogueButton(page, name, 'Download').click();
    const transfer = page.getByTestId('transfer').filter({ hasText: name });
    await expect(transfer.getByTestId('transfer-error')).toHaveText(
      /^Browser storage is full: saving chaos-quota\.gguf needs 24\.0 MB more\. Free space by deleting models, then press Resume: the 16\.0 MB already downloaded are kept\.$/,
      { timeout: 30_000 });
    const card = page.getByTestId('stored-model').filter({ hasText: name });
    await expect(card).toContainText('partial: 16.0 MB of 40.0 MB');
    await expectNotReady(page, name);
    expect((await storedKeys(page, 'chaos-quota')).sort()).toEqual(['chaos-quota/0/0', 'manifest:chaos-quota']);

    // After a reload the partial is still listed; then space is freed and Resume continues after
    // the kept chunk and verifies the whole file.
    await page.reload();
    await waitForModel(page);
    await openModels(page);
    await expect(card).toContainText('partial: 16.0 MB of 40.0 MB');
    await expectNotReady(page, name);
    await page.evaluate(() => new BroadcastChannel('chaos-disk').postMessage('freed'));
    const before = host.log.length;
    const verifying = await watchVerifying(page);
    await card.getByRole('button', { name: 'Resume', exact: true }).click();
    await expectReady(page, name);
    expect(host.log[before]).toMatchObject({ range: `bytes=${16 * MiB}-`, status: 206 });
    expect(await verifying()).toContainEqual(expect.stringMatching(/^verifying SHA-256… \d+ % /));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the network goes away mid-download: after a reload the partial is resumable, and Resume online completes and verifies it', async () => {
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    const name = 'Chaos offline';
    await catalogueButton(page, name, 'Download').click();
    await pastFirstChunk(page, name);
    // Offline for new requests; the one streaming is cut (going offline alone lets it finish).
    await context.setOffline(true);
    host.cut();
    // The download retries on its own (1 + 2 + 4 s), then gives up and says why.
    await expect(page.getByTestId('transfer').filter({ hasText: name }).getByTestId('transfer-error'))
      .toHaveText(/^Cannot reach http:\/\/localhost:\d+\/slow\/chaos-offline\.gguf: /, { timeout: 30_000 });

    // Still offline: the service worker serves the app, and the partial is listed for Resume.
    await page.reload();
    await waitForModel(page);
    await openModels(page);
    const card = page.getByTestId('stored-model').filter({ hasText: name });
    await expect(card).toContainText(/partial: (16|32)\.0 MB of 40\.0 MB/);
    await expectNotReady(page, name);
    expect((await storedManifest(page, 'chaos-offline'))?.files[0].expectedSha256).toBe(bigSha);

    await context.setOffline(false);
    const verifying = await watchVerifying(page);
    // The card's Resume passes no hash: the one kept in the partial's manifest is checked.
    await card.getByRole('button', { name: 'Resume', exact: true }).click();
    await expectReady(page, name);
    expect(await verifying()).toContainEqual(expect.stringMatching(/^verifying SHA-256… \d+ % /));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a stored model that lost a chunk is marked missing at load and list time, and Re-download restores it', async () => {
    const { context, page, errors } = await openApp(browser, app.url, { initScript: () => {
      // counts the app's requests for persistent storage (the real call still runs)
      const storage = navigator.storage;
      const persist = storage.persist.bind(storage);
      (window as unknown as { persistCalls: number }).persistCalls = 0;
      storage.persist = () => { (window as unknown as { persistCalls: number }).persistCalls++; return persist(); };
    } });
    await waitForModel(page);
    await openModels(page);
    const name = 'Chaos evict';
    const persistCalls = () => page.evaluate(() => (window as unknown as { persistCalls: number }).persistCalls);
    expect(await persistCalls()).toBe(0);
    await catalogueButton(page, name, 'Download').click();
    await expectReady(page, name);
    expect(await persistCalls()).toBe(1);

    await deleteStoredKey(page, 'chaos-evict/0/1');
    const card = page.getByTestId('stored-model').filter({ hasText: name });
    await card.getByRole('button', { name: 'Load', exact: true }).click();
    await expect(page.locator('.banner')).toContainText('Chaos evict is missing 1 of its 3 stored parts (the browser may have evicted them to free space). Download it again, or delete it.');
    await expect(card.getByTestId('missing-data')).toContainText('1 stored part is gone');
    await expectNotReady(page, name);
    await expect(page.getByTestId('model-picker')).not.toHaveValue('stored:chaos-evict');

    await page.reload();
    await waitForModel(page);
    await openModels(page);
    await expect(card.getByTestId('missing-data')).toContainText('1 stored part is gone');
    await expectNotReady(page, name);
    await expect(catalogueButton(page, name, 'Re-download')).toBeVisible();
    await card.getByRole('button', { name: 'Re-download' }).click();
    await expectReady(page, name);
    expect((await storedKeys(page, 'chaos-evict')).length).toBe(1 + 3);

    // persistence was asked once in this page (the reload made a new one), and the Device panel says how it went
    expect(await persistCalls()).toBe(1);
    const persisted = await page.evaluate(() => navigator.storage.persisted());
    await page.getByRole('button', { name: 'Device', exact: true }).click();
    await expect(page.getByTestId('storage-persisted')).toHaveText(persisted ? 'yes' : 'no (the browser may evict models)');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a resumed download keeps its hash: a byte changed on the server after the pause fails the check, and nothing is kept', async () => {
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    const name = 'Chaos corrupt';
    await catalogueButton(page, name, 'Download').click();
    await pastFirstChunk(page, name);
    const transfer = page.getByTestId('transfer').filter({ hasText: name });
    await transfer.getByRole('button', { name: 'Pause' }).click();
    await expect(transfer).toContainText('paused');

    const served = big.slice();
    served[36 * MiB] ^= 0x01; // past anything stored before the pause
    host.set('chaos-corrupt.gguf', served);
    const servedSha = createHash('sha256').update(served).digest('hex');
    await page.reload();
    await waitForModel(page);
    await openModels(page);
    const card = page.getByTestId('stored-model').filter({ hasText: name });
    await card.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect(page.getByTestId('transfer').filter({ hasText: name }).getByTestId('transfer-error')).toHaveText(
      `chaos-corrupt.gguf failed its integrity check: the bytes received do not match the published SHA-256 (expected ${bigSha}, ` +
      `got ${servedSha}), so the file is damaged or not the one published. It was not kept; download it again.`, { timeout: 60_000 });
    await expect(card).toHaveCount(0);
    await expectNotReady(page, name);
    expect(await storedKeys(page, 'chaos-corrupt')).toEqual([]);
    host.set('chaos-corrupt.gguf', big);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the bundled demo model is checked against the catalogue hash: a damaged copy is refused with a clear message', async () => {
    const { context, page } = await openApp(browser, bundledBroken.url);
    await expect(page.locator('.banner')).toContainText(
      /^stories260K \(demo, built in\) could not be loaded: stories260K\.gguf failed its integrity check: .* Reload the page to fetch it again\.$/,
      { timeout: 60_000 });
    await expect(page.locator('.topbar .status')).not.toHaveText(/^(wasm|webgpu)/);
    await context.close();
  });
});
