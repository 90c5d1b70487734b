// Hand-built blocks: each test packs chosen quants/scales following ggml-common.h's block structs
// (written here from the layout, not with our packers) and checks the reference dequant against
// the format's formula evaluated directly.
import { describe, expect, it } from 'vitest';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { GGMLType, type FormatTraits } from '../../src/quant/types.ts';

// f16 bit patterns of exactly representable values (IEEE half tables).
const H = { '2': 0x4000, '1.5': 0x3e00, '0.75': 0x3a00, '0.5': 0x3800, '0.25': 0x3400, '0.125': 0x3000, '-1.5': 0xbe00, '-0.25': 0xb400 } as const;
const HV: Record<number, number> = { 0x4000: 2, 0x3e00: 1.5, 0x3a00: 0.75, 0x3800: 0.5, 0x3400: 0.25, 0x3000: 0.125, 0xbe00: -1.5, 0xb400: -0.25 };

interface Built { bytes: Uint8Array; values: number[] }

function put16(b: Uint8Array, o: number, h: number): void {
  b[o] = h & 0xff;
  b[o + 1] = h >> 8;
}

/** Deterministic level pattern in [0, n) that differs between neighbours and halves. */
const lvl = (i: number, n: number, salt: number): number => (i * 7 + (i >> 4) * 3 + salt) % n;

function q8_0(salt: number, d: number): Built {
  const bytes = new Uint8Array(34);
  put16(bytes, 0, d);
  const values: number[] = [];
  for (let i = 0; i < 32; i++) {
    const q = lvl(i, 256, salt) - 128;
    bytes[2 + i] = q & 0xff;
    values.push(q * HV[d]);
  }
  return { bytes, values };
}

/** q4_0/q4_1/q5_0/q5_1: qs[j] = q[j] low nibble | q[j+16] high nibble; bit 4 of q[i] is qh bit i. */
function legacy(bits: 4 | 5, hasMin: boolean, salt: number, d: number, m: number): Built {
  const head = 2 + (hasMin ? 2 : 0) + (bits === 5 ? 4 : 0);
  const bytes = new Uint8Array(head + 16);
  put16(bytes, 0, d);
  if (hasMin) put16(bytes, 2, m);
  const q = Array.from({ length: 32 }, (_, i) => lvl(i, 1 << bits, salt));
  let qh = 0;
  for (let j = 0; j < 16; j++) bytes[head + j] = (q[j] & 15) | ((q[j + 16] & 15) << 4);
  for (let i = 0; i < 32; i++) qh += (q[i] >> 4) * 2 ** i;
  if (bits === 5) for (let k = 0; k < 4; k++) bytes[head - 4 + k] = Math.floor(qh / 2 ** (8 * k)) & 0xff;
  const offset = hasMin ? 0 : 1 << (bits - 1);
  const values = q.map((v) => (hasMin ? v * HV[d] + HV[m] : (v - offset) * HV[d]));
  return { bytes, values };
}

/** 2-bit planes of q2_K/q3_K: for j in {0,128}, byte j/4 + l holds L[j+l], L[j+l+32], L[j+l+64], L[j+l+96]. */
function pack2(L: number[], out: Uint8Array, o: number): void {
  for (let j = 0; j < 256; j += 128) {
    for (let l = 0; l < 32; l++) out[o + j / 4 + l] = (L[j + l] & 3) | ((L[j + l + 32] & 3) << 2) | ((L[j + l + 64] & 3) << 4) | ((L[j + l + 96] & 3) << 6);
  }
}

function q2_k(salt: number, d: number, dmin: number): Built {
  const bytes = new Uint8Array(84);
  const sc = Array.from({ length: 16 }, (_, j) => (j * 3 + salt) % 16);
  const mn = Array.from({ length: 16 }, (_, j) => (j * 5 + 2 + salt) % 16);
  for (let j = 0; j < 16; j++) bytes[j] = sc[j] | (mn[j] << 4);
  const L = Array.from({ length: 256 }, (_, i) => lvl(i, 4, salt));
  pack2(L, bytes, 16);
  put16(bytes, 80, d);
  put16(bytes, 82, dmin);
  const values = L.map((q, i) => HV[d] * sc[i >> 4] * q - HV[dmin] * mn[i >> 4]);
  return { bytes, values };
}

function q3_k(salt: number, d: number): Built {
  const bytes = new Uint8Array(110);
  const L = Array.from({ length: 256 }, (_, i) => lvl(i, 8, salt));
  for (let i = 0; i < 256; i++) if (L[i] > 3) bytes[i % 32] |= 1 << Math.floor(i / 32);
  pack2(L, bytes, 32);
  const s = Array.from({ length: 16 }, (_, j) => (j * 13 + salt * 5) % 64); // 6-bit, stored +32
  for (let j = 0; j < 16; j++) {
    if (j < 8) bytes[96 + j] |= s[j] & 15;
    else bytes[96 + j - 8] |= (s[j] & 15) << 4;
    bytes[96 + 8 + (j % 4)] |= (s[j] >> 4) << (2 * Math.floor(j / 4));
  }
  put16(bytes, 108, d);
  const values = L.map((q, i) => HV[d] * (s[i >> 4] - 32) * (q - 4));
  return { bytes, values };
}

/** The 12-byte 6-bit scale/min packing of q4_K/q5_K (inverse of get_scale_min_k4). */
function packK4(sc: number[], mn: number[], out: Uint8Array, o: number): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[o + j] = sc[j];
      out[o + j + 4] = mn[j];
    } else {
      out[o + j + 4] = (sc[j] & 15) | ((mn[j] & 15) << 4);
      out[o + j - 4] |= (sc[j] >> 4) << 6;
      out[o + j] |= (mn[j] >> 4) << 6;
    }
  }
}

function q45_k(bits: 4 | 5, salt: number, d: number, dmin: number): Built {
  const qs = bits === 4 ? 16 : 48;
  const bytes = new Uint8Array(bits === 4 ? 144 : 176);
  put16(bytes, 0, d);
  put16(bytes, 2, dmin);
  const sc = [1, 17, 33, 63, 5, 40, 22, 60].map((v) => (v + salt) % 64);
  const mn = [63, 2, 31, 16, 48, 7, 55, 32].map((v) => (v + 3 * salt) % 64);
  packK4(sc, mn, bytes, 4);
  const L = Array.from({ length: 256 }, (_, i) => lvl(i, 1 << bits, salt));
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      bytes[qs + 32 * c + l] = (L[64 * c + l] & 15) | ((L[64 * c + 32 + l] & 15) << 4);
      if (bits === 5) bytes[16 + l] |= ((L[64 * c + l] >> 4) << (2 * c)) | ((L[64 * c + 32 + l] >> 4) << (2 * c + 1));
    }
  }
  const values = L.map((q, i) => HV[d] * sc[i >> 5] * q - HV[dmin] * mn[i >> 5]);
  return { bytes, values };
}

function q6_k(salt: number, d: number): Built {
  const bytes = new Uint8Array(210);
  const L = Array.from({ length: 256 }, (_, i) => lvl(i, 64, salt));
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l++) {
      const [a, b, c, e] = [0, 32, 64, 96].map((k) => L[128 * h + l + k]);
      bytes[64 * h + l] = (a & 15) | ((c & 15) << 4);
      bytes[64 * h + l + 32] = (b & 15) | ((e & 15) << 4);
      bytes[128 + 32 * h + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
  const sc = [-128, 127, -1, 1, 64, -64, 3, -7, 100, -100, 0, 55, -55, 12, -12, 90].map((v, j) => (j === 0 ? v : v - salt));
  for (let j = 0; j < 16; j++) bytes[192 + j] = sc[j] & 0xff;
  put16(bytes, 208, d);
  const values = L.map((q, i) => HV[d] * sc[i >> 4] * (q - 32));
  return { bytes, values };
}

// kvalues_iq4nl (ggml-common.h), the levels an IQ4 nibble indexes.
const KV = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

/** iq4_nl: f16 d, qs[16] with element j in the low nibble of byte j and j+16 in its high nibble. */
function iq4_nl(salt: number, d: number): Built {
  const bytes = new Uint8Array(18);
  put16(bytes, 0, d);
  const q = Array.from({ length: 32 }, (_, i) => lvl(i, 16, salt));
  for (let j = 0; j < 16; j++) bytes[2 + j] = q[j] | (q[j + 16] << 4);
  return { bytes, values: q.map((v) => HV[d] * KV[v]) };
}

/** iq4_xs: f16 d, u16 scales_h (2 bits per sub-block), scales_l[4] (nibbles), qs[128] (16 per sub-block). */
function iq4_xs(salt: number, d: number): Built {
  const bytes = new Uint8Array(136);
  put16(bytes, 0, d);
  const ls = [0, 63, 32, 31, 1, 47, 16, 33].map((v) => (v + salt) % 64);
  let h = 0;
  for (let j = 0; j < 8; j++) {
    bytes[4 + (j >> 1)] |= (ls[j] & 15) << (4 * (j & 1));
    h |= (ls[j] >> 4) << (2 * j);
  }
  put16(bytes, 2, h);
  const q = Array.from({ length: 256 }, (_, i) => lvl(i, 16, salt));
  for (let j = 0; j < 8; j++) for (let l = 0; l < 16; l++) bytes[8 + 16 * j + l] = q[32 * j + l] | (q[32 * j + l + 16] << 4);
  return { bytes, values: q.map((v, i) => HV[d] * (ls[i >> 5] - 32) * KV[v]) };
}

function scalar(type: 'f32' | 'f16' | 'bf16'): Built {
  if (type === 'f32') {
    const bytes = new Uint8Array([0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc1]); // 1.0, -10.0
    return { bytes, values: [1, -10] };
  }
  if (type === 'f16') return { bytes: new Uint8Array([0x00, 0x3c, 0x01, 0x00, 0xff, 0xfb]), values: [1, 2 ** -24, -65504] };
  return { bytes: new Uint8Array([0x80, 0x3f, 0x49, 0x40, 0x80, 0xff]), values: [1, 3.140625, -Infinity] };
}

/**
 * Our MLC blocks: the scale (f16, or f32) then the group's four q_weight words exactly as mlc-llm
 * packs them (word k = elements 8k..8k+7, element 8k+i in bits 4i..4i+3), little-endian;
 * value (q − 7)·scale.
 */
function mlc(f32Scale: boolean, salt: number, d: number): Built {
  const ss = f32Scale ? 4 : 2;
  const bytes = new Uint8Array(ss + 16);
  const dv = new DataView(bytes.buffer);
  if (f32Scale) dv.setFloat32(0, HV[d] / 3, true); else put16(bytes, 0, d);
  const scale = f32Scale ? dv.getFloat32(0, true) : HV[d];
  const q = Array.from({ length: 32 }, (_, i) => lvl(i, 15, salt));
  for (let k = 0; k < 4; k++) {
    let w = 0;
    for (let i = 0; i < 8; i++) w |= q[8 * k + i] << (4 * i);
    dv.setUint32(ss + 4 * k, w >>> 0, true);
  }
  return { bytes, values: q.map((x) => Math.fround((x - 7) * scale)) };
}

const cases: [GGMLType, Built[]][] = [
  [GGMLType.F32, [scalar('f32')]],
  [GGMLType.F16, [scalar('f16')]],
  [GGMLType.BF16, [scalar('bf16')]],
  [GGMLType.Q8_0, [q8_0(1, H['0.5']), q8_0(77, H['-0.25'])]],
  [GGMLType.Q4_0, [legacy(4, false, 1, H['2'], 0), legacy(4, false, 9, H['-0.25'], 0)]],
  [GGMLType.Q4_1, [legacy(4, true, 2, H['0.25'], H['-1.5']), legacy(4, true, 5, H['0.5'], H['0.75'])]],
  [GGMLType.Q5_0, [legacy(5, false, 3, H['0.5'], 0), legacy(5, false, 30, H['1.5'], 0)]],
  [GGMLType.Q5_1, [legacy(5, true, 4, H['0.125'], H['0.75']), legacy(5, true, 17, H['2'], H['-1.5'])]],
  [GGMLType.Q2_K, [q2_k(1, H['0.5'], H['0.25']), q2_k(6, H['0.125'], H['1.5'])]],
  [GGMLType.Q3_K, [q3_k(1, H['0.25']), q3_k(4, H['-1.5'])]],
  [GGMLType.Q4_K, [q45_k(4, 0, H['0.5'], H['0.25']), q45_k(4, 7, H['0.125'], H['2'])]],
  [GGMLType.Q5_K, [q45_k(5, 0, H['0.25'], H['0.5']), q45_k(5, 11, H['1.5'], H['0.125'])]],
  [GGMLType.Q6_K, [q6_k(0, H['0.125']), q6_k(5, H['-0.25'])]],
  [GGMLType.IQ4_NL, [iq4_nl(0, H['0.5']), iq4_nl(3, H['-1.5'])]],
  [GGMLType.IQ4_XS, [iq4_xs(0, H['0.125']), iq4_xs(9, H['-0.25'])]],
  [GGMLType.MLC_Q4F16, [mlc(false, 1, H['0.5']), mlc(false, 8, H['-1.5'])]],
  [GGMLType.MLC_Q4F32, [mlc(true, 2, H['0.25']), mlc(true, 11, H['1.5'])]],
];

function dequant(t: FormatTraits, blocks: Built[]): Float32Array {
  // Misaligned source and destination offsets catch indexing that ignores them.
  const bytes = blocks.flatMap((b) => Array.from(b.bytes));
  const src = new Uint8Array([7, 7, 7, ...bytes]);
  const nBlocks = bytes.length / t.typeSize;
  const dst = new Float32Array(5 + nBlocks * t.blockSize);
  t.dequantize(src, 3, nBlocks, dst, 5);
  expect(Array.from(dst.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
  return dst.subarray(5);
}

describe('hand-built blocks', () => {
  it('covers every format in FORMAT_TRAITS', () => {
    expect(cases.map(([t]) => t).sort((a, b) => a - b)).toEqual([...FORMAT_TRAITS.keys()].sort((a, b) => a - b));
  });

  for (const [type, blocks] of cases) {
    const t = FORMAT_TRAITS.get(type)!;
    it(`${t.id}: block of ${t.typeSize} bytes decodes to the formula's values`, () => {
      for (const b of blocks) expect(b.bytes.length / t.typeSize).toBe(b.values.length / t.blockSize);
      expect(Array.from(dequant(t, blocks))).toEqual(blocks.flatMap((b) => b.values));
    });
  }
});
