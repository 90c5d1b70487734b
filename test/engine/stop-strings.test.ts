import { describe, expect, it } from 'vitest';
import { StopStringMatcher } from '../../src/engine/stop-strings.ts';

/** Feeds chunks; returns everything emitted (plus the flush if never stopped) and the stop state. */
function run(stops: string[], chunks: string[]): { text: string; stopped: boolean; matched?: string; emits: string[] } {
  const m = new StopStringMatcher(stops);
  const emits: string[] = [];
  let matched: string | undefined;
  for (const c of chunks) {
    const r = m.push(c);
    emits.push(r.emit);
    if (r.stopped && matched === undefined) matched = r.matched;
  }
  const tail = m.flush();
  if (tail) emits.push(tail);
  return { text: emits.join(''), stopped: m.stopped, matched, emits };
}

describe('StopStringMatcher', () => {
  it('passes text through when nothing can match', () => {
    const r = run(['<|im_end|>'], ['Hello', ' world', '!']);
    expect(r.emits).toEqual(['Hello', ' world', '!']);
    expect(r.stopped).toBe(false);
  });

  it('stops inside one chunk and drops the stop string and what follows', () => {
    const r = run(['<|im_end|>'], ['Hi<|im_end|>garbage', 'more']);
    expect(r).toMatchObject({ text: 'Hi', stopped: true, matched: '<|im_end|>' });
    expect(r.emits).toEqual(['Hi', '']);
  });

  it('holds back a possible prefix across chunk boundaries, then stops', () => {
    const r = run(['<|im_end|>'], ['Hello <', '|im', '_end', '|>', 'x']);
    expect(r.emits).toEqual(['Hello ', '', '', '', '']);
    expect(r).toMatchObject({ text: 'Hello ', stopped: true });
  });

  it('releases held text once it can no longer be a stop string', () => {
    const r = run(['<|im_end|>'], ['a <', '|im', 'age']);
    expect(r.emits).toEqual(['a ', '', '<|image']);
    expect(r.stopped).toBe(false);
  });

  it('flushes a trailing partial match at the end of generation', () => {
    const r = run(['User:'], ['Answer.\nUs']);
    expect(r.emits).toEqual(['Answer.\n', 'Us']);
    expect(r.stopped).toBe(false);
  });

  it('handles one character at a time, several stop strings and overlaps', () => {
    const stops = ['\n\nUser:', 'END'];
    const text = 'Line one\n\nUse the force\n\nUser: hi';
    const r = run(stops, [...text]);
    expect(r.text).toBe('Line one\n\nUse the force');
    expect(r.matched).toBe('\n\nUser:');
    // A false start that overlaps a real match: "EEND" must emit "E" and stop at "END".
    expect(run(['END'], ['xE', 'E', 'N', 'D!'])).toMatchObject({ text: 'xE', stopped: true });
  });

  it('picks the earliest match in a chunk', () => {
    const r = run(['bar', 'foo'], ['xx foo yy bar']);
    expect(r).toMatchObject({ text: 'xx ', matched: 'foo' });
  });

  it('matches multi-byte text and can be reset', () => {
    const m = new StopStringMatcher(['。\n']);
    expect(m.push('你好。')).toEqual({ emit: '你好', stopped: false });
    expect(m.push('\n再见')).toEqual({ emit: '', stopped: true, matched: '。\n' });
    expect(m.push('more')).toEqual({ emit: '', stopped: true });
    m.reset();
    expect(m.push('ok')).toEqual({ emit: 'ok', stopped: false });
  });

  it('with no stop strings emits everything at once', () => {
    expect(run([], ['a', 'b'])).toMatchObject({ emits: ['a', 'b'], stopped: false });
  });

  it('rejects empty stop strings', () => {
    expect(() => new StopStringMatcher([''])).toThrow(/non-empty/);
  });
});
