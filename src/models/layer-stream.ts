// Layer streaming: the matrices of layers a memory budget does not keep resident are read from
// the model's byte source once per forward pass into two device weight slots, double-buffered:
// when layer l is handed to the decoder, the read of the next streamed layer (wrapping to the
// first one for the next pass) is already started into the other slot, so it runs while l
// computes (Node: libuv's thread pool; browser: IndexedDB/Blob reads off the JS thread). Which
// layer a slot holds is recorded in the slot and checked on every use, never assumed.
import type { Backend, Weight, WeightSlot } from '../backends/backend.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { GGUFTensorInfo } from '../formats/gguf/reader.ts';
import { EngineError } from '../shared/errors.ts';

/**
 * One streamed byte range of a tensor (the whole tensor, or a run of rows of the LM head): read
 * to `offset` in a slot; the weights over it are views at `at` within the range.
 */
export interface StreamTensor {
  info: GGUFTensorInfo;
  /** byte range within the tensor */
  start: number;
  bytes: number;
  offset: number;
  views: { key: string; name: string; at: number; rows: number }[];
}

/** What one turn in a slot holds: a layer's matrices, or a run of the LM head's rows. */
export interface StreamedLayer {
  /** resident weights handed out with the streamed ones (a layer's norms and biases) */
  vectors: Partial<Record<string, Weight>>;
  tensors: StreamTensor[];
}

interface Slot {
  readonly slot: WeightSlot;
  /** the layer whose bytes are (or are being) written here; -1 none */
  layer: number;
  /** settles when the write of `layer` has finished; fills of one slot are chained, never overlap */
  ready: Promise<void>;
  /** weight views per layer, made once: the same layer always lands at the same offsets */
  readonly views: Map<number, Record<string, Weight>>;
}

export class LayerStream {
  /** streamed layer indices, ascending: the order a forward pass asks for them */
  private readonly order: number[];
  private readonly slots: Slot[];
  /** bytes read from storage so far (a pass reads every streamed layer once) */
  bytesRead = 0;

  /** units: layers by index; LM head row runs after them (nLayers, nLayers + 1, …) */
  constructor(private readonly backend: Backend, private readonly sources: readonly ByteSource[],
    private readonly layers: ReadonlyMap<number, StreamedLayer>, slotBytes: number) {
    if (!backend.allocWeightSlot || !backend.slotWeight || !backend.writeSlot) {
      throw new EngineError('OUT_OF_MEMORY', `The model's weights do not fit the memory budget and the ${backend.name} backend cannot stream layers; raise --max-memory.`);
    }
    this.order = [...layers.keys()].sort((a, b) => a - b);
    for (const [l, L] of layers) {
      const end = Math.max(0, ...L.tensors.map((t) => t.offset + t.bytes));
      if (end > slotBytes) throw new EngineError('BAD_ARGUMENT', `stream unit ${l} needs ${end} bytes, more than a streaming slot's ${slotBytes}`);
    }
    this.slots = [0, 1].map(() => ({ slot: backend.allocWeightSlot!(slotBytes), layer: -1, ready: Promise.resolve(), views: new Map() }));
  }

  /** The streamed layers' indices. */
  get streamed(): readonly number[] {
    return this.order;
  }

  /** Unit l's weights once its bytes are in a slot; starts reading the next streamed unit. */
  async layer(l: number): Promise<Record<string, Weight>> {
    const i = this.order.indexOf(l);
    if (i < 0) throw new EngineError('BAD_ARGUMENT', `layer ${l} is not streamed`);
    const next = this.order[(i + 1) % this.order.length];
    const s = this.slots.find((x) => x.layer === l) ?? this.fill(this.slots.find((x) => x.layer !== next)!, l);
    await s.ready;
    if (s.layer !== l) throw new EngineError('BACKEND', `streaming slot was refilled with layer ${s.layer} while layer ${l} was wanted`);
    if (!this.slots.some((x) => x.layer === next)) this.fill(this.slots.find((x) => x !== s)!, next);
    return this.views(s, l);
  }

  /** Starts writing layer l's bytes into slot s (after whatever write s has in flight). */
  private fill(s: Slot, l: number): Slot {
    const L = this.layers.get(l)!;
    s.layer = l;
    // views first: a backend whose views are buffers of their own (WebGPU) fills them on write
    this.views(s, l);
    const write = async () => {
      const view = this.backend.slotView?.(s.slot);
      // straight into backend memory: no per-token garbage buffers for the GC to collect late
      // every tensor's read in flight at once: they complete while the JS thread computes
      await Promise.all(L.tensors.map(async (t) => {
        const src = this.sources[t.info.fileIndex];
        const at = t.info.offset + t.start;
        const dst = view && src.readInto ? view.subarray(t.offset, t.offset + t.bytes) : undefined;
        if (dst) {
          try {
            await src.readInto!(at, dst);
          } catch (e) {
            if (dst.byteLength !== 0) throw e;
          }
        }
        // no view, or the heap grew during the read and detached it: read again and copy in
        if (!dst || dst.byteLength === 0) this.backend.writeSlot!(s.slot, t.offset, await src.read(at, t.bytes));
        this.bytesRead += t.bytes;
      }));
    };
    s.ready = s.ready.catch(() => {}).then(write);
    // a failed read leaves the slot empty (the next ask reads again) and surfaces when awaited
    s.ready.catch(() => { if (s.layer === l) s.layer = -1; });
    return s;
  }

  private views(s: Slot, l: number): Record<string, Weight> {
    let w = s.views.get(l);
    if (!w) {
      const L = this.layers.get(l)!;
      const fields: Record<string, Weight> = { ...L.vectors } as Record<string, Weight>;
      for (const t of L.tensors) {
        for (const v of t.views) {
          fields[v.key] = this.backend.slotWeight!(s.slot, t.offset + v.at, v.name, t.info.type as Weight['type'], t.info.shape[0], v.rows);
        }
      }
      w = fields;
      s.views.set(l, w);
    }
    return w;
  }
}

const rowBytesOf = (t: GGUFTensorInfo) => t.byteSize / (t.nElements / t.shape[0]);

/** One turn of the LM head in a slot: `rows` rows from `row0`, the weight under key 'output'. */
export interface HeadRun { unit: number; row0: number; rows: number }

/**
 * The LM head cut into runs of whole rows that fit a slot (and at most `maxRows`, the scratch the
 * decoder computes a run's logits into), as stream units numbered from `firstUnit`.
 */
export function headUnits(info: GGUFTensorInfo, firstUnit: number, slotBytes: number, maxRows: number): { runs: HeadRun[]; units: Map<number, StreamedLayer> } {
  const rowBytes = rowBytesOf(info);
  const total = info.nElements / info.shape[0];
  const per = Math.min(maxRows, Math.floor(slotBytes / rowBytes));
  if (per < 1) throw new EngineError('OUT_OF_MEMORY', `A streaming slot of ${slotBytes} bytes cannot hold one row of '${info.name}'.`);
  const runs: HeadRun[] = [];
  const units = new Map<number, StreamedLayer>();
  for (let row0 = 0; row0 < total; row0 += per) {
    const rows = Math.min(per, total - row0);
    const unit = firstUnit + runs.length;
    runs.push({ unit, row0, rows });
    units.set(unit, { vectors: {}, tensors: [{ info, start: row0 * rowBytes, bytes: rows * rowBytes, offset: 0,
      views: [{ key: 'output', name: `${info.name}[${row0}..]`, at: 0, rows }] }] });
  }
  return { runs, units };
}

/** Token embeddings read row by row from the source into a slot of `maxBatch` rows. */
export class EmbedRows {
  private readonly slot: WeightSlot;
  private readonly rowBytes: number;
  /** the slot as a table of maxBatch rows, made before anything is written (see fill) */
  private readonly table: Weight;

  constructor(private readonly backend: Backend, private readonly source: ByteSource, private readonly info: GGUFTensorInfo, maxBatch: number) {
    this.rowBytes = rowBytesOf(info);
    this.slot = backend.allocWeightSlot!(maxBatch * this.rowBytes);
    this.table = backend.slotWeight!(this.slot, 0, info.name, info.type as Weight['type'], info.shape[0], maxBatch);
  }

  /** Bytes this holds on the device. */
  static bytes(info: GGUFTensorInfo, maxBatch: number): number {
    return Math.ceil((maxBatch * rowBytesOf(info)) / 64) * 64;
  }

  /** A table whose row t < ids.length is token ids[t]'s embedding. */
  async rows(ids: Int32Array): Promise<Weight> {
    const vocab = this.info.nElements / this.info.shape[0];
    const data = await Promise.all([...ids].map((id) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new EngineError('BAD_ARGUMENT', `token id ${id} is outside the vocabulary (0..${vocab - 1})`);
      return this.source.read(this.info.offset + id * this.rowBytes, this.rowBytes);
    }));
    data.forEach((d, t) => this.backend.writeSlot!(this.slot, t * this.rowBytes, d));
    return this.table; // rows ids.length.. hold older tokens' rows, never read
  }
}
