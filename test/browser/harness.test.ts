// The browser harness itself: module loading, WebGPU adapter, range-served files, output streams,
// errors and timeouts coming back to Node.
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.ts';
import { openBrowser, type BrowserHarness } from './harness.ts';

describe('browser harness', () => {
  let h: BrowserHarness;
  const written: string[] = [];
  beforeAll(async () => {
    h = await openBrowser({ timeoutMs: 20_000, onWrite: (s, t) => written.push(`${s}:${t}`) });
  });
  afterAll(async () => { await h?.close(); });

  it('runs a page module with WebGPU, cross-origin isolation and range requests', async () => {
    const gguf = fixture('models', 'stories260K.gguf');
    const r = await h.run<{ secure: boolean; adapter: string | null; head: number[]; size: number }>(
      'test/browser/pages/smoke-page.ts', 'probe', h.fileUrl(gguf));
    expect(r.secure).toBe(true);
    expect(r.adapter).not.toBeNull();
    expect(String.fromCharCode(...r.head)).toBe('GGUF');
    expect(r.size).toBe(statSync(gguf).size);
    expect(written).toContain('stdout:hello from the page\n');
  });

  it('brings page exceptions back as errors', async () => {
    await expect(h.run('test/browser/pages/smoke-page.ts', 'fail')).rejects.toThrow(/deliberate failure/);
  });

  it('times out a call that never settles', async () => {
    const quick = await openBrowser({ timeoutMs: 1_500 });
    try {
      await expect(quick.run('test/browser/pages/smoke-page.ts', 'hang')).rejects.toThrow(/did not finish within 1.5 s/);
    } finally {
      await quick.close();
    }
  });
});
