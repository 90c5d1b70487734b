// Shared e2e plumbing: Debian Chromium, the built app served by scripts/serve.mjs, and page helpers.
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, expect, type Browser, type BrowserContext, type Page } from 'playwright/test';
import { serve, type CspViolation } from '../scripts/serve.mjs';
import { shown } from '../test/llama-greedy.ts';

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

/** Every Content-Security-Policy violation seen in this test file: reports posted to the app's server
 * (pages, workers and the service worker) and the console's "Refused to …" lines. e2e/csp-guard.ts
 * fails the file if any. */
export const cspViolations: string[] = [];

function describeViolation(r: CspViolation): string {
  const pick = (...keys: string[]) => keys.map((k) => r[k]).find((v) => typeof v === 'string') ?? '?';
  return `${pick('violated-directive', 'effectiveDirective', 'effective-directive')} blocked ${pick('blocked-uri', 'blockedURL')} in ${pick('document-uri', 'documentURL')}`;
}

export const DIST = path.join(root, 'dist');

/** Serves the built app; `dist`: another copy of it (a test that changes the catalogue or a file). */
export async function startApp(dist = DIST): Promise<App> {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run `npx vite build` before the e2e tests.');
  const { server, url } = await serve({ root: dist, port: 0, onCspViolation: (r) => cspViolations.push(describeViolation(r)) });
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

export interface OpenOptions {
  /** runs in the page before the app does (e.g. to watch a browser API) */
  initScript?: () => void;
  /** 'block': no service worker, so every request reaches the network (and page.route) */
  serviceWorkers?: 'allow' | 'block';
}

export async function openApp(browser: Browser, url: string, opts: OpenOptions = {}): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, serviceWorkers: opts.serviceWorkers });
  if (opts.initScript) await context.addInitScript(opts.initScript);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  // Confirmations (delete) are accepted; anything else is recorded and dismissed.
  page.on('dialog', (d) => { dialogs.push(`${d.type()}: ${d.message()}`); void (d.type() === 'confirm' ? d.accept() : d.dismiss()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
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

/**
 * Asks the loaded stories260K "Once upon a time" greedily: the answer is llama.cpp's 48 greedy tokens
 * (the fixture's reference, quant/llamacpp-refs.json). Leaves the settings greedy, 48 tokens.
 */
export async function expectStoriesGreedy(page: Page): Promise<void> {
  const refs = JSON.parse(readFileSync(path.join(FIXTURES, 'quant/llamacpp-refs.json'), 'utf8')) as Record<string, { greedy: string }>;
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Temperature (0 = greedy)').fill('0');
  await page.getByLabel('Max answer tokens').fill('48');
  await page.getByRole('button', { name: 'Close panel' }).click();
  expect(shown(await ask(page, 'Once upon a time'))).toBe(refs['stories260K.gguf'].greedy);
}

/** Records the body of every chat request the page sends to a remote server, in order. */
export function chatRequests(page: Page): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && /\/v1\/chat\/completions$/.test(r.url())) bodies.push(r.postDataJSON() as Record<string, unknown>);
  });
  return bodies;
}

/**
 * The server's own non-streamed answer to a chat request the app sent: what the streamed answer must
 * equal. The prompt is evaluated afresh (no cache), as it was for the app's first request.
 */
export async function serverAnswer(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: false, stream_options: undefined, cache_prompt: false }),
  });
  expect(res.status).toBe(200);
  const { content } = ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message;
  expect(content, 'an empty reference would make the comparison vacuous').toMatch(/\S/);
  return content;
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

/** Opens the Engine panel, chooses the remote server, enters `url` (and a key) and presses Connect; leaves the panel open. */
export async function connectRemote(page: Page, url: string, apiKey = ''): Promise<void> {
  const tab = page.getByRole('button', { name: 'Engine', exact: true });
  if ((await tab.getAttribute('aria-pressed')) !== 'true') await tab.click();
  await page.getByTestId('engine-remote').check();
  await page.getByTestId('remote-url').fill(url);
  await page.getByTestId('remote-key').fill(apiKey);
  await page.getByTestId('remote-connect').click();
}

/** Waits until the remote engine is connected with a model picked (status `remote · <model>`). */
export async function waitForRemote(page: Page, timeout = 30_000): Promise<void> {
  try {
    await expect(page.locator('.topbar .status')).toHaveText(/^remote · /, { timeout });
  } catch (e) {
    const state = await page.getByTestId('remote-state').textContent().catch(() => '?');
    throw new Error(`Remote engine not ready (state "${state}"): ${(e as Error).message}`);
  }
}

/**
 * A server for the remote engine: an OpenAI-compatible API at `url`, which the test can kill like a crash.
 * An answer of 2000 tokens must take it a few seconds (the story stops one and kills the server in another).
 */
export interface RemoteServerHandle {
  /** base URL as a user types it (http://127.0.0.1:PORT) */
  url: string;
  /** the model id its /v1/models lists first */
  model: string;
  kill(): Promise<void>;
}

/**
 * The remote-engine story, for any server: the app (served cross-origin isolated from its own port)
 * connects through the Engine panel without loading a local model, streams an answer with stats, stops
 * one, then the server dies mid-answer — that answer shows a clear error, the earlier messages stay, and
 * a reload brings the conversation back. Kills the server; closes the app and the page.
 */
export async function remoteChatStory(browser: Browser, server: RemoteServerHandle): Promise<void> {
  const app = await startApp();
  const { context, page, errors } = await openApp(browser, app.url);
  const modelFetches: string[] = [];
  page.on('request', (r) => { if (/\.gguf(\?|$)/.test(r.url())) modelFetches.push(r.url()); });
  const sent = chatRequests(page);
  try {
    await connectRemote(page, server.url);
    await expect(page.getByTestId('remote-state')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    await expect(page.getByTestId('remote-model-picker').first()).toHaveValue(server.model);
    await waitForRemote(page);
    // a path-like id (llama-server lists the GGUF's path) is shown by its file name
    const modelName = /^([A-Za-z]:)?[\\/]/.test(server.model) ? server.model.split(/[\\/]/).pop()! : server.model;
    await expect(page.locator('.topbar .status')).toHaveText(`remote · ${modelName}`);
    await expect(page.getByTestId('model-picker')).toHaveCount(0);
    await expect(page.locator('.welcome')).toContainText('Your messages are sent to that server');

    // greedy, so the answer can be compared with the server's own for the same request
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Temperature (0 = greedy)').fill('0');
    await page.getByLabel('Max answer tokens').fill('24');
    await page.getByRole('button', { name: 'Close panel' }).click();
    const first = await ask(page, 'Hello, who are you?');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ temperature: 0, max_tokens: 24, stream: true });
    expect(shown(first)).toBe(shown(await serverAnswer(server.url, sent[0])));
    const stats = page.getByTestId('stats').first();
    await expect(stats).toContainText('remote');
    await expect(stats).toContainText(/\d+\/\d+ prompt tok/);
    await expect(stats).toContainText(/decode [\d.]+ tok\/s/);
    await expect(stats).toContainText(/TTFT \d+ ms/);
    const statsText = (await stats.textContent()) ?? '';
    expect(Number(/decode ([\d.]+) tok\/s/.exec(statsText)?.[1])).toBeGreaterThan(0);
    expect(Number(/^(\d+) tok$/.exec((await stats.locator('span[title="generated tokens"]').textContent()) ?? '')?.[1])).toBeGreaterThan(0);
    await expect(page.getByTestId('message-assistant').first().locator('.message-role')).toHaveText(modelName);

    // Long answers from here on, sampled (the server's default temperature). Stop ends one early: its stats say so.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Temperature (0 = greedy)').fill('');
    await page.getByLabel('Max answer tokens').fill('2000');
    await page.getByRole('button', { name: 'Close panel' }).click();
    const answers = page.getByTestId('message-assistant');
    await page.getByTestId('prompt-input').fill('Go on, at length.');
    await page.getByTestId('send-button').click();
    await expect(answers.nth(1).locator('.message-body')).toHaveText(/[^…\s]/, { timeout: 30_000 });
    await page.getByTestId('stop-button').click();
    await expect(answers.nth(1).getByTestId('stats')).toContainText('stopped', { timeout: 30_000 });
    await expect(answers.nth(1).locator('.message-error')).toHaveCount(0);

    // The next answer starts at once (the server stopped generating), and the server dies while it streams.
    await page.getByTestId('prompt-input').fill('Tell me a very long story.');
    await page.getByTestId('send-button').click();
    const third = answers.nth(2);
    await expect(page.getByTestId('stop-button')).toBeVisible();
    await expect(third.locator('.message-body')).toHaveText(/[^…\s]/, { timeout: 30_000 });
    await server.kill();
    const error = third.locator('.message-error');
    await expect(error).toBeVisible({ timeout: 30_000 });
    await expect(error).toContainText(`${server.url}/v1`);
    await expect(error).toContainText('ended before the answer was finished');
    await expect(page.getByTestId('send-button')).toBeVisible();
    const partial = (await third.locator('.message-body').textContent()) ?? '';
    expect(partial.trim().length).toBeGreaterThan(0);
    const questions = [/Hello, who are you\?/, /Go on, at length\./, /Tell me a very long story\./];
    await expect(page.getByTestId('message-user')).toHaveText(questions);
    await expect(answers.first().locator('.message-body')).toHaveText(first);
    await expect(page.getByTestId('stats')).toHaveCount(2);
    // The next message finds the server gone: it says so, and the connection is dropped (top bar, Send).
    await page.getByTestId('prompt-input').fill('Are you there?');
    await page.getByTestId('send-button').click();
    await expect(answers.nth(3).locator('.message-error')).toContainText('Cannot reach', { timeout: 30_000 });
    await expect(page.locator('.topbar .status')).toHaveText('Remote server: not connected');
    await page.getByTestId('prompt-input').fill('Hello?');
    await expect(page.getByTestId('send-button')).toBeDisabled();
    questions.push(/Are you there\?/);

    // The conversation is stored: a reload brings it back, and the dead server shows as unreachable.
    // The remote engine stays chosen, so this time no local model loads (the first visit began on
    // this device, as every first visit does).
    modelFetches.length = 0;
    await page.reload();
    await expect(page.getByTestId('message-user')).toHaveText(questions);
    await expect(answers.first().locator('.message-body')).toHaveText(first);
    await expect(answers.nth(2).locator('.message-body')).toHaveText(partial);
    await expect(answers.nth(2).locator('.message-error')).toContainText('ended before the answer was finished');
    await expect(answers.nth(3).locator('.message-error')).toContainText('Cannot reach');
    await expect(page.locator('.topbar .status')).toHaveText('Remote server: not connected', { timeout: 30_000 });
    await page.getByTestId('prompt-input').fill('Still there?');
    await expect(page.getByTestId('send-button')).toBeDisabled();
    await page.getByRole('button', { name: 'Engine', exact: true }).click();
    await expect(page.getByTestId('remote-state')).toHaveAttribute('data-code', 'REMOTE_UNREACHABLE');
    await expect(page.getByTestId('model-picker')).toHaveCount(0);
    expect(modelFetches, 'no local model is fetched while the remote engine is chosen').toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    await server.kill();
    await context.close();
    await app.close();
  }
}

/** A stored conversation as the app keeps it, written straight into its IndexedDB store (shown after a reload). */
export interface StoredConversation {
  id: string;
  messages: { id: string; role: 'user' | 'assistant'; content: string }[];
}

/** Stores `c` as the newest conversation, as if the app had saved it. */
export function putConversation(page: Page, c: StoredConversation): Promise<void> {
  return page.evaluate((conv) => new Promise<void>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-chat');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('conversations', 'readwrite');
      const now = Date.now() + 60_000;
      tx.objectStore('conversations').put({ id: conv.id, title: conv.id, createdAt: now, updatedAt: now, messages: conv.messages }, conv.id);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    };
  }), c);
}


export async function openModels(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Models', exact: true }).click();
}

/** Records every text the convert progress line shows (the conversion may be over in a second). */
export async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="convert-progress"]')) {
        const t = el.textContent ?? '';
        if (t && seen.at(-1) !== t) seen.push(t);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** The newest conversation's message texts as the app stored them (what it sends the engine). */
export function storedTurns(page: Page): Promise<string[]> {
  return page.evaluate(() => new Promise<string[]>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-chat');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('conversations').objectStore('conversations').getAll();
      req.onsuccess = () => {
        const newest = (req.result as { updatedAt: number; messages: { content: string }[] }[]).sort((a, b) => b.updatedAt - a.updatedAt)[0];
        resolve(newest?.messages.map((m) => m.content) ?? []);
      };
      req.onerror = () => reject(req.error);
    };
  }));
}
