// The real-GPU report's arithmetic (bench/gpu-bandwidth.ts): the bandwidth table lookup by the
// names GPUs report, KV and weight bytes per decoded token, achieved GB/s. Weight + KV bytes are
// checked against bench/measure.ts's bytesPerToken (the CPU bench's roofline figure) on a real GGUF.
import { describe, expect, it } from 'vitest';
import { bytesPerToken } from '../../bench/measure.ts';
import { achievedBandwidth, kvBytesPerToken, lookupBandwidth, median, weightBytesPerToken } from '../../bench/gpu-bandwidth.ts';
import { openGGUF } from '../../src/formats/gguf/reader.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { fixture } from '../fixtures.ts';

describe('GPU bandwidth table', () => {
  it.each([
    ['nvidia hopper NVIDIA H200', 4800],
    ['NVIDIA H100 80GB HBM3', 3350],
    ['NVIDIA H100 PCIe', 2000],
    ['NVIDIA H100 NVL', 3900],
    ['NVIDIA GH200 480GB', 4000],
    ['NVIDIA A100-SXM4-80GB', 2039],
    ['NVIDIA A100 80GB PCIe', 1935],
    ['NVIDIA A100-SXM4-40GB', 1555],
    ['NVIDIA GeForce RTX 4090', 1008],
    ['NVIDIA L4', 300],
    ['NVIDIA L40S', 864],
    ['Tesla T4', 320],
  ])('%s → %i GB/s', (adapter, gbps) => {
    expect(lookupBandwidth(adapter)?.gbps).toBe(gbps);
  });

  it('unknown adapters (SwiftShader, integrated GPUs) get null', () => {
    expect(lookupBandwidth('google swiftshader SwiftShader Device (Subzero)')).toBeNull();
    expect(lookupBandwidth('intel gen-12lp Intel(R) UHD Graphics 770')).toBeNull();
  });
});

describe('bytes per decoded token', () => {
  it('KV: K and V rows of every layer up to the mean decode position', () => {
    // 155M shape: 8 layers, 4 KV heads × 64; prompt 128, 64 decoded → 128 + 32.5 keys on average
    const s = { nLayers: 8, kvDim: 256 };
    expect(kvBytesPerToken({ ...s, kvType: 'f16' }, 128, 64)).toBe(8 * 2 * 512 * 160.5);
    expect(kvBytesPerToken({ ...s, kvType: 'f32' }, 128, 64)).toBe(8 * 2 * 1024 * 160.5);
    expect(kvBytesPerToken({ ...s, kvType: 'q8_0' }, 128, 64)).toBe(8 * 2 * 272 * 160.5);
  });

  it('weights: everything but the untied embedding table, of which one row', () => {
    const untied = [
      { name: 'token_embd.weight', shape: [4, 10], byteSize: 400 },
      { name: 'blk.0.attn_q.weight', shape: [4, 4], byteSize: 64 },
      { name: 'blk.0.attn_norm.weight', shape: [4], byteSize: 16 },
      { name: 'output.weight', shape: [4, 10], byteSize: 400 },
    ];
    expect(weightBytesPerToken(untied)).toBe(40 + 64 + 16 + 400);
    expect(weightBytesPerToken(untied.slice(0, 3))).toBe(400 + 64 + 16);
  });

  it('matches the CPU bench roofline figure on a real GGUF (it leaves out norms and the embedding row)', async () => {
    const file = fixture('quant', 'dev-llama.Q4_K_M.gguf');
    const f = await openGGUF(await openNodeFile(file));
    await f.close();
    const arch = String(f.metadata.get('general.architecture'));
    const n = (k: string) => Number(f.metadata.get(`${arch}.${k}`));
    const kvDim = (n('embedding_length') / n('attention.head_count')) * n('attention.head_count_kv');
    const [pp, tg] = [32, 16];
    const ours = weightBytesPerToken(f.tensors) + kvBytesPerToken({ nLayers: n('block_count'), kvDim, kvType: 'f32' }, pp, tg);
    const small = f.tensors.filter((t) => t.shape.length < 2).reduce((a, t) => a + t.byteSize, 0);
    const embd = f.tensor('token_embd.weight')!;
    const extra = small + (f.tensor('output.weight') ? embd.byteSize / embd.shape[1] : 0);
    // measure.ts takes the mean key count as its argument
    expect(ours - extra).toBeCloseTo(await bytesPerToken(file, pp + (tg + 1) / 2), 6);
  });
});

describe('achieved bandwidth', () => {
  it('bytes per token × tok/s, as a share of the peak when known', () => {
    expect(achievedBandwidth(1e8, 30, 4800)).toEqual({ gbps: 3, ofPeak: 3 / 4800 });
    expect(achievedBandwidth(2.5e8, 4, null)).toEqual({ gbps: 1, ofPeak: null });
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
