// The vocabulary mask on a real 151k vocabulary (Qwen3's): the preorder-trie walk and its sparse
// form against a per-token check of every token's bytes, state by state through a JSON answer, and
// the greedy shortcut (allows) against the mask; apply leaves allowed logits untouched.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileConstraint } from '../../../src/engine/grammar/compile.ts';
import { openTokenizer } from '../../../src/engine/load.ts';
import { openNodeFile } from '../../../src/formats/node-file-source.ts';
import type { Tokenizer } from '../../../src/tokenizer/tokenizer.ts';
import { fixture } from '../../fixtures.ts';

let t: Tokenizer;
beforeAll(async () => {
  const { file, tokenizer } = await openTokenizer(await openNodeFile(fixture('arch', 'dev-qwen3.Q8_0.gguf')));
  await file.close();
  t = tokenizer;
});

const schema = JSON.parse(readFileSync(new URL('../../../bench/schemas/nested.json', import.meta.url), 'utf8'));
const answer = '{"name": "Zoë 東京", "age": 42, "address": {"street": "Rue de l\'Été 5", "city": "Paris", "country": "FR"}, "orders": [{"id": 7, "total": 1.5e3, "paid": true, "note": null}]}';

describe('token mask over the Qwen3 vocabulary', () => {
  it('allows exactly the tokens whose bytes the grammar accepts, at every step of an answer', () => {
    expect(t.vocabSize).toBe(151669);
    const c = compileConstraint(t, { jsonSchema: schema })!;
    const m = (c as unknown as { mask: { matcher: { acceptBytes(s: unknown, b: Uint8Array): unknown; initial: unknown } } }).mask.matcher;
    let state = m.initial;
    const ids = t.encode(answer);
    for (let step = 0; step <= ids.length; step++) {
      const mask = c.allowed();
      for (let id = step % 4; id < t.vocabSize; id += 4) { // a quarter of the vocabulary per step, all of it over four steps
        const bytes = t.tokenBytes(id);
        const want = t.eogIds.has(id) ? step === ids.length : bytes.length > 0 && m.acceptBytes(state, bytes) !== null;
        if (mask[id] !== (want ? 1 : 0)) throw new Error(`step ${step}, token ${id} ${JSON.stringify(t.tokenText(id))}: mask ${mask[id]}, expected ${want}`);
        if (c.allows(id) !== want) throw new Error(`step ${step}, token ${id}: allows says ${!want}, the per-token check ${want}`);
      }
      expect(mask.includes(1)).toBe(true);
      // apply: disallowed logits become -Infinity, allowed ones keep their value
      const logits = Float32Array.from({ length: t.vocabSize }, (_, i) => (i % 13) - 6);
      c.apply(logits);
      for (let id = 0; id < t.vocabSize; id++) {
        if (logits[id] !== (mask[id] ? (id % 13) - 6 : -Infinity)) throw new Error(`step ${step}, token ${id}: logit ${logits[id]} after apply`);
      }
      if (step === ids.length) break;
      c.accept(ids[step]);
      state = m.acceptBytes(state, t.tokenBytes(ids[step]));
    }
    expect(c.done).toBe(true);
  }, 300_000);
});
