// "Import folder" with an MLC-LLM folder: the fixture writer's q4f16_1 folder of TinyStories-656K
// (several params_shard_*.bin), picked through the folder input, is stored as it is with per-file
// progress, listed as MLC with its quantization (no .gguf export), loaded from IndexedDB through
// openMLCFolder and asked; its greedy answer equals llama.cpp's on the F32 GGUF of the round-trip
// weights (exactly the values the MLC groups dequantize to). A folder with a truncated shard says
// which file and stores nothing.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { convertToFile } from '../src/cli/convert.ts';
import { llamaGreedy, shown } from '../test/llama-greedy.ts';
import { writeMLCFolder, type MLCFolders } from '../test/fixtures/mlc-writer.ts';
import { type App, ask, expect, FIXTURES, launch, openApp, openModels, recordProgress, startApp, storedKeys, waitForModel } from './harness.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlc-import-e2e-'));
const PROMPT = 'Once upon a time';
const MAX_TOKENS = 32;

let browser: Browser;
let app: App;
let dirs: MLCFolders;
let greedy: Promise<string>;
beforeAll(async () => {
  [browser, app] = await Promise.all([launch(), startApp()]);
  // 128 KiB shards: the 0.6 MB model comes as several files (and several progress lines)
  dirs = await writeMLCFolder(path.join(FIXTURES, 'models/TinyStories-656K'), 'q4f16_1', tmp, 1 << 17);
  const gguf = path.join(tmp, 'rt-q4f16_1.F32.gguf');
  greedy = convertToFile(dirs.roundTrip, gguf, 'F32', { threads: 1 }).then(() => llamaGreedy(gguf, PROMPT, MAX_TOKENS));
  greedy.catch(() => {}); // awaited in the test
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('import an MLC folder', () => {
  it('q4f16_1: stored as it is with per-file progress, listed as MLC, the greedy answer is llama.cpp\'s', { timeout: 240_000 }, async () => {
    const files = readdirSync(dirs.mlc);
    const shards = files.filter((n) => n.startsWith('params_shard_')).length;
    expect(shards).toBeGreaterThan(1);
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    await recordProgress(page);
    const t0 = Date.now();
    await page.getByTestId('folder-input').setInputFiles(dirs.mlc);
    const card = page.getByTestId('stored-model').filter({ hasText: 'mlc-q4f16_1' });
    await expect(card.getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 60_000 });
    console.log(`stored in ${Date.now() - t0} ms`);
    await expect(page.getByTestId('convert')).toHaveCount(0);
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    console.log(`progress lines seen: ${seen.length}; last: ${seen.at(-1)}`);
    for (const line of seen) expect(line).toMatch(new RegExp(`^file \\d+/${files.length} \\S+ · [\\d.]+ \\w?B / [\\d.]+ \\w?B \\(\\d+%\\)`));
    expect(seen.some((l) => /params_shard_\d+\.bin/.test(l))).toBe(true);

    await expect(card.getByTestId('model-format')).toHaveText(' · MLC q4f16_1');
    await expect(card.getByTestId('export-gguf')).toBeDisabled();
    await expect(card.getByTestId('export-reason')).toHaveText('MLC weights: no .gguf export');
    expect((await storedKeys(page, 'mlc-q4f16_1')).length).toBeGreaterThan(files.length);
    // the card's memory check reads the stored folder as the loader will (a GGUF header read would fail here)
    await card.getByRole('button', { name: 'Will it fit?' }).click();
    await expect(card.getByTestId('fit-verdict')).toHaveAttribute('data-verdict', 'fits', { timeout: 30_000 });

    await card.getByRole('button', { name: 'Load' }).click();
    await expect(page.getByTestId('model-picker')).toHaveValue('stored:mlc-q4f16_1');
    await waitForModel(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Temperature (0 = greedy)').fill('0');
    await page.getByLabel('Repeat penalty').fill('1'); // the folder's mlc-chat-config asks for 1.05; llama.cpp's greedy has none
    await page.getByLabel('Max answer tokens').fill(String(MAX_TOKENS));
    await page.getByRole('button', { name: 'Close panel' }).click();
    const answer = await ask(page, PROMPT);
    const ref = await greedy;
    console.log(`answer: ${JSON.stringify(answer)}\nllama.cpp: ${JSON.stringify(ref)}`);
    expect(ref.trim().length).toBeGreaterThan(40);
    expect(shown(answer)).toBe(shown(ref));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a folder with a truncated shard: the message names the file, nothing stored or listed', async () => {
    const dir = path.join(tmp, 'mlc-truncated');
    mkdirSync(dir);
    for (const n of readdirSync(dirs.mlc)) copyFileSync(path.join(dirs.mlc, n), path.join(dir, n));
    truncateSync(path.join(dir, 'params_shard_1.bin'), 1000);
    const { context, page } = await openApp(browser, app.url);
    await waitForModel(page);
    await openModels(page);
    await page.getByTestId('folder-input').setInputFiles(dir);
    const row = page.getByTestId('convert').filter({ hasText: 'mlc-truncated' });
    await expect(row.getByTestId('transfer-error')).toContainText(/mlc-truncated\/params_shard_1\.bin has 1000 bytes, but tensor-cache\.json says \d+.*Nothing was stored\./, { timeout: 30_000 });
    console.log(`message: ${await row.getByTestId('transfer-error').textContent()}`);
    await expect(page.getByTestId('stored-model').filter({ hasText: 'mlc-truncated' })).toHaveCount(0);
    expect(await storedKeys(page, 'mlc-truncated')).toEqual([]);
    await context.close();
  });
});
