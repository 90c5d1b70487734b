// The app runs under its Content-Security-Policy (scripts/csp.mjs): the header is on every response
// of the server `npm start` runs, the built index.html carries it too, injected inline script,
// data: script and inline handlers are refused and reported to the server (the path by which
// e2e/csp-guard.ts fails the suite on any violation), and links a model wrote say where they lead
// and open without an opener.
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CSP_DIRECTIVES } from '../scripts/csp.mjs';
import { type App, cspViolations, expect, launch, openApp, putConversation, startApp, waitForModel } from './harness.ts';

let browser: Browser;
let app: App;
beforeAll(async () => { [browser, app] = await Promise.all([launch(), startApp()]); });
afterAll(async () => { await browser?.close(); await app?.close(); });

describe('Content-Security-Policy', () => {
  it('is sent on every response and in the built page', async () => {
    const index = await fetch(app.url);
    const html = await index.text();
    const asset = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeTruthy();
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;self&#39;; script-src &#39;self&#39; &#39;wasm-unsafe-eval&#39;/);
    const wasm = (await (await fetch(new URL('/sw.js', app.url))).text()) && '/sw.js';
    const requests: [string, RequestInit?][] = [
      ['/'], [asset!], [wasm], ['/manifest.webmanifest'], ['/models/stories260K.gguf', { headers: { Range: 'bytes=0-3' } }],
      ['/no/such/file.js'], ['/chat/deep/link'], ['/', { method: 'HEAD' }], ['/', { method: 'PUT' }],
    ];
    for (const [p, init] of requests) {
      const res = await fetch(new URL(p, app.url), init);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const [k, v] of Object.entries(CSP_DIRECTIVES)) expect(csp, `${init?.method ?? 'GET'} ${p} → ${res.status}`).toContain(`${k} ${v.join(' ')}`);
      expect(csp).toContain('report-uri /__csp-report');
    }
  });

  it('refuses injected script, reports it to the server, and shows where links lead', async () => {
    const { context, page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    const before = cspViolations.length;
    // (page.evaluate itself is exempt from the policy, so the attempts are put into the document)
    const ran = await page.evaluate(async () => {
      const w = window as { __injected?: number[] };
      w.__injected = [];
      const inline = document.createElement('script');
      inline.textContent = 'window.__injected.push(1)';
      const data = document.createElement('script');
      data.src = 'data:text/javascript,window.__injected.push(2)';
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__injected.push(3)');
      img.src = 'data:image/png;base64,AAAA';
      document.body.append(inline, data, img);
      await new Promise((r) => setTimeout(r, 300));
      [inline, data, img].forEach((e) => e.remove());
      return w.__injected;
    });
    expect(ran).toEqual([]);
    // the server's reports, one per attempt (the console has its own lines for each)
    const reports = () => cspViolations.slice(before).filter((v) => /^script-src-(elem|attr) blocked/.test(v)).map((v) => v.replace(/ in .*/, '')).sort();
    await expect.poll(reports, { timeout: 10_000 }).toEqual(['script-src-attr blocked inline', 'script-src-elem blocked data', 'script-src-elem blocked inline']);
    cspViolations.splice(before); // provoked on purpose

    await putConversation(page, {
      id: 'links',
      messages: [{ id: 'u', role: 'user', content: 'A link?' }, { id: 'a', role: 'assistant', content: 'See [the docs](https://docs.example.org/a?b=1).' }],
    });
    await page.reload();
    const link = page.getByTestId('message-assistant').first().locator('a');
    await expect(link).toHaveText('the docs (docs.example.org)');
    expect(await link.evaluate((a) => [a.getAttribute('target'), a.getAttribute('rel'), a.getAttribute('title')]))
      .toEqual(['_blank', 'noopener noreferrer nofollow', 'https://docs.example.org/a?b=1']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
