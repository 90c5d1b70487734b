// A copy of a Q8_0 fixture whose K and V projections have one outlier channel per head: every
// block scale of those weight rows × `factor` (a power of two, so the f16 scales stay exact).
// Keys and values then carry one large value per 32-value block, which a q8_0 KV cache rounds
// the rest of the block against: the cache type visibly moves perplexity, in both engines alike.
import { writeFileSync } from 'node:fs';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { writeGGUF } from '../../src/formats/gguf/writer.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { readF16, writeF16 } from '../../src/quant/half.ts';
import { Q8_0_BLOCK_SIZE, Q8_0_TYPE_SIZE } from '../../src/quant/q8_0.ts';
import { GGMLType } from '../../src/quant/types.ts';

export async function writeOutlierVariant(src: string, out: string, headDim: number, channel: number, factor: number): Promise<void> {
  const f = await openGGUF(await openNodeFile(src));
  try {
    const meta = [...f.metadata].map(([key, value]) => ({ key, value, type: f.metadataTypes.get(key)! }));
    const tensors = [];
    for (const t of f.tensors) {
      const data = new Uint8Array(await f.readTensor(t));
      if (/attn_[kv]\.weight$/.test(t.name)) {
        if (t.type !== GGMLType.Q8_0) throw new Error(`${t.name} is not Q8_0`);
        const [cols, rows] = t.shape as number[];
        const rowBytes = (cols / Q8_0_BLOCK_SIZE) * Q8_0_TYPE_SIZE;
        for (let r = channel; r < rows; r += headDim) {
          for (let o = r * rowBytes; o < (r + 1) * rowBytes; o += Q8_0_TYPE_SIZE) writeF16(data, o, readF16(data, o) * factor);
        }
      }
      tensors.push({ name: t.name, type: t.type, shape: t.shape, byteSize: t.byteSize, data });
    }
    writeFileSync(out, writeGGUF(meta, tensors, f.alignment));
  } finally {
    await f.close();
  }
}
