// `cli serve`'s options: parsed and checked before anything loads.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.ts';

const serve = (...a: string[]) => parseCli(['serve', '--model', 'm.gguf', ...a]);

describe('cli serve arguments', () => {
  it('host, port, api key, alias, and the model options every model command takes', () => {
    const o = serve('--host', '0.0.0.0', '--port', '0', '--api-key', 'k', '--alias', 'tiny', '--ctx', '256',
      '--kv-type', 'q8_0', '--max-memory', '512M', '--threads', '2');
    expect(o).toMatchObject({ command: 'serve', host: '0.0.0.0', port: 0, apiKey: 'k', alias: 'tiny', ctx: 256, kvType: 'q8_0', maxMemory: 512 * 2 ** 20, threads: 2 });
    expect(serve()).toMatchObject({ host: undefined, port: undefined, apiKey: undefined });
  });
  it('refuses bad values, the browser, and serve options on other commands', () => {
    for (const p of ['-1', '65536', '80.5', 'http']) expect(() => serve('--port', p), p).toThrow(/--port/);
    expect(() => serve('--host', '')).toThrow(/--host/);
    expect(() => serve('--api-key', '')).toThrow(/--api-key/);
    expect(() => serve('--browser')).toThrow(/serve runs in Node/);
    expect(() => serve('--backend', 'webgpu')).toThrow(/serve runs in Node/);
    expect(() => parseCli(['serve'])).toThrow(/--model/);
    expect(() => parseCli(['generate', '--model', 'm.gguf', '--prompt', '', '--port', '8080'])).toThrow(/for serve/);
  });
});
