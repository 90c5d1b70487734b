// Hostile text in user and assistant messages renders as inert text: no dialog, no script run,
// no image/iframe/svg elements, no event-handler attributes, no javascript: links.
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type App, ask, expect, launch, openApp, putConversation, startApp, waitForModel } from './harness.ts';

const HOSTILE = [
  '<img src=x onerror="window.__pwned=1;alert(1)">',
  '<script>window.__pwned=2;alert(2)</script>',
  '[click me](javascript:window.__pwned=3)',
  '<a href="javascript:alert(4)">raw link</a>',
  '[entity trick](jav&#x09;ascript:alert(5))',
  '![pixel](x" onerror="alert(6))',
  '<iframe src="javascript:alert(7)"></iframe>',
  '<svg onload=alert(8)></svg>',
  '[data](data:text/html,<script>alert(9)</script>)',
  '[ok](https://example.com/safe)',
].join('\n\n');

/** What the chat view holds that could run code or load something. */
function dangers(page: Page) {
  return page.evaluate(() => {
    const view = document.querySelector('.chat-view')!;
    const all = [...view.querySelectorAll('*')];
    return {
      pwned: (window as { __pwned?: unknown }).__pwned ?? null,
      elements: [...view.querySelectorAll('img, script, iframe, svg, object, embed, style, link')].map((e) => e.tagName),
      handlers: all.flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName}.${a.name}`)),
      hrefs: [...view.querySelectorAll('a')].map((a) => a.getAttribute('href')),
    };
  });
}

async function expectInert(page: Page, dialogs: string[], message: ReturnType<Page['getByTestId']>): Promise<void> {
  // The markup is shown as text, so the attack is visible and harmless.
  await expect(message).toContainText('<img src=x onerror=');
  await expect(message).toContainText('<script>window.__pwned=2');
  await message.getByText('click me').click();
  await message.getByText('entity trick').click();
  const d = await dangers(page);
  expect(d).toEqual({ pwned: null, elements: [], handlers: [], hrefs: ['https://example.com/safe'] });
  expect(dialogs).toEqual([]);
}

let browser: Browser;
let app: App;
beforeAll(async () => { [browser, app] = await Promise.all([launch(), startApp()]); });
afterAll(async () => { await browser?.close(); await app?.close(); });

describe('hostile text', () => {
  it('is inert in user and assistant messages', async () => {
    const { context, page, dialogs } = await openApp(browser, app.url);
    await waitForModel(page);
    await ask(page, HOSTILE);
    await expectInert(page, dialogs, page.getByTestId('message-user').first());

    // An answer containing the same text: stored as the newest conversation, shown after a reload.
    await putConversation(page, {
      id: 'hostile',
      messages: [{ id: 'u', role: 'user', content: 'Say something nasty' }, { id: 'a', role: 'assistant', content: HOSTILE }],
    });
    await page.reload();
    await expect(page.getByTestId('message-user')).toHaveCount(1);
    await expect(page.getByTestId('message-user')).toContainText('Say something nasty');
    await expectInert(page, dialogs, page.getByTestId('message-assistant').first());
    await context.close();
  });
});
