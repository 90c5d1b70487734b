// What an MLC folder's mlc-chat-config.json says about chatting, honoured end to end on folders the
// fixture writer makes: the conv_template object builds the chat prompt (mlc-llm's as_prompt,
// written out by hand below) and its stop ids end the answer; temperature, top_p and the penalties
// become the sampler's defaults; context_window_size is the default context, on the llama path and
// on the HF-family path (Qwen3, Gemma 3, Phi-3).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { buildChatPrompt, chooseTemplate } from '../../src/engine/chat.ts';
import { loadModelInput, type LoadedModel } from '../../src/engine/load.ts';
import { Session } from '../../src/engine/session.ts';
import type { MLCModelFile } from '../../src/formats/mlc/folder.ts';
import { openNodeModel } from '../../src/formats/node-file-source.ts';
import { EngineError } from '../../src/shared/errors.ts';
import { fixture } from '../fixtures.ts';
import { hfFromGGUF } from '../fixtures/hf-from-gguf.ts';
import { writeMLCFolder } from '../fixtures/mlc-writer.ts';

const dirs = [mkdtempSync(path.join(os.tmpdir(), 'mlc-chat-'))];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const f = path.join(dir, 'mlc-chat-config.json');
  const c = JSON.parse(readFileSync(f, 'utf8'));
  edit(c);
  writeFileSync(f, JSON.stringify(c));
}

const load = async (dir: string): Promise<LoadedModel> => loadModelInput(await openNodeModel(dir), await createWasmBackend({ threads: 2 }));

// TinyStories' vocab has <|start_story|> (1) and <|end_story|> (2) as its only special tokens
const CONV = {
  name: 'story-chat', system_template: '{system_message}\n', system_message: 'Stories for children.',
  roles: { user: 'Q:', assistant: 'A:' }, seps: ['\n', '<|end_story|>'], role_content_sep: ' ', role_empty_sep: '',
  stop_str: ['Q:'], stop_token_ids: [2, 13], system_prefix_token_ids: [1],
};

describe('an MLC folder\'s mlc-chat-config.json', () => {
  it('conv_template object → the chat prompt, stop strings and stop ids; sampling fields → sampler defaults; context_window_size → context', async () => {
    const { mlc } = await writeMLCFolder(fixture('models', 'TinyStories-656K'), 'q0f32', path.join(dirs[0], 'ts'), 1 << 20);
    editConfig(mlc, (c) => Object.assign(c, {
      conv_template: CONV, temperature: 0, top_p: 0.9, repetition_penalty: 1.1, presence_penalty: 0.5, frequency_penalty: 0.25,
      context_window_size: 300,
    }));
    const m = await load(mlc);
    try {
      expect(chooseTemplate(m)).toMatchObject({ kind: 'mlc', name: 'story-chat' });
      const p = buildChatPrompt(m, [
        { role: 'user', content: 'Who is Lily?' }, { role: 'assistant', content: 'A girl.' }, { role: 'user', content: 'Tell me more.' },
      ]);
      const text = 'Stories for children.\nQ: Who is Lily?\nA: A girl.<|end_story|>Q: Tell me more.\nA:';
      expect(p.promptIds).toEqual([1, ...m.tokenizer.encode(text, { parseSpecial: true })]);
      expect(p.promptIds.filter((id) => id === 2)).toHaveLength(1); // the assistant sep, parsed as the special token
      expect(p).toMatchObject({ stop: ['Q:'], stopIds: [2, 13] });
      // a system message replaces the template's default
      expect(buildChatPrompt(m, [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }]).promptIds)
        .toEqual([1, ...m.tokenizer.encode('Be kind.\nQ: Hi\nA:', { parseSpecial: true })]);

      expect(m.samplingDefaults).toEqual({ temperature: 0, topP: 0.9, repeatPenalty: 1.1, presencePenalty: 0.5, frequencyPenalty: 0.25 });
      expect((m.file as MLCModelFile).metadata.get('llama.context_length')).toBe(300);
      expect(m.decoder.opts.nCtx).toBe(300);

      // the stop ids end the answer: greedy (the folder's temperature 0) up to the first generated id, then that id as a stop id
      const s = new Session(m);
      const gen = async (stopIds?: number[]) => {
        for await (const ev of s.generate(p.promptIds, { maxTokens: 8, stopIds })) if (ev.type === 'done') return ev;
        throw new Error('no done event');
      };
      const free = await gen();
      expect(await gen()).toMatchObject({ ids: free.ids }); // unset temperature: the folder's 0, greedy
      const cut = await gen([free.ids[3]]);
      expect(cut.ids).toEqual(free.ids.slice(0, free.ids.indexOf(free.ids[3])));
      expect(cut.stats.finishReason).toBe('stop');
    } finally {
      await m.dispose();
    }
  }, 60_000);

  it('a malformed conv_template fails the open with MLC_CORRUPT naming the file', async () => {
    const { mlc } = await writeMLCFolder(fixture('models', 'TinyStories-656K'), 'q0f32', path.join(dirs[0], 'bad'), 1 << 20);
    editConfig(mlc, (c) => { c.conv_template = { ...CONV, seps: [] }; });
    const e = await openNodeModel(mlc).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('MLC_CORRUPT');
    expect((e as EngineError).message).toMatch(/bad\/mlc-q0f32\/mlc-chat-config\.json: conv_template "seps"/);
  });

  it('a registry name with no Jinja template in the folder picks the built-in one; an unknown name falls back without error', async () => {
    const { mlc } = await writeMLCFolder(fixture('models', 'TinyStories-656K'), 'q0f32', path.join(dirs[0], 'named'), 1 << 20);
    editConfig(mlc, (c) => { c.conv_template = 'chatml'; });
    let m = await load(mlc);
    expect(chooseTemplate(m)).toMatchObject({ kind: 'named', name: 'chatml' });
    await m.dispose();
    editConfig(mlc, (c) => { c.conv_template = 'not-a-template'; });
    m = await load(mlc);
    expect(chooseTemplate(m)).toBeNull(); // TinyStories: plain continuation, as without any conv_template
    await m.dispose();
  }, 60_000);
});

describe.each([['dev-qwen3.Q8_0.gguf', 'qwen3'], ['dev-gemma3.Q8_0.gguf', 'gemma3'], ['dev-phi3.Q8_0.gguf', 'phi3']])(
  'context_window_size of an MLC %s folder (HF-family path)', (file, arch) => {
    it('is the training context and so the default context', async () => {
      const hf = await hfFromGGUF(fixture('arch', file));
      dirs.push(hf.dir);
      const { mlc } = await writeMLCFolder(hf.dir, 'q0f32', path.join(hf.dir, 'out'), 1 << 20);
      editConfig(mlc, (c) => { c.context_window_size = 333; });
      const m = await load(mlc);
      try {
        expect(m.file.metadata.get(`${arch}.context_length`)).toBe(333);
        expect(m.decoder.opts.nCtx).toBe(333);
      } finally {
        await m.dispose();
      }
    }, 60_000);
  });
