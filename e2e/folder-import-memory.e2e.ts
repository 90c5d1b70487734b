// Peak memory of the app's "Import folder" in Chromium on the ~880 MB bf16 folder of
// test/fixtures/big-hf-folder.ts (largest tensor S = 250 MiB), converted to Q8_0: the renderer that
// holds the page, its engine worker and the quantize workers is sampled from /proc every 100 ms, and
// its peak over the pre-import level must stay under the README's bound (holding the folder, or one
// f32 copy of both 250 MiB tensors, would pass it). The stored model is complete and of the size a
// Q8_0 conversion has. The browser process (IndexedDB's backend) is reported, not bounded.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { LARGEST_TENSOR_BYTES, writeBigHFFolder } from '../test/fixtures/big-hf-folder.ts';
import { type App, expect, launch, openApp, startApp, waitForModel } from './harness.ts';
import { memoryNow, sampleMemory } from './proc-memory.ts';

const MiB = 2 ** 20;
/** README: renderer peak ≤ its level before the import + 512 MiB (measured about +320 to +370 MiB: chunks in
 * flight and their copies to the quantize workers and IndexedDB, the workers' WASM heaps, V8's lazily freed buffers). */
const BOUND = 512 * MiB;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'import-memory-'));
let browser: Browser;
let app: App;
beforeAll(async () => { [browser, app] = await Promise.all([launch(), startApp()]); });
afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('folder import memory', () => {
  it('an 880 MB bf16 folder → Q8_0: the renderer grows by far less than its largest tensor', { timeout: 600_000 }, async () => {
    const dir = path.join(tmp, 'big-bf16');
    mkdirSync(dir);
    const bytes = writeBigHFFolder(dir);
    expect(bytes).toBeGreaterThan(600e6);
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByTestId('folder-type').selectOption('Q8_0');
    await new Promise((r) => setTimeout(r, 1000));
    const before = memoryNow();
    const sampler = sampleMemory(100);
    const t0 = Date.now();
    await page.getByTestId('folder-input').setInputFiles(dir);
    const card = page.getByTestId('stored-model').filter({ hasText: 'big-bf16 Q8_0' });
    let peak: Map<string, number>;
    try {
      await expect(card.getByRole('button', { name: 'Load' })).toBeVisible({ timeout: 540_000 });
    } finally {
      peak = sampler.stop();
    }
    const secs = (Date.now() - t0) / 1000;
    const mib = (n = 0) => (n / MiB).toFixed(0);
    const grew = (peak.get('renderer') ?? 0) - (before.get('renderer') ?? 0);
    const kinds = [...peak.keys()].map((k) => `${k} ${mib(before.get(k))} → ${mib(peak.get(k))}`).join(', ');
    console.log(`import Q8_0 of ${mib(bytes)} MiB in ${secs.toFixed(1)} s; renderer +${mib(grew)} MiB (S = ${mib(LARGEST_TENSOR_BYTES)} MiB, bound +${mib(BOUND)} MiB); RSS MiB before → peak: ${kinds}`);
    expect(grew).toBeLessThan(BOUND);

    // complete, and of a Q8_0 conversion's size: header + rows of 34 bytes per 32 values + f32 norms
    const stored = await page.evaluate(async () => {
      const modelSize = (m: { files: { size: number }[] }) => m.files.reduce((a, f) => a + f.size, 0);
      return new Promise<{ complete: boolean; size: number } | null>((resolve, reject) => {
        const open = indexedDB.open('edge-llm-models');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('shards').objectStore('shards').get('manifest:big-bf16-Q8_0');
          req.onsuccess = () => { open.result.close(); resolve(req.result ? { complete: req.result.complete, size: modelSize(req.result) } : null); };
          req.onerror = () => reject(req.error);
        };
      });
    });
    expect(stored?.complete).toBe(true);
    expect(stored!.size).toBeGreaterThan((bytes / 2) * (34 / 32));
    expect(stored!.size).toBeLessThan((bytes / 2) * (34 / 32) + 4 * MiB);
    expect(errors).toEqual([]);
    await context.close();
  });
});
