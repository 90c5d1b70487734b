// Splits a streamed answer into its thinking and the answer proper, as llama.cpp's server does for
// reasoning models (reasoning_format "deepseek": `<think>…</think>` at the start of the output goes
// to reasoning_content, the rest to content). Tags may arrive split across chunks, so text that
// could be the start of a tag is held back until later chunks decide.

export interface ReasoningTags {
  open: string;
  close: string;
}

/** Qwen3, DeepSeek-R1, SmolLM3, Phi-4-mini-reasoning. */
export const THINK_TAGS: ReasoningTags = { open: '<think>', close: '</think>' };

export interface SplitDelta {
  reasoning: string;
  content: string;
}

export interface SplitterOptions {
  /** the generation prompt already opened the thinking block, so the output starts inside it */
  startInReasoning?: boolean;
  tags?: ReasoningTags;
}

type State = 'start' | 'reasoning' | 'content';

export class ReasoningSplitter {
  private state: State;
  private held = '';
  /** whitespace at a section start is dropped, as llama.cpp trims both parts */
  private atSectionStart = true;
  private readonly tags: ReasoningTags;

  constructor(opts: SplitterOptions = {}) {
    this.tags = opts.tags ?? THINK_TAGS;
    this.state = opts.startInReasoning ? 'reasoning' : 'start';
  }

  /** Still inside the thinking block (or not yet known whether one starts). */
  get inReasoning(): boolean {
    return this.state !== 'content';
  }

  push(chunk: string): SplitDelta {
    const out: SplitDelta = { reasoning: '', content: '' };
    let text = this.held + chunk;
    this.held = '';
    for (;;) {
      if (this.state === 'start') {
        const t = text.trimStart();
        if (t.startsWith(this.tags.open)) {
          text = t.slice(this.tags.open.length);
          this.enter('reasoning');
          continue;
        }
        // Only a thinking block at the very start counts; until the text can no longer be its
        // opening tag, keep it back.
        if (this.tags.open.startsWith(t)) { this.held = text; return out; }
        // an ordinary answer: passed on exactly as generated
        this.state = 'content';
        this.atSectionStart = false;
        continue;
      }
      if (this.state === 'reasoning') {
        if (this.atSectionStart) {
          text = text.trimStart();
          if (!text) return out;
          this.atSectionStart = false;
        }
        const end = text.indexOf(this.tags.close);
        if (end >= 0) {
          out.reasoning += text.slice(0, end).trimEnd();
          text = text.slice(end + this.tags.close.length);
          this.enter('content');
          continue;
        }
        const tag = partialTagSuffix(text, this.tags.close);
        const keep = tag + trailingSpace(text.slice(0, text.length - tag));
        out.reasoning += text.slice(0, text.length - keep);
        this.held = text.slice(text.length - keep);
        return out;
      }
      if (this.atSectionStart) {
        text = text.trimStart();
        if (!text) return out;
        this.atSectionStart = false;
      }
      out.content += text;
      return out;
    }
  }

  /** End of the stream: what was held back is released where it stands (an unclosed block stays reasoning). */
  flush(): SplitDelta {
    const rest = this.held;
    this.held = '';
    if (this.state === 'start') {
      this.state = 'content';
      return { reasoning: '', content: rest };
    }
    return this.state === 'reasoning' ? { reasoning: rest.trimEnd(), content: '' } : { reasoning: '', content: rest };
  }

  private enter(state: State): void {
    this.state = state;
    this.atSectionStart = true;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagSuffix(text: string, tag: string): number {
  for (let len = Math.min(tag.length - 1, text.length); len > 0; len--) {
    if (text.endsWith(tag.slice(0, len))) return len;
  }
  return 0;
}

/** Trailing whitespace is held so that the whitespace before a closing tag never reaches the reasoning. */
function trailingSpace(text: string): number {
  return text.length - text.trimEnd().length;
}

/** Whether a generation prompt leaves a thinking block open (e.g. ends with `<think>\n`). */
export function opensReasoning(generationPrompt: string, tags: ReasoningTags = THINK_TAGS): boolean {
  const open = generationPrompt.lastIndexOf(tags.open);
  return open >= 0 && generationPrompt.indexOf(tags.close, open) < 0;
}

/** Splits a whole stored answer (e.g. one saved before reasoning was kept apart). */
export function splitReasoning(text: string, opts: SplitterOptions = {}): SplitDelta {
  const s = new ReasoningSplitter(opts);
  const a = s.push(text), b = s.flush();
  return { reasoning: a.reasoning + b.reasoning, content: a.content + b.content };
}
