// A chat's "JSON output" option in the built app with the bundled demo model (stories260K, which
// otherwise writes stories): with a schema, the answer shown as a JSON code block parses and
// validates against it (ajv, on the Node side); a bad schema shows its error beside the box, keeps
// the typed text and turns Send off; a reload keeps the option and the text.
import Ajv2020 from 'ajv/dist/2020.js';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startLlamaServer } from '../test/llama-server.ts';
import { ask, chatRequests, connectRemote, expect, FIXTURES, launch, openApp, startApp, waitForModel, waitForRemote } from './harness.ts';

const SCHEMA = {
  type: 'object',
  properties: {
    hero: { type: 'string', maxLength: 20 },
    age: { type: 'integer', minimum: 1, maximum: 99 },
    friends: { type: 'array', items: { enum: ['cat', 'dog', 'bird'] }, maxItems: 3 },
  },
  required: ['hero', 'age', 'friends'],
  additionalProperties: false,
};
const SCHEMA_TEXT = JSON.stringify(SCHEMA, null, 2);

let browser: Browser;
beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

const settings = (page: Page) => page.getByRole('button', { name: 'Settings' });
const closePanel = (page: Page) => page.getByRole('button', { name: 'Close panel' }).click();

describe('JSON output, per chat', () => {
  it('a schema constrains the answer; a bad one says why and keeps the text; a reload keeps the option', async () => {
    const app = await startApp();
    const { page, errors } = await openApp(browser, app.url);
    await waitForModel(page);
    const validate = new Ajv2020({ strict: true }).compile(SCHEMA);

    await settings(page).click();
    await page.getByLabel('Max answer tokens').fill('300');
    await page.getByTestId('json-output').check();
    const box = page.getByTestId('json-schema');
    const error = page.getByTestId('json-schema-error');
    // empty box: any JSON object
    await expect(page.getByTestId('json-schema-ok')).toHaveText(/any/);

    // invalid JSON, then a feature the engine does not support: the message beside the box, the text kept, Send off
    const broken = '{"type": "object", "properties": {';
    await box.fill(broken);
    await expect(error).toContainText('not valid JSON');
    await expect(box).toHaveValue(broken);
    await box.fill('{"type": "string", "format": "email"}');
    await expect(error).toContainText('format "email"');
    await closePanel(page);
    await page.getByTestId('prompt-input').fill('Once upon a time');
    await expect(page.getByTestId('send-button')).toBeDisabled();
    await expect(page.getByTestId('composer-note')).toContainText('Send is off');
    await expect(page.getByTestId('prompt-input')).toHaveValue('Once upon a time');

    // a good schema: the answer is JSON that validates
    await settings(page).click();
    await box.fill(SCHEMA_TEXT);
    await expect(error).toHaveCount(0);
    await expect(page.getByTestId('json-schema-ok')).toContainText('schema');
    await closePanel(page);
    const first = await ask(page, 'Once upon a time');
    const block = page.getByTestId('message-assistant').last().getByTestId('json-answer');
    await expect(block).toBeVisible();
    const value: unknown = JSON.parse(first);
    expect(validate(value), `${first}\n${JSON.stringify(validate.errors)}`).toBe(true);
    expect(first, 'shown pretty-printed').toBe(`${JSON.stringify(value, null, 2)}`);

    // the option off: the same model tells a story (the constraint is what made it JSON)
    await settings(page).click();
    await page.getByTestId('json-output').uncheck();
    await closePanel(page);
    const story = await ask(page, 'Once upon a time');
    expect(() => JSON.parse(story)).toThrow();
    await expect(page.getByTestId('message-assistant').last().getByTestId('json-answer')).toHaveCount(0);

    // back on, then a reload: the option, the schema and the JSON answer are all still there
    await settings(page).click();
    await page.getByTestId('json-output').check();
    await expect(box).toHaveValue(SCHEMA_TEXT);
    await page.reload();
    await waitForModel(page);
    await expect(page.getByTestId('message-assistant').first().getByTestId('json-answer')).toHaveText(first);
    await settings(page).click();
    await expect(page.getByTestId('json-output')).toBeChecked();
    await expect(box).toHaveValue(SCHEMA_TEXT);

    // a schema being typed (invalid) survives a reload as typed, with its error
    const half = SCHEMA_TEXT.slice(0, 40);
    await box.fill(half);
    await expect(error).toContainText('not valid JSON');
    await page.waitForTimeout(300); // the save is one IndexedDB transaction
    await page.reload();
    await waitForModel(page);
    await settings(page).click();
    await expect(box).toHaveValue(half);
    await expect(error).toContainText('not valid JSON');
    expect(errors).toEqual([]);
    await app.close();
  });
});

describe('JSON output with a remote server (llama-server)', () => {
  it('the request carries response_format json_schema, and llama.cpp\'s constrained answer validates', async () => {
    const server = await startLlamaServer({ model: `${FIXTURES}/models/stories260K.gguf` });
    const app = await startApp();
    const { context, page } = await openApp(browser, app.url);
    const sent = chatRequests(page);
    try {
      await connectRemote(page, server.url);
      await waitForRemote(page);
      await settings(page).click();
      await page.getByLabel('Max answer tokens').fill('300');
      await page.getByTestId('json-output').check();
      await page.getByTestId('json-schema').fill(SCHEMA_TEXT);
      await closePanel(page);
      const answer = await ask(page, 'Once upon a time');
      expect(sent.at(-1)).toMatchObject({ response_format: { type: 'json_schema', json_schema: { schema: SCHEMA, strict: true } } });
      const validate = new Ajv2020({ strict: true }).compile(SCHEMA);
      expect(validate(JSON.parse(answer)), answer).toBe(true);
      await settings(page).click();
      // a feature this device's engine lacks is the server's to judge: sent as typed, with a note
      await page.getByTestId('json-schema').fill('{"type": "string", "format": "email"}');
      await expect(page.getByTestId('json-schema-ok')).toContainText('the server decides');
      await closePanel(page);
      await expect(page.getByTestId('send-button')).toBeDisabled(); // no text yet
      await page.getByTestId('prompt-input').fill('x');
      await expect(page.getByTestId('send-button')).toBeEnabled();
    } finally {
      await context.close();
      await app.close();
      await server.stop();
    }
  });
});
