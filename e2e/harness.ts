// Shared e2e plumbing: Debian Chromium, the built app served by scripts/serve.mjs, and page helpers.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, expect, type Browser, type BrowserContext, type Page } from 'playwright/test';
import { serve } from '../scripts/serve.mjs';

export { expect };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = path.resolve(root, '../shared/fixtures');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export interface App {
  url: string;
  close(): Promise<void>;
}

export async function startApp(): Promise<App> {
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run `npx vite build` before the e2e tests.');
  const { server, url } = await serve({ root: dist, port: 0 });
  return { url, close: () => closeServer(server) };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface Opened {
  context: BrowserContext;
  page: Page;
  /** every dialog (alert/confirm/prompt) the page opened */
  dialogs: string[];
  errors: string[];
}

export async function openApp(browser: Browser, url: string): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  // Confirmations (delete) are accepted; anything else is recorded and dismissed.
  page.on('dialog', (d) => { dialogs.push(`${d.type()}: ${d.message()}`); void (d.type() === 'confirm' ? d.accept() : d.dismiss()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { context, page, dialogs, errors };
}

/** Waits until a model is loaded (the composer accepts input and the status shows the backend). */
export async function waitForModel(page: Page, timeout = 60_000): Promise<void> {
  try {
    await expect(page.locator('.topbar .status')).toHaveText(/^(wasm|webgpu)/, { timeout });
  } catch (e) {
    const status = await page.locator('.topbar .status').textContent().catch(() => '?');
    const banner = await page.locator('.banner').allTextContents().catch(() => []);
    throw new Error(`No model loaded (status "${status}", errors ${JSON.stringify(banner)}): ${(e as Error).message}`);
  }
}

/** Sends a prompt and returns the text of the answer once its stats are shown. */
export async function ask(page: Page, text: string, timeout = 60_000): Promise<string> {
  const answers = page.getByTestId('message-assistant');
  const before = await answers.count();
  await page.getByTestId('prompt-input').fill(text);
  await page.getByTestId('send-button').click();
  await expect(answers).toHaveCount(before + 1, { timeout });
  const answer = answers.nth(before);
  await expect(answer.getByTestId('stats')).toBeVisible({ timeout });
  return (await answer.locator('.message-body').textContent()) ?? '';
}

/** Keys in the model store (IndexedDB, read directly, not through the app) that belong to `id`. */
export function storedKeys(page: Page, id: string): Promise<string[]> {
  return page.evaluate((modelId) => new Promise<string[]>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('shards')) { db.close(); resolve([]); return; }
      const req = db.transaction('shards').objectStore('shards').getAllKeys();
      req.onsuccess = () => {
        db.close();
        resolve((req.result as string[]).filter((k) => k === `manifest:${modelId}` || k.startsWith(`${modelId}/`)));
      };
      req.onerror = () => reject(req.error);
    };
  }), id);
}
