// Model output → content + tool calls, whole or streamed. The stream holds back text that may be the
// start of a call marker (or, at the very start, a call the marker of which the detokenizer dropped)
// and emits the content around calls as it comes. A call is announced (index, id, type, name) as soon
// as its name is known and its arguments object has begun, and the arguments text follows as it is
// generated (families without a `head`, and later calls of a multi-call block, come once complete).
// The deltas of a stream add up to what `parseToolCalls` finds in the whole text.
import type { ToolFormat } from './format.ts';
import { callHead, jsonEnd, skipSpace } from './format.ts';
import type { ParsedCall, ToolCall, ToolCallDelta } from './types.ts';

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomAlnum(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join('');
}

/** An id for a call: the model's own when the family's templates accept it, else a fresh one. */
export function callId(format: ToolFormat, own?: string): string {
  if (format.idLength) return own && own.length === format.idLength && /^[a-zA-Z0-9]+$/.test(own) ? own : randomAlnum(format.idLength);
  return own || `call_${randomAlnum(24)}`;
}

export function toToolCall(format: ToolFormat, c: ParsedCall): ToolCall {
  return { id: callId(format, c.id), type: 'function', function: { name: c.name, arguments: c.arguments } };
}

export interface ParsedOutput {
  content: string;
  tool_calls: ToolCall[];
}

/** Earliest place in text[from..] where a call may start: an opener, or leading text at the answer's start. */
function findStart(f: ToolFormat, text: string, from: number, atAnswerStart: boolean): number {
  let best = -1;
  for (const o of f.openers) {
    const i = text.indexOf(o, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  if (atAnswerStart && f.leading) {
    const i = skipSpace(text, from);
    if (f.leading.some((l) => text.startsWith(l, i)) && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Length of the longest suffix of text that is a proper prefix of one of `strings` (to hold back). */
function partialOf(strings: readonly string[], text: string): number {
  let keep = 0;
  for (const o of strings) {
    for (let n = Math.min(o.length - 1, text.length); n > keep; n--) {
      if (o.startsWith(text.slice(text.length - n))) { keep = n; break; }
    }
  }
  return keep;
}

/** A whole answer's calls and the content outside them (whitespace-only content is dropped when there are calls). */
export function parseToolCalls(f: ToolFormat, text: string): ParsedOutput {
  const s = new ToolCallStream(f);
  let content = '';
  const calls: ToolCall[] = [];
  const take = (d: { content: string; tool_calls: ToolCallDelta[] }) => {
    content += d.content;
    for (const t of d.tool_calls) {
      if (t.id) calls.push({ id: t.id, type: 'function', function: { name: t.function!.name!, arguments: '' } });
      if (t.function?.arguments) calls[t.index].function.arguments += t.function.arguments;
    }
  };
  take(s.push(text));
  take(s.flush());
  return { content: calls.length && !content.trim() ? '' : content, tool_calls: calls };
}

export interface StreamDelta {
  content: string;
  tool_calls: ToolCallDelta[];
}

export class ToolCallStream {
  private pending = '';
  /** nothing but whitespace was emitted yet, so leading text may still open a call */
  private atStart = true;
  private n = 0;
  /** the call being streamed: its index, where its object and its arguments start in `pending`, how much of them went out */
  private live: { index: number; callAt: number; argsAt: number; sent: number } | null = null;

  constructor(private readonly f: ToolFormat) {}

  /** calls found so far */
  get callCount(): number {
    return this.n;
  }

  push(chunk: string): StreamDelta {
    this.pending += chunk;
    return this.drain(false);
  }

  flush(): StreamDelta {
    return this.drain(true);
  }

  private drain(final: boolean): StreamDelta {
    const out: StreamDelta = { content: '', tool_calls: [] };
    const emit = (text: string) => {
      if (!text) return;
      out.content += text;
      if (text.trim()) this.atStart = false;
    };
    for (;;) {
      // a call being streamed starts `pending`
      const p = this.live ? 0 : findStart(this.f, this.pending, 0, this.atStart);
      if (p < 0) {
        const keep = final ? 0 : this.holdBack();
        emit(this.pending.slice(0, this.pending.length - keep));
        this.pending = this.pending.slice(this.pending.length - keep);
        return out;
      }
      emit(this.pending.slice(0, p));
      this.pending = this.pending.slice(p);
      const r = this.f.readCalls(this.pending, 0);
      const rest = r ? this.pending.slice(r.end) : '';
      const settled = r && (final || (rest.trim() !== '' && !this.continues(rest)));
      if (!settled) {
        if (this.streamLive(out)) {
          if (!final) return out;
          // the call never completed (cut by max_tokens, or malformed): it stays as far as it went,
          // and what follows its object is content
          const end = jsonEnd(this.pending, this.live!.callAt);
          this.live = null;
          this.atStart = false;
          this.pending = end < 0 ? '' : this.pending.slice(end).replace(/^\s*(<\/tool_call>|<\|\/tool_call\|>)/, '');
          continue;
        }
        if (!final) return out; // wait for more text
        // not a call after all: the marker is content
        const step = Math.max(1, skipSpace(this.pending, 0) + 1);
        emit(this.pending.slice(0, step));
        this.pending = this.pending.slice(step);
        continue;
      }
      r.calls.forEach((c, k) => {
        if (k === 0 && this.live) {
          // announced already; send what is left of its arguments text
          this.streamLive(out);
          this.live = null;
          return;
        }
        const index = this.n++;
        out.tool_calls.push({ index, id: callId(this.f, c.id), type: 'function', function: { name: c.name, arguments: '' } });
        out.tool_calls.push({ index, function: { arguments: c.arguments } });
      });
      this.atStart = false;
      this.pending = rest;
    }
  }

  /**
   * Announces the call at the start of `pending` once its name and the start of its arguments are
   * there, then sends its arguments text as far as it goes (to the object's end); false when there
   * is no call to stream.
   */
  private streamLive(out: StreamDelta): boolean {
    if (!this.live) {
      const h = callHead(this.f, this.pending);
      if (!h) return false;
      const index = this.n++;
      this.live = { index, callAt: h.callAt, argsAt: h.argsAt, sent: 0 };
      out.tool_calls.push({ index, id: callId(this.f), type: 'function', function: { name: h.name, arguments: '' } });
    }
    const l = this.live;
    const end = jsonEnd(this.pending, l.argsAt);
    const upTo = end < 0 ? this.pending.length : end;
    const piece = this.pending.slice(l.argsAt + l.sent, upTo);
    if (piece) {
      out.tool_calls.push({ index: l.index, function: { arguments: piece } });
      l.sent += piece.length;
    }
    return true;
  }

  /** text after complete calls that may still be more of them */
  private continues(rest: string): boolean {
    const t = rest.trimStart();
    if (this.f.name === 'llama3') return t.startsWith(';') || t.startsWith('{');
    return this.f.openers.some((o) => o.startsWith(t) || t.startsWith(o));
  }

  /** how much of the pending tail to keep back: an opener's start, or everything while leading text may open a call */
  private holdBack(): number {
    if (this.atStart && this.f.leading) {
      const t = this.pending.trimStart();
      if (t === '' || this.f.leading.some((l) => l.startsWith(t))) return this.pending.length;
    }
    return partialOf(this.f.openers, this.pending);
  }
}

/** Removes marker strings (control tokens shown only for the parser) from streamed text, holding back a tail that may start one. */
export class MarkerFilter {
  private held = '';

  constructor(private readonly markers: readonly string[]) {}

  push(text: string): string {
    let t = this.held + text;
    for (const m of this.markers) t = t.split(m).join('');
    const keep = partialOf(this.markers, t);
    this.held = t.slice(t.length - keep);
    return t.slice(0, t.length - keep);
  }

  flush(): string {
    const t = this.held;
    this.held = '';
    return t;
  }
}
