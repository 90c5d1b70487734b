// A chat's Tools option in the built app with the bundled demo model (stories260K, which never calls
// a tool on its own): with tool_choice "required" (or the tool named) the engine constrains the
// answer to one call, shown as a card whose arguments validate against the tool's schema (ajv, on
// the Node side); the user's result goes back as a tool turn and the model answers again; a reload
// keeps the cards and the option. A bad tools array shows its error beside the box, keeps the text
// and turns Send off. A message sent while a call waits records it as not run (a tool turn the
// request carries).
import Ajv2020 from 'ajv/dist/2020.js';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCliServe } from '../test/serve/cli-serve.ts';
import { ask, chatRequests, connectRemote, expect, FIXTURES, launch, openApp, startApp, waitForModel, waitForRemote } from './harness.ts';

const PARAMS = {
  type: 'object',
  properties: {
    city: { type: 'string', maxLength: 12 },
    days: { type: 'integer', minimum: 1, maximum: 7 },
    unit: { enum: ['celsius', 'fahrenheit'] },
  },
  required: ['city', 'days', 'unit'],
  additionalProperties: false,
};
const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'The weather forecast for a city', parameters: PARAMS } }];
const TOOLS_TEXT = JSON.stringify(TOOLS, null, 2);
const RESULT = '{"forecast": ["sun", "rain"], "high": 21}';

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

const settings = (page: Page) => page.getByRole('button', { name: 'Settings' });
const closePanel = (page: Page) => page.getByRole('button', { name: 'Close panel' }).click();

/** The tools on, typed, with this choice; leaves the panel closed. */
async function setTools(page: Page, choice: string, text = TOOLS_TEXT): Promise<void> {
  await settings(page).click();
  await page.getByLabel('Max answer tokens').fill('200');
  const on = page.getByTestId('tools-on');
  if (!(await on.isChecked())) await on.check();
  await page.getByTestId('tools-json').fill(text);
  await page.getByTestId('tool-choice').selectOption(choice);
  await expect(page.getByTestId('tools-ok')).toContainText('get_weather');
  await closePanel(page);
}

/** The forced call's card in the last answer: its name, and arguments that parse, validate and are shown pretty-printed. */
async function expectCall(page: Page): Promise<string> {
  const card = page.getByTestId('message-assistant').last().getByTestId('tool-call');
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId('tool-call-name')).toHaveText('get_weather');
  await expect(card.getByTestId('tool-call-streaming')).toHaveCount(0);
  const args = (await card.getByTestId('tool-call-arguments').textContent()) ?? '';
  const value: unknown = JSON.parse(args);
  const validate = new Ajv2020({ strict: true }).compile(PARAMS);
  expect(validate(value), `${args}\n${JSON.stringify(validate.errors)}`).toBe(true);
  expect(args, 'shown pretty-printed').toBe(JSON.stringify(value, null, 2));
  return args;
}

/** Answers the waiting call with RESULT: a tool card shows and a second answer streams to its end. */
async function sendResult(page: Page): Promise<void> {
  const answers = page.getByTestId('message-assistant');
  const before = await answers.count();
  await page.getByTestId('tool-result-input').fill(RESULT);
  await page.getByTestId('tool-result-send').click();
  await expect(page.getByTestId('message-tool')).toHaveCount(1);
  await expect(page.getByTestId('message-tool').getByTestId('tool-result-content')).toHaveText(JSON.stringify(JSON.parse(RESULT), null, 2));
  await expect(answers).toHaveCount(before + 1, { timeout: 60_000 });
  await expect(answers.last().getByTestId('stats')).toBeVisible({ timeout: 60_000 });
  // answered: the call no longer asks for a result
  await expect(page.getByTestId('tool-result-input')).toHaveCount(0);
}

/** In the page: records the arguments a call card shows while it is marked "streaming…". */
function watchStreamingCards(): void {
  const seen: string[] = [];
  (window as unknown as { seenStreaming: string[] }).seenStreaming = seen;
  new MutationObserver(() => {
    const card = document.querySelector('[data-testid="tool-call"][aria-busy="true"]');
    if (card?.querySelector('[data-testid="tool-call-streaming"]')) seen.push(card.querySelector('[data-testid="tool-call-arguments"]')?.textContent ?? '');
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

describe('tool calls, per chat', () => {
  it('required: a call card whose arguments validate; a result goes back and the model answers again; a reload keeps it all', async () => {
    const app = await startApp();
    const { page, errors } = await openApp(browser, app.url, { initScript: watchStreamingCards });
    await waitForModel(page);

    // invalid JSON, then a malformed tool: the message beside the box, the text kept, Send off
    await settings(page).click();
    await page.getByTestId('tools-on').check();
    const box = page.getByTestId('tools-json');
    const error = page.getByTestId('tools-error');
    const broken = '[{"type": "function", "function": {';
    await box.fill(broken);
    await expect(error).toContainText('not valid JSON');
    await expect(box).toHaveValue(broken);
    await box.fill('[{"type": "function", "function": {"name": "get weather"}}]');
    await expect(error).toContainText('tools[0].function.name');
    await closePanel(page);
    await page.getByTestId('prompt-input').fill('What is the weather in Paris?');
    await expect(page.getByTestId('send-button')).toBeDisabled();
    await expect(page.getByTestId('composer-note')).toContainText('Send is off');
    await expect(page.getByTestId('prompt-input')).toHaveValue('What is the weather in Paris?');

    // good tools, a call required: the answer is one call, as a card
    await setTools(page, 'required');
    await expect(page.getByTestId('send-button')).toBeEnabled();
    const text = await ask(page, 'What is the weather in Paris?');
    expect(text.trim(), 'a call, no text').toBe('');
    const args = await expectCall(page);
    // the arguments streamed into the card raw, growing, marked "streaming…"
    const seen = await page.evaluate(() => (window as unknown as { seenStreaming: string[] }).seenStreaming);
    expect(seen.length, 'the card showed a streaming state').toBeGreaterThan(0);
    expect(seen.every((t, i) => i === 0 || t.startsWith(seen[i - 1])), JSON.stringify(seen)).toBe(true);

    // the model may answer in text now: the result goes back and a second answer streams
    await settings(page).click();
    await page.getByTestId('tool-choice').selectOption('auto');
    await closePanel(page);
    await sendResult(page);

    // a reload: the call card, its result and the option are all still there
    await page.waitForTimeout(300); // the save is one IndexedDB transaction
    await page.reload();
    await waitForModel(page);
    await expect(page.getByTestId('tool-call').getByTestId('tool-call-name')).toHaveText('get_weather');
    await expect(page.getByTestId('tool-call').getByTestId('tool-call-arguments')).toHaveText(args);
    await expect(page.getByTestId('message-tool')).toHaveCount(1);
    await expect(page.getByTestId('message-assistant')).toHaveCount(2);
    await settings(page).click();
    await expect(page.getByTestId('tools-on')).toBeChecked();
    await expect(box).toHaveValue(TOOLS_TEXT);
    await expect(page.getByTestId('tool-choice')).toHaveValue('auto');
    expect(errors).toEqual([]);
    await app.close();
  });
});

// llama-server (--jinja, de3ff81) does not force a call for stories260K (no grammar for tool_choice
// required with its template, nor with Qwen3's written in: it tells a story), so the server is ours.
describe('tool calls with a remote server (cli serve)', () => {
  it('the requests carry tools, tool_choice, the call turn and the tool turn; the forced call validates', async () => {
    // one thread: the browser and the server share the machine's two cores
    const server = await startCliServe({ model: `${FIXTURES}/models/stories260K.gguf`, args: ['--threads', '1'] });
    const app = await startApp();
    const { context, page } = await openApp(browser, app.url);
    const sent = chatRequests(page);
    try {
      await connectRemote(page, server.url);
      await waitForRemote(page);
      await setTools(page, 'required');
      await ask(page, 'What is the weather in Paris?');
      expect(sent.at(-1)).toMatchObject({ tools: TOOLS, tool_choice: 'required' });
      const args = await expectCall(page);
      const call: unknown = JSON.parse(args);
      await settings(page).click();
      await page.getByTestId('tool-choice').selectOption('none');
      await closePanel(page);
      await sendResult(page);
      // the second request: the whole conversation, the assistant's call and the user's result included
      const second = sent.at(-1) as { messages: { role: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string; name?: string; content: string }[]; tool_choice: string };
      expect(second.tool_choice).toBe('none');
      const [assistant, tool] = second.messages.slice(-2);
      expect(assistant.role).toBe('assistant');
      expect(assistant.tool_calls).toHaveLength(1);
      expect(assistant.tool_calls![0].function.name).toBe('get_weather');
      expect(JSON.parse(assistant.tool_calls![0].function.arguments)).toEqual(call);
      expect(tool).toEqual({ role: 'tool', content: RESULT, tool_call_id: assistant.tool_calls![0].id, name: 'get_weather' });
      expect(second.messages[0]).toMatchObject({ role: 'user', content: 'What is the weather in Paris?' });

      // the tool named: sent as OpenAI's object, and a call to it. Then a message instead of its
      // result: the call is recorded as not run (a card, and a tool turn in the request), so the
      // model never sees a call without an answer
      await settings(page).click();
      await page.getByTestId('tool-choice').selectOption({ label: 'get_weather (must call it)' });
      await expect(page.getByTestId('tools-ok')).toContainText('the model must call get_weather');
      await closePanel(page);
      await ask(page, 'And in Oslo?');
      expect(sent.at(-1)).toMatchObject({ tool_choice: { type: 'function', function: { name: 'get_weather' } } });
      await expectCall(page);
      await expect(page.getByTestId('composer-note')).toContainText('A tool call waits for a result');
      await ask(page, 'Never mind the weather.');
      await expect(page.getByTestId('message-tool')).toHaveCount(2);
      await expect(page.getByTestId('message-tool').last()).toHaveAttribute('data-not-run', 'true');
      await expect(page.getByTestId('message-tool').last()).toContainText('Not run');
      const fourth = sent.at(-1) as typeof second;
      const [call2, notRun, user] = fourth.messages.slice(-3);
      expect(call2.tool_calls).toHaveLength(1);
      expect(notRun).toMatchObject({ role: 'tool', tool_call_id: call2.tool_calls![0].id, name: 'get_weather', content: expect.stringMatching(/^Not run/) });
      expect(user).toEqual({ role: 'user', content: 'Never mind the weather.' });
    } finally {
      await context.close();
      await app.close();
      await server.stop();
    }
  });
});
