// The backend's one linear memory (shared when threaded) and a JS-side allocator over it:
// a bump pointer plus a first-fit free list that coalesces neighbours. Weights, activations,
// the KV cache and per-thread scratch all live here; nothing is allocated on the wasm side.
import { EngineError } from '../../shared/errors.ts';

/** memory.grow's unit. */
export const WASM_PAGE = 65536;
const PAGE = WASM_PAGE;
/** wasm32 address space. */
export const WASM32_MAX_BYTES = 4 * 1024 * 1024 * 1024;
/** Alignment of every allocation: one cache line, so v128 loads never straddle two. */
export const HEAP_ALIGN = 64;
const ALIGN = HEAP_ALIGN;

const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * A WebAssembly.Memory with `maximum` no larger than `limitBytes`. A big shared maximum reserves
 * address space up front, which small (32-bit) devices may refuse: then retry with less.
 */
export function createMemory(shared: boolean, limitBytes: number): { memory: WebAssembly.Memory; limit: number } {
  let maxPages = Math.floor(Math.min(limitBytes, WASM32_MAX_BYTES) / PAGE);
  if (maxPages < 1) throw oom(PAGE, limitBytes);
  for (;;) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared });
      return { memory, limit: Math.min(limitBytes, maxPages * PAGE) };
    } catch (e) {
      if (!(e instanceof RangeError) || maxPages <= 256) throw oom(PAGE, limitBytes, e);
      maxPages = Math.floor(maxPages / 2);
    }
  }
}

function oom(needed: number, limit: number, cause?: unknown): EngineError {
  return new EngineError('OUT_OF_MEMORY',
    `the WASM backend needs ${mib(needed)} of memory but its limit is ${mib(limit)}; ` +
    'use a smaller model or context, or a lower-bit quantization', { cause });
}

/**
 * The allocator's arithmetic alone (no memory): a bump pointer plus a first-fit free list that
 * coalesces neighbours. WasmHeap runs on it, and the memory pre-flight replays the backend's
 * allocations on one, so the two cannot disagree on fragmentation or rounding.
 */
export class FreeListSpace {
  private top: number;
  private peak: number;
  private readonly freeList: { ptr: number; size: number }[] = [];

  constructor(readonly base: number) {
    this.top = base;
    this.peak = base;
  }

  /** A block of at least `bytes` (rounded to 64); `grow(end)` runs before the top moves past the old end. */
  alloc(bytes: number, grow?: (end: number) => void): number {
    const size = heapAllocBytes(bytes);
    const i = this.freeList.findIndex((b) => b.size >= size);
    if (i >= 0) {
      const b = this.freeList[i];
      const ptr = b.ptr;
      if (b.size === size) this.freeList.splice(i, 1);
      else { b.ptr += size; b.size -= size; }
      return ptr;
    }
    const ptr = this.top;
    grow?.(ptr + size);
    this.top = ptr + size;
    this.peak = Math.max(this.peak, this.top);
    return ptr;
  }

  /** Returns a block from alloc(bytes) to the pool. */
  release(ptr: number, bytes: number): void {
    const size = heapAllocBytes(bytes);
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i].ptr < ptr) i++;
    list.splice(i, 0, { ptr, size });
    // merge with the next, then the previous neighbour
    if (i + 1 < list.length && list[i].ptr + list[i].size === list[i + 1].ptr) {
      list[i].size += list[i + 1].size;
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1].ptr + list[i - 1].size === list[i].ptr) {
      list[i - 1].size += list[i].size;
      list.splice(i, 1);
      i--;
    }
    // a free block at the top of the heap just lowers the bump pointer
    if (i === list.length - 1 && list[i].ptr + list[i].size === this.top) {
      this.top = list[i].ptr;
      list.pop();
    }
  }

  /** The highest end of any allocation so far. */
  peakTop(): number {
    return this.peak;
  }
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** usable bytes: min(4 GiB, maxMemoryBytes, what the memory object could reserve) */
  readonly limit: number;
  /** first byte the allocator may use (past the module's static data) */
  readonly base: number;
  private readonly space: FreeListSpace;
  private view8 = new Uint8Array(0);
  private view32 = new Float32Array(0);

  constructor(memory: WebAssembly.Memory, base: number, limit: number) {
    this.memory = memory;
    this.base = roundUp(base);
    this.space = new FreeListSpace(this.base);
    this.limit = limit;
  }

  /** Reserves `bytes` (rounded to 64), growing the memory when needed. */
  alloc(bytes: number): number {
    return this.space.alloc(bytes, (end) => this.ensure(end));
  }

  /** Returns a block from alloc(bytes) to the pool. */
  release(ptr: number, bytes: number): void {
    this.space.release(ptr, bytes);
  }

  /** The highest end of any allocation so far. */
  peakTop(): number {
    return this.space.peakTop();
  }

  /** Committed bytes of the memory. */
  bytes(): number {
    return this.memory.buffer.byteLength;
  }

  u8(): Uint8Array {
    this.refresh();
    return this.view8;
  }

  f32(): Float32Array {
    this.refresh();
    return this.view32;
  }

  private ensure(end: number): void {
    if (end > this.limit) throw oom(end, this.limit);
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE));
    } catch (e) {
      throw oom(end, this.limit, e);
    }
  }

  // Grown shared buffers are new objects and grown plain ones detach the old: re-take views.
  private refresh(): void {
    const buf = this.memory.buffer;
    if (this.view8.buffer !== buf || this.view8.byteLength !== buf.byteLength) {
      this.view8 = new Uint8Array(buf);
      this.view32 = new Float32Array(buf);
    }
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** What alloc(bytes) takes of the heap. */
export function heapAllocBytes(bytes: number): number {
  return roundUp(Math.max(bytes, 1));
}

/** Committed memory once allocations reach `end`: the memory starts at one page and grows by whole pages. */
export function committedBytes(end: number): number {
  return Math.max(PAGE, Math.ceil(end / PAGE) * PAGE);
}
