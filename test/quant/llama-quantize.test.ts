// Our reference quantizers against llama.cpp's llama-quantize (no imatrix) on the same F32 parent:
// every block we write must be byte-identical to the one llama.cpp wrote.
import { beforeAll, describe, expect, it } from 'vitest';
import { getTraits } from '../../src/quant/traits.ts';
import { GGMLType, ggmlTypeName } from '../../src/quant/types.ts';
import { loadParent, loadTensors } from './fixture-tensors.ts';

// The K-quant searches cost ~1 µs per value in scalar JS; to keep the suite fast compare the first
// 8192 values of every tensor (32 super-blocks, 256 small blocks; 16 tensors per file). The IQ4
// search is cheaper (~15 µs per block): those files are compared whole.
const PREFIX = 8192;

// [mix, fixture folder]: the IQ4 files were made by a later llama.cpp (fixtures/arch/README.md).
const FILES: [string, string][] = [
  ...['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K_M', 'Q4_K_M', 'Q5_K_M', 'Q6_K'].map((m): [string, string] => [m, 'quant']),
  ['IQ4_NL', 'arch'], ['IQ4_XS', 'arch'],
];

let parent: Map<string, Float32Array>;
beforeAll(async () => {
  parent = await loadParent();
});

describe('quantizers write the same blocks as llama.cpp', () => {
  for (const [fmt, dir] of FILES) {
    it(`${dir}/dev-llama.${fmt}.gguf`, async () => {
      const blocksPerType = new Map<string, number>();
      const mismatches: string[] = [];
      for (const t of await loadTensors(`dev-llama.${fmt}.gguf`, dir)) {
        if (t.type === GGMLType.F32) continue;
        const tr = getTraits(t.type, t.name);
        const nBlocks = Math.min(t.nElements, fmt.startsWith('IQ4') ? Infinity : PREFIX) / tr.blockSize;
        const ours = new Uint8Array(nBlocks * tr.typeSize);
        tr.quantize!(parent.get(t.name)!, 0, nBlocks, ours, 0);
        for (let b = 0; b < nBlocks; b++) {
          const o = b * tr.typeSize;
          for (let j = 0; j < tr.typeSize; j++) {
            if (ours[o + j] !== t.bytes[o + j]) {
              mismatches.push(`${t.name} block ${b} byte ${j}: ours ${ours[o + j]}, llama.cpp ${t.bytes[o + j]}`);
              break;
            }
          }
        }
        const k = ggmlTypeName(t.type);
        blocksPerType.set(k, (blocksPerType.get(k) ?? 0) + nBlocks);
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(blocksPerType.size).toBeGreaterThan(0);
    });
  }
});
