// The backend's one linear memory (shared when threaded) and a JS-side allocator over it:
// a bump pointer plus a first-fit free list that coalesces neighbours. Weights, activations,
// the KV cache and per-thread scratch all live here; nothing is allocated on the wasm side.
import { EngineError } from '../../shared/errors.ts';

const PAGE = 65536;
/** wasm32 address space. */
export const WASM32_MAX_BYTES = 4 * 1024 * 1024 * 1024;
/** Alignment of every allocation: one cache line, so v128 loads never straddle two. */
const ALIGN = 64;

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

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** usable bytes: min(4 GiB, maxMemoryBytes, what the memory object could reserve) */
  readonly limit: number;
  private top: number;
  private readonly freeList: { ptr: number; size: number }[] = [];
  private view8 = new Uint8Array(0);
  private view32 = new Float32Array(0);

  constructor(memory: WebAssembly.Memory, base: number, limit: number) {
    this.memory = memory;
    this.top = roundUp(base);
    this.limit = limit;
  }

  /** Reserves `bytes` (rounded to 64), growing the memory when needed. */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1));
    const i = this.freeList.findIndex((b) => b.size >= size);
    if (i >= 0) {
      const b = this.freeList[i];
      const ptr = b.ptr;
      if (b.size === size) this.freeList.splice(i, 1);
      else { b.ptr += size; b.size -= size; }
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    return ptr;
  }

  /** Returns a block from alloc(bytes) to the pool. */
  release(ptr: number, bytes: number): void {
    const size = roundUp(Math.max(bytes, 1));
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
