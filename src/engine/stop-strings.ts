// Streaming stop-string matcher. Generated text arrives in chunks (one detokenized piece per token);
// text that might be the start of a stop string is held back until the next chunks decide, and the
// stop string itself (and anything after it) is never emitted.

import { check } from '../shared/assert.ts';

export interface StopResult {
  /** Text that is now safe to show. */
  emit: string;
  /** A stop string was completed; generation should end. Later pushes emit nothing. */
  stopped: boolean;
  /** The stop string that matched (when stopped). */
  matched?: string;
}

export class StopStringMatcher {
  private readonly stops: readonly string[];
  private held = '';
  private done = false;

  constructor(stops: readonly string[]) {
    for (const s of stops) {
      check(typeof s === 'string' && s.length > 0, 'BAD_ARGUMENT', 'stop strings must be non-empty strings');
    }
    this.stops = [...new Set(stops)];
  }

  get stopped(): boolean {
    return this.done;
  }

  /** Feeds the next chunk of generated text. */
  push(chunk: string): StopResult {
    if (this.done) return { emit: '', stopped: true };
    const text = this.held + chunk;
    const hit = this.firstMatch(text);
    if (hit) {
      this.done = true;
      this.held = '';
      return { emit: text.slice(0, hit.at), stopped: true, matched: hit.stop };
    }
    const keep = this.pendingSuffix(text);
    this.held = text.slice(text.length - keep);
    return { emit: text.slice(0, text.length - keep), stopped: false };
  }

  /** End of generation without a stop: releases whatever was held back. */
  flush(): string {
    const rest = this.done ? '' : this.held;
    this.held = '';
    return rest;
  }

  /** Forgets held text and the stopped state, for reuse in a new generation. */
  reset(): void {
    this.held = '';
    this.done = false;
  }

  /** Earliest complete stop string in `text`; on equal starts the longer one wins. */
  private firstMatch(text: string): { at: number; stop: string } | null {
    let best: { at: number; stop: string } | null = null;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at < 0) continue;
      if (!best || at < best.at || (at === best.at && stop.length > best.stop.length)) best = { at, stop };
    }
    return best;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  private pendingSuffix(text: string): number {
    let keep = 0;
    for (const stop of this.stops) {
      for (let len = Math.min(stop.length - 1, text.length); len > keep; len--) {
        if (text.endsWith(stop.slice(0, len))) {
          keep = len;
          break;
        }
      }
    }
    return keep;
  }
}
