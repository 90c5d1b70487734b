// Chaos: the engine worker dies under the app. The test ends it from outside, through the DevTools
// protocol (Playwright's worker.evaluate is Runtime.evaluate in the worker's target): self.close()
// there drops the worker's tasks and frees its Web Lock as any death does. CDP's Target.closeTarget
// would be the harder kill, but this Chromium refuses it for dedicated workers ("doesn't support
// closing"). Nothing in the app can be told to die: the kill lives only in this file.
// Mid-answer, the cut answer is kept and marked, the same model comes back on a new worker, the next
// answer equals llama.cpp's greedy continuation of the whole conversation, and a reload shows it all.
// A worker that dies on every load is restarted a bounded number of times. Mid-download, the partial
// stays resumable (never listed as loadable) and Resume completes it byte for byte.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Worker } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ask, expect, FIXTURES, launch, openApp, startApp, storedKeys, storedTurns, waitForModel } from './harness.ts';
import { startModelServer } from './model-server.ts';
import { paddedModel, storedSha256 } from './stored-model.ts';
import { llamaGreedy, shown } from '../test/llama-greedy.ts';

const STORIES = path.join(FIXTURES, 'models/stories260K.gguf');
const refs = JSON.parse(readFileSync(path.join(FIXTURES, 'quant/llamacpp-refs.json'), 'utf8')) as Record<string, { greedy: string }>;
const isEngine = (w: Worker): boolean => /engine\.worker/.test(w.url());

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

function engineWorker(page: Page): Worker {
  const all = page.workers().filter(isEngine);
  expect(all).toHaveLength(1);
  return all[0];
}

/** Ends `w` now; resolves once Playwright saw it go. */
async function kill(w: Worker): Promise<void> {
  const closed = new Promise<void>((resolve) => w.once('close', () => resolve()));
  await w.evaluate(() => self.close()).catch(() => {});
  await closed;
}

/**
 * Arms `w` to die right after it sent its `n`-th answer chunk: nothing more leaves it from then on
 * (self.close() alone lets the running answer go on in microtasks until it ends), so the cut is
 * always at the same place.
 */
async function killAfterChunks(w: Worker, n: number): Promise<void> {
  await w.evaluate((count) => {
    let seen = 0;
    let dead = false;
    const portPost = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (this: MessagePort, ...args: unknown[]) {
      if (dead) return;
      (portPost as (...a: unknown[]) => void).apply(this, args);
      if (JSON.stringify(args[0])?.includes('chat.completion.chunk') && ++seen === count) {
        dead = true;
        self.close();
      }
    };
    const selfPost = self.postMessage.bind(self) as (...a: unknown[]) => void;
    self.postMessage = ((...args: unknown[]) => { if (!dead) selfPost(...args); }) as typeof self.postMessage;
  }, n);
}

async function greedySettings(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Temperature (0 = greedy)').fill('0');
  await page.getByLabel('Max answer tokens').fill('48');
  await page.getByRole('button', { name: 'Close panel' }).click();
}

describe('the engine worker dies', () => {
  it('mid-answer: the cut answer is kept and marked, the model reloads, the next answer equals llama.cpp, a reload keeps it all', async () => {
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    try {
      await waitForModel(page);
      await greedySettings(page);
      const first = await ask(page, 'Once upon a time');
      expect(shown(first)).toBe(refs['stories260K.gguf'].greedy);

      const dead = engineWorker(page);
      const gone = new Promise<void>((resolve) => dead.once('close', () => resolve()));
      await killAfterChunks(dead, 8);
      await page.getByTestId('prompt-input').fill(' The little dog');
      await page.getByTestId('send-button').click();
      await gone;
      const answers = page.getByTestId('message-assistant');
      const cut = answers.nth(1);
      await expect(cut.getByTestId('message-interrupted')).toContainText('Interrupted: the engine stopped and was restarted', { timeout: 30_000 });
      await expect(cut.getByTestId('stats')).toHaveCount(0);
      await expect(cut.locator('.message-error')).toHaveCount(0);
      // the same model on a new worker
      await expect(page.getByTestId('engine-notice')).toContainText('is loaded again', { timeout: 60_000 });
      await waitForModel(page);
      await expect(page.getByTestId('model-picker')).toHaveValue(/stories260K\.gguf$/);
      expect(engineWorker(page)).not.toBe(dead);

      // what had streamed is kept: the start of llama.cpp's answer to that turn, cut short
      const turns = await storedTurns(page);
      expect(turns.slice(0, 3)).toEqual(['Once upon a time', expect.any(String), ' The little dog']);
      expect(shown(turns[1])).toBe(refs['stories260K.gguf'].greedy);
      const partial = turns[3];
      const uncut = shown(await llamaGreedy(STORIES, turns.slice(0, 3).join(''), 48));
      expect(shown(partial).length).toBeGreaterThan(0);
      expect(shown(partial).length).toBeLessThan(uncut.length);
      expect(uncut.startsWith(shown(partial))).toBe(true);
      await expect(cut.locator('.message-body')).toHaveText(shown(partial), { useInnerText: true });

      // the next turn runs on the new worker with the whole conversation, the cut answer included
      const third = await ask(page, ' The end.');
      const all = await storedTurns(page);
      expect(all).toHaveLength(6);
      expect(shown(third)).toBe(shown(await llamaGreedy(STORIES, all.slice(0, 5).join(''), 48)));

      // a reload shows the same conversation, the cut answer still marked
      await page.reload();
      await waitForModel(page);
      await expect(page.getByTestId('message-user')).toHaveText([/Once upon a time/, /The little dog/, /The end\./]);
      await expect(answers).toHaveCount(3);
      await expect(answers.nth(1).getByTestId('message-interrupted')).toBeVisible();
      await expect(answers.nth(0).getByTestId('message-interrupted')).toHaveCount(0);
      await expect(answers.nth(2).getByTestId('message-interrupted')).toHaveCount(0);
      expect(await storedTurns(page)).toEqual(all);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });

  it('on every load (a model that kills its worker): restarts are bounded, the user is told, another model can be picked', async () => {
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    try {
      await waitForModel(page);
      // From now on every new engine worker ends itself as soon as it fetches the model, or once it
      // answers a load, whichever this hook, installed while the worker starts, sees first.
      const started: Worker[] = [];
      page.on('worker', (w) => {
        if (!isEngine(w)) return;
        started.push(w);
        void w.evaluate(() => {
          const g = self as unknown as { crashOnLoad: boolean };
          g.crashOnLoad = true;
          const die = (): void => { if (g.crashOnLoad) self.close(); };
          const realFetch = self.fetch;
          self.fetch = (input, init) => {
            if (String(input instanceof Request ? input.url : input).includes('.gguf')) die();
            return realFetch(input, init);
          };
          const post = self.postMessage.bind(self);
          self.postMessage = ((msg: unknown, opts?: unknown) => {
            post(msg as never, opts as never);
            if (JSON.stringify(msg)?.includes('"contextLength"')) die();
          }) as typeof self.postMessage;
          if (performance.getEntriesByType('resource').some((e) => e.name.includes('.gguf'))) die();
        }).catch(() => {});
      });
      await kill(engineWorker(page));

      const banner = page.locator('.banner.error');
      await expect(banner).toContainText(/The engine stopped 3 times in a row while running .*stories260K/, { timeout: 60_000 });
      await expect(banner).toContainText('pick another model');
      // two restarts with the model, then one without it, and no more
      await page.waitForTimeout(3_000);
      expect(started).toHaveLength(3);
      const alive = engineWorker(page);
      expect(alive).toBe(started[2]);
      await expect(page.locator('.topbar .status')).toHaveText('');
      await expect(page.getByTestId('model-picker')).toHaveValue('');
      await expect(page.getByTestId('send-button')).toBeDisabled();

      // the picker works on the last worker: with the crash gone, the model loads and answers
      await alive.evaluate(() => { (self as unknown as { crashOnLoad: boolean }).crashOnLoad = false; });
      await page.getByTestId('model-picker').selectOption({ index: 1 });
      await waitForModel(page);
      await greedySettings(page);
      expect(shown(await ask(page, 'Once upon a time'))).toBe(refs['stories260K.gguf'].greedy);
      await expect(banner).toHaveCount(0);
      expect(started).toHaveLength(3);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });

  it('mid-download: the partial stays resumable, is never offered as loadable, and Resume completes it', async () => {
    const big = paddedModel(40 * 1024 * 1024);
    const bigSha = createHash('sha256').update(big).digest('hex');
    const host = await startModelServer({ 'big-model.gguf': big });
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    try {
      await waitForModel(page);
      await page.getByRole('button', { name: 'Models', exact: true }).click();
      await page.getByTestId('download-url').fill(`${host.url}slow/big-model.gguf`);
      await page.getByTestId('download-button').click();
      const transfer = page.getByTestId('transfer').filter({ hasText: 'big-model' });
      // past the first 16 MiB chunk, so something is stored when the worker dies
      await expect(transfer).toContainText(/(1[7-9]|[23]\d)\.\d MB \/ 40\.0 MB/, { timeout: 30_000 });
      await kill(engineWorker(page));

      await expect(transfer).toContainText('paused', { timeout: 30_000 });
      await expect(transfer.getByTestId('transfer-error')).toContainText('The engine stopped during the download. What was stored is kept');
      await waitForModel(page);
      const card = page.getByTestId('stored-model').filter({ hasText: 'big-model' });
      await expect(card).toContainText(/partial: (16|32)\.0 MB of 40\.0 MB/);
      await expect(card.getByRole('button', { name: 'Load' })).toHaveCount(0);
      await expect(page.getByTestId('model-picker').locator('option', { hasText: 'big-model' })).toHaveCount(0);

      const before = host.log.length;
      await transfer.getByRole('button', { name: 'Resume' }).click();
      await expect(card.getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 60_000 });
      expect(host.log[before].range).toMatch(/^bytes=(16777216|33554432)-$/);
      expect(await storedSha256(page, 'big-model')).toBe(bigSha);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
      await host.close();
    }
  });

  it('mid-import: the part stored so far is dropped, nothing is offered as loadable, and the user is told', async () => {
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    try {
      await waitForModel(page);
      // the worker ends itself as it stores the second 16 MiB chunk: the first is committed by then
      await engineWorker(page).evaluate(() => {
        const put = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
          if (key === 'cut-import/0/1') self.close();
          return put.call(this, value, key);
        };
      });
      await page.getByRole('button', { name: 'Models', exact: true }).click();
      const chooser = page.waitForEvent('filechooser');
      await page.getByText('choose files').click();
      await (await chooser).setFiles({ name: 'cut-import.gguf', mimeType: 'application/octet-stream', buffer: Buffer.from(paddedModel(40 * 1024 * 1024)) });
      const transfer = page.getByTestId('transfer').filter({ hasText: 'cut-import' });
      await expect(transfer.getByTestId('transfer-error')).toContainText('The engine stopped during the import. Nothing was kept', { timeout: 30_000 });
      await waitForModel(page);
      await expect.poll(() => storedKeys(page, 'cut-import'), { timeout: 10_000 }).toEqual([]);
      await expect(page.getByTestId('stored-model').filter({ hasText: 'cut-import' })).toHaveCount(0);
      await expect(page.getByTestId('model-picker').locator('option', { hasText: 'cut-import' })).toHaveCount(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });
});
