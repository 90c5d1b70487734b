import { describe, expect, it } from 'vitest';
import { deltaStream } from '../../src/worker/chat.ts';

describe('deltaStream (worker → UI chunks)', () => {
  it('thinking arrives as reasoning_content, the answer as content, the role once', () => {
    const d = deltaStream({ split: true, startsInReasoning: false });
    expect(d.push('<th')).toBeNull();
    expect(d.push('ink>\nHmm')).toEqual({ role: 'assistant', reasoning_content: 'Hmm' });
    expect(d.push('.</think>\n\nYes')).toEqual({ reasoning_content: '.', content: 'Yes' });
    expect(d.push('!')).toEqual({ content: '!' });
    expect(d.flush()).toBeNull();
  });

  it('when the prompt opened the block, everything up to </think> is reasoning, even unclosed', () => {
    const d = deltaStream({ split: true, startsInReasoning: true });
    expect(d.push('step </')).toEqual({ role: 'assistant', reasoning_content: 'step' });
    expect(d.flush()).toEqual({ reasoning_content: ' </' });
  });

  it('control-token markers shown for the tools parser are hidden, even split across pieces', () => {
    const d = deltaStream({ split: true, startsInReasoning: false, hide: ['<|python_tag|>'] });
    expect(d.push('<think>a<|python')).toEqual({ role: 'assistant', reasoning_content: 'a' });
    expect(d.push('_tag|>b</think>Hi <|py')).toEqual({ reasoning_content: 'b', content: 'Hi ' });
    expect(d.push('thon_tag|>there <|')).toEqual({ content: 'there ' });
    expect(d.flush()).toEqual({ content: '<|' });
  });

  it('plain continuation passes text through untouched', () => {
    const d = deltaStream({ split: false, startsInReasoning: false });
    expect(d.push('<think>')).toEqual({ role: 'assistant', content: '<think>' });
    expect(d.flush()).toBeNull();
  });
});
