// The arithmetic of the real-GPU report (bench/gpu-report.ts), kept pure so a unit test covers it:
// bytes a decode step reads, the bandwidth that implies at a measured tok/s, and the GPU's
// memory bandwidth from its adapter name (vendor spec sheets; WebGPU does not expose it).
import { kvRowBytes, type KVType } from '../src/backends/kv-layout.ts';

/** Peak memory bandwidth in GB/s (10⁹ B/s), first matching pattern wins (so the specific names come first). */
export const GPU_BANDWIDTH: readonly { pattern: RegExp; name: string; gbps: number }[] = [
  { pattern: /GH200/i, name: 'NVIDIA GH200', gbps: 4000 },
  { pattern: /H200/i, name: 'NVIDIA H200', gbps: 4800 },
  { pattern: /H100.*NVL/i, name: 'NVIDIA H100 NVL', gbps: 3900 },
  { pattern: /H100.*PCIe/i, name: 'NVIDIA H100 PCIe', gbps: 2000 },
  { pattern: /H100/i, name: 'NVIDIA H100 SXM', gbps: 3350 },
  { pattern: /H800/i, name: 'NVIDIA H800 SXM', gbps: 3350 },
  { pattern: /A100.*80\s?GB.*PCIe/i, name: 'NVIDIA A100 80GB PCIe', gbps: 1935 },
  { pattern: /A100.*80\s?GB/i, name: 'NVIDIA A100 80GB SXM', gbps: 2039 },
  { pattern: /A100/i, name: 'NVIDIA A100 40GB', gbps: 1555 },
  { pattern: /L40S?\b/i, name: 'NVIDIA L40/L40S', gbps: 864 },
  { pattern: /\bL4\b/i, name: 'NVIDIA L4', gbps: 300 },
  { pattern: /A10G/i, name: 'NVIDIA A10G', gbps: 600 },
  { pattern: /\bA10\b/i, name: 'NVIDIA A10', gbps: 600 },
  { pattern: /\bT4\b/i, name: 'NVIDIA T4', gbps: 320 },
  { pattern: /V100/i, name: 'NVIDIA V100', gbps: 900 },
  { pattern: /RTX 6000 Ada/i, name: 'NVIDIA RTX 6000 Ada', gbps: 960 },
  { pattern: /RTX A6000/i, name: 'NVIDIA RTX A6000', gbps: 768 },
  { pattern: /RTX 5090/i, name: 'NVIDIA GeForce RTX 5090', gbps: 1792 },
  { pattern: /RTX 4090/i, name: 'NVIDIA GeForce RTX 4090', gbps: 1008 },
  { pattern: /RTX 4080/i, name: 'NVIDIA GeForce RTX 4080', gbps: 717 },
  { pattern: /RTX 3090/i, name: 'NVIDIA GeForce RTX 3090', gbps: 936 },
  { pattern: /RTX 3080/i, name: 'NVIDIA GeForce RTX 3080', gbps: 760 },
  { pattern: /MI300X/i, name: 'AMD Instinct MI300X', gbps: 5300 },
  { pattern: /MI250/i, name: 'AMD Instinct MI250X', gbps: 3277 },
  { pattern: /RX 7900 XTX/i, name: 'AMD Radeon RX 7900 XTX', gbps: 960 },
];

/** The table row for an adapter's name (vendor, architecture, device, description joined), or null. */
export function lookupBandwidth(adapter: string): { name: string; gbps: number } | null {
  const row = GPU_BANDWIDTH.find((r) => r.pattern.test(adapter));
  return row ? { name: row.name, gbps: row.gbps } : null;
}

export interface DecodeShape {
  nLayers: number;
  /** nHeadKV × headDim */
  kvDim: number;
  kvType: KVType;
}

/**
 * KV bytes one decode step reads, averaged over decoding genTokens after a promptTokens prompt:
 * K and V rows of every layer for every position up to the new one (positions promptTokens + i, i < gen).
 */
export function kvBytesPerToken(s: DecodeShape, promptTokens: number, genTokens: number): number {
  const meanKeys = promptTokens + (genTokens + 1) / 2;
  return s.nLayers * 2 * kvRowBytes(s.kvType, s.kvDim) * meanKeys;
}

/** Matrix bytes one decode step reads: all 2-D weights but the embedding table (one row), which is
 *  read whole only when it doubles as the output matrix (tied). */
export function weightBytesPerToken(tensors: readonly { name: string; shape: readonly number[]; byteSize: number }[]): number {
  const tied = !tensors.some((t) => t.name === 'output.weight');
  let bytes = 0;
  for (const t of tensors) {
    if (t.shape.length < 2) bytes += t.byteSize; // norms: read whole, tiny
    else if (t.name !== 'token_embd.weight' || tied) bytes += t.byteSize;
    else bytes += t.byteSize / t.shape[1]; // one row of [dim, vocab]
  }
  return bytes;
}

/** Achieved GB/s at a decode rate, and its share of the peak when the peak is known. */
export function achievedBandwidth(bytesPerToken: number, tokPerSec: number, peakGBps: number | null): { gbps: number; ofPeak: number | null } {
  const gbps = (bytesPerToken * tokPerSec) / 1e9;
  return { gbps, ofPeak: peakGBps ? gbps / peakGBps : null };
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
