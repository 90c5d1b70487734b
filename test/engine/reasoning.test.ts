import { describe, expect, it } from 'vitest';
import { opensReasoning, ReasoningSplitter, splitReasoning, type SplitDelta, type SplitterOptions } from '../../src/engine/reasoning.ts';

/** Feeds `chunks` one by one and joins what comes out (plus the flush). */
function run(chunks: readonly string[], opts: SplitterOptions = {}): SplitDelta & { steps: SplitDelta[] } {
  const s = new ReasoningSplitter(opts);
  const steps = [...chunks.map((c) => s.push(c)), s.flush()];
  return {
    reasoning: steps.map((d) => d.reasoning).join(''),
    content: steps.map((d) => d.content).join(''),
    steps,
  };
}

const QWEN3_OUT = '<think>\nThe user says hello.\nI should greet back.\n</think>\n\nHello! How can I help?';

describe('ReasoningSplitter', () => {
  it('puts <think>…</think> at the start into reasoning, the rest into content (whitespace trimmed as llama.cpp)', () => {
    expect(run([QWEN3_OUT])).toMatchObject({
      reasoning: 'The user says hello.\nI should greet back.', content: 'Hello! How can I help?',
    });
  });

  it('gives the same split however the stream is cut, tags included', () => {
    const whole = run([QWEN3_OUT]);
    for (let i = 0; i <= QWEN3_OUT.length; i++) {
      for (const j of [i, Math.min(QWEN3_OUT.length, i + 3)]) {
        const r = run([QWEN3_OUT.slice(0, i), QWEN3_OUT.slice(i, j), QWEN3_OUT.slice(j)]);
        expect({ reasoning: r.reasoning, content: r.content }, `cut at ${i}/${j}`).toEqual({ reasoning: whole.reasoning, content: whole.content });
      }
    }
    const chars = run([...QWEN3_OUT]);
    expect(chars.reasoning).toBe(whole.reasoning);
    expect(chars.content).toBe(whole.content);
  });

  it('never lets part of a tag reach either side while it is undecided', () => {
    const r = run(['<th', 'ink>Plan', ' it.</th', 'ink>Done']);
    expect(r.steps.map((d) => [d.reasoning, d.content])).toEqual([['', ''], ['Plan', ''], [' it.', ''], ['', 'Done'], ['', '']]);
    // ... and nothing of the whitespace before the closing tag
    expect(run(['<think>a \n', '\n</think>b']).reasoning).toBe('a');
  });

  it('streams reasoning while the block is open and keeps it there when it never closes (max tokens)', () => {
    const s = new ReasoningSplitter();
    expect(s.push('<think>\nStep one')).toEqual({ reasoning: 'Step one', content: '' });
    expect(s.inReasoning).toBe(true);
    expect(s.push(', step two </')).toEqual({ reasoning: ', step two', content: '' });
    expect(s.flush()).toEqual({ reasoning: ' </', content: '' });
    expect(s.inReasoning).toBe(true);
  });

  it('starts inside thinking when the generation prompt opened it (Qwen3.5, DeepSeek-R1 templates)', () => {
    const r = run(['Let me think', '.\n</think>\n\nAnswer.'], { startInReasoning: true });
    expect(r).toMatchObject({ reasoning: 'Let me think.', content: 'Answer.' });
    expect(run(['only thoughts'], { startInReasoning: true })).toMatchObject({ reasoning: 'only thoughts', content: '' });
  });

  it('passes an ordinary answer on exactly, leading space included; <think> later in it is text', () => {
    expect(run([' there', ' was a dog'])).toMatchObject({ reasoning: '', content: ' there was a dog' });
    expect(run(['Use <think> tags'])).toMatchObject({ reasoning: '', content: 'Use <think> tags' });
    expect(run(['<thin', 'g>'])).toMatchObject({ reasoning: '', content: '<thing>' });
    expect(run(['<thi'])).toMatchObject({ reasoning: '', content: '<thi' });
    expect(run(['\n', '  '])).toMatchObject({ reasoning: '', content: '\n  ' });
  });

  it('an empty thinking block (Qwen3 with thinking off writes one) leaves only the answer', () => {
    expect(run(['<think>\n\n</think>\n\n', 'Hi'])).toMatchObject({ reasoning: '', content: 'Hi' });
  });

  it('custom tags', () => {
    expect(run(['[THINK]x[/THINK]y'], { tags: { open: '[THINK]', close: '[/THINK]' } })).toMatchObject({ reasoning: 'x', content: 'y' });
  });

  it('splitReasoning splits a whole text', () => {
    expect(splitReasoning(QWEN3_OUT)).toEqual({ reasoning: 'The user says hello.\nI should greet back.', content: 'Hello! How can I help?' });
  });
});

describe('opensReasoning', () => {
  it('is true only when the generation prompt ends inside an unclosed block', () => {
    expect(opensReasoning('<|im_start|>assistant\n<think>\n')).toBe(true);
    expect(opensReasoning('<｜Assistant｜><think>\n')).toBe(true);
    expect(opensReasoning('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(false);
    expect(opensReasoning('<|im_start|>assistant\n')).toBe(false);
  });
});
