// WebLLM in the app, real Chromium (SwiftShader: WebGPU without shader-f16). The package is fetched
// only once WebLLM is chosen; f16 builds are shown as unavailable and cannot be loaded; a custom
// entry is validated, and one whose files are missing fails with a clear error, not a hang; until a
// model is loaded Send stays off and the conversation is untouched.
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expect, launch, openApp, startApp, waitForModel } from './harness.ts';

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

describe('WebLLM engine in the app', () => {
  it('loads the package only when chosen, gates f16 builds, and reports a missing custom model clearly', async () => {
    const app = await startApp();
    const { context, page, errors } = await openApp(browser, app.url);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    try {
      await waitForModel(page);
      expect(requests.filter((u) => /\/webllm-[^/]*\.js$/.test(u))).toEqual([]);

      await page.getByRole('button', { name: 'Engine', exact: true }).click();
      await page.getByTestId('engine-webllm').check();
      await expect(page.getByTestId('webllm-support')).toContainText('shader-f16: no', { timeout: 30_000 });
      expect(requests.filter((u) => /\/webllm-[^/]*\.js$/.test(u))).toHaveLength(1);
      await expect(page.locator('.topbar .status')).toHaveText(/^WebLLM: no model loaded/);
      await page.getByTestId('prompt-input').fill('Hello');
      await expect(page.getByTestId('send-button')).toBeDisabled();

      // a library that is not a .wasm file is refused with the reason
      const form = page.getByTestId('webllm-custom-form');
      await form.getByLabel('WebLLM model id').fill('Mine-q4f32_1-MLC');
      await form.getByLabel('WebLLM model URL').fill(`${app.url}/models/mine/`);
      await form.getByLabel('WebLLM model library URL').fill(`${app.url}/models/mine/lib.bin`);
      await form.getByRole('button', { name: 'Add' }).click();
      await expect(page.getByTestId('webllm-custom-error')).toContainText('.wasm');

      // an f16 custom build is listed as unavailable on this adapter and cannot be loaded
      await form.getByLabel('WebLLM model id').fill('Mine-q4f16_1-MLC');
      await form.getByLabel('WebLLM model library URL').fill(`${app.url}/models/mine/lib.wasm`);
      await form.getByRole('button', { name: 'Add' }).click();
      const f16 = page.getByTestId('webllm-model').filter({ hasText: 'Mine-q4f16_1' });
      await expect(f16).toHaveAttribute('data-unavailable', 'true');
      await expect(f16.getByTestId('webllm-unavailable')).toContainText('shader-f16');
      await expect(f16.getByRole('button', { name: /load/i })).toBeDisabled();

      // a q4f32 build whose files are not on the server fails fast with WEBLLM_FAILED naming the HTTP status
      // (the form clears after an entry is added)
      await form.getByLabel('WebLLM model id').fill('Mine-q4f32_1-MLC');
      await form.getByLabel('WebLLM model URL').fill(`${app.url}/models/mine/`);
      await form.getByLabel('WebLLM model library URL').fill(`${app.url}/models/mine/lib.wasm`);
      await form.getByRole('button', { name: 'Add' }).click();
      const f32 = page.getByTestId('webllm-model').filter({ hasText: 'Mine-q4f32_1' });
      await expect(f32).not.toHaveAttribute('data-unavailable', 'true');
      await f32.getByRole('button', { name: /load/i }).click();
      await expect(page.getByTestId('webllm-error')).toHaveAttribute('data-code', 'WEBLLM_FAILED', { timeout: 30_000 });
      await expect(page.getByTestId('webllm-error')).toContainText('404');
      await expect(page.getByTestId('send-button')).toBeDisabled();

      // the Device panel's storage counts what WebLLM keeps in its own cache (the Cache API, not our IndexedDB)
      await page.evaluate(async () => {
        const c = await caches.open('webllm/model');
        await c.put('https://models.example/x/resolve/main/params_shard_0.bin', new Response(new Uint8Array(3000), { headers: { 'Content-Length': '3000' } }));
      });
      await page.getByRole('button', { name: 'Device', exact: true }).click();
      await expect(page.getByTestId('webllm-cache-total')).toContainText(/in \d+ files?/);
      const total = (await page.getByTestId('webllm-cache-total').textContent()) ?? '';
      const files = Number(/in (\d+) file/.exec(total)?.[1]);
      expect(files).toBeGreaterThanOrEqual(1);

      // back to this device: the local model answers again
      await page.getByRole('button', { name: 'Engine', exact: true }).click();
      await page.getByTestId('engine-local').check();
      await waitForModel(page);
      await expect(page.getByTestId('send-button')).toBeEnabled();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });
});
