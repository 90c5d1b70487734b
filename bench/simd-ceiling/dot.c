// Native side of bench/simd-ceiling.ts: peak int8 dot-product throughput, one thread, of each x86 SIMD
// width this binary was compiled for. Same kernels as dot-wat.ts (K baked in, rows at immediate offsets):
//   l1     4 weight rows x 2 activation columns, K=2048 (12 KB, L1-resident), 8 accumulators: prefill's GEMM tile
//   stream 4 rows x 1 column over a ~100 MB weight matrix, K=4096: decode's memory-bound GEMV
// Activations are 0..127 (i7, as WASM's relaxed dot asks), weights any int8.
// Prints one line per kernel and set: "<kernel> <set> <GOPS> <GB/s of weights> <ok|BAD>".
// Build: gcc -O3 -march=native dot.c (all widths) or gcc -O3 -msse4.2 dot.c (128-bit SSE only).
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KL1 2048
#define KST 4096
#define MST 25600 /* 25600 x 4096 = 100 MiB */

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// One template per width: VT vector type, VB bytes, DOT(acc, x, w) accumulates u8 x s8 -> i32 lanes.
#define KERNELS(NAME, VT, VB, LOAD, ZERO, DOT, HSUM)                                              \
  static void NAME##_l1(const int8_t *w, const uint8_t *x, int32_t *out, int reps) {             \
    VT a00 = ZERO, a01 = ZERO, a10 = ZERO, a11 = ZERO, a20 = ZERO, a21 = ZERO, a30 = ZERO, a31 = ZERO; \
    for (int r = 0; r < reps; r++)                                                               \
      for (int k = 0; k < KL1; k += VB) {                                                        \
        VT x0 = LOAD(x + k), x1 = LOAD(x + KL1 + k);                                             \
        VT w0 = LOAD(w + k), w1 = LOAD(w + KL1 + k), w2 = LOAD(w + 2 * KL1 + k), w3 = LOAD(w + 3 * KL1 + k); \
        a00 = DOT(a00, x0, w0); a01 = DOT(a01, x1, w0); a10 = DOT(a10, x0, w1); a11 = DOT(a11, x1, w1); \
        a20 = DOT(a20, x0, w2); a21 = DOT(a21, x1, w2); a30 = DOT(a30, x0, w3); a31 = DOT(a31, x1, w3); \
      }                                                                                          \
    out[0] = HSUM(a00); out[1] = HSUM(a01); out[2] = HSUM(a10); out[3] = HSUM(a11);              \
    out[4] = HSUM(a20); out[5] = HSUM(a21); out[6] = HSUM(a30); out[7] = HSUM(a31);              \
  }                                                                                              \
  static void NAME##_stream(const int8_t *w, const uint8_t *x, int32_t *out, int rows) {         \
    for (int m = 0; m < rows; m += 4) {                                                          \
      const int8_t *p = w + (size_t)m * KST;                                                     \
      VT a0 = ZERO, a1 = ZERO, a2 = ZERO, a3 = ZERO;                                             \
      for (int k = 0; k < KST; k += VB) {                                                        \
        VT xv = LOAD(x + k);                                                                     \
        a0 = DOT(a0, xv, LOAD(p + k)); a1 = DOT(a1, xv, LOAD(p + KST + k));                      \
        a2 = DOT(a2, xv, LOAD(p + 2 * KST + k)); a3 = DOT(a3, xv, LOAD(p + 3 * KST + k));        \
      }                                                                                          \
      out[m] = HSUM(a0); out[m + 1] = HSUM(a1); out[m + 2] = HSUM(a2); out[m + 3] = HSUM(a3);    \
    }                                                                                            \
  }

static inline int32_t hsum128(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
  return _mm_cvtsi128_si32(v);
}
#define LD128(p) _mm_loadu_si128((const __m128i *)(p))
// SSSE3 pmaddubsw + pmaddwd: what ggml's 128-bit quant dots and V8's relaxed dot lower to
#define MADDUBS128(acc, x, w) _mm_add_epi32(acc, _mm_madd_epi16(_mm_maddubs_epi16(x, w), _mm_set1_epi16(1)))
KERNELS(maddubs128, __m128i, 16, LD128, _mm_setzero_si128(), MADDUBS128, hsum128)

#ifdef __AVX2__
static inline int32_t hsum256(__m256i v) { return hsum128(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))); }
#define LD256(p) _mm256_loadu_si256((const __m256i *)(p))
#define MADDUBS256(acc, x, w) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), _mm256_set1_epi16(1)))
KERNELS(maddubs256, __m256i, 32, LD256, _mm256_setzero_si256(), MADDUBS256, hsum256)
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
// vpdpbusd: one instruction per int8 dot, like NEON's sdot; at 128 bits it is the RK3588's shape
#define VNNI128(acc, x, w) _mm_dpbusd_epi32(acc, x, w)
KERNELS(vnni128, __m128i, 16, LD128, _mm_setzero_si128(), VNNI128, hsum128)
#define VNNI256(acc, x, w) _mm256_dpbusd_epi32(acc, x, w)
KERNELS(vnni256, __m256i, 32, LD256, _mm256_setzero_si256(), VNNI256, hsum256)
#define LD512(p) _mm512_loadu_si512((const void *)(p))
#define VNNI512(acc, x, w) _mm512_dpbusd_epi32(acc, x, w)
KERNELS(vnni512, __m512i, 64, LD512, _mm512_setzero_si512(), VNNI512, _mm512_reduce_add_epi32)
#endif

typedef void (*l1_fn)(const int8_t *, const uint8_t *, int32_t *, int);
typedef void (*st_fn)(const int8_t *, const uint8_t *, int32_t *, int);
static const struct { const char *name; l1_fn l1; st_fn st; } KS[] = {
  {"maddubs128", maddubs128_l1, maddubs128_stream},
#ifdef __AVX2__
  {"maddubs256", maddubs256_l1, maddubs256_stream},
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  {"vnni128", vnni128_l1, vnni128_stream},
  {"vnni256", vnni256_l1, vnni256_stream},
  {"vnni512", vnni512_l1, vnni512_stream},
#endif
};

static int32_t dot_ref(const int8_t *w, const uint8_t *x, int k) {
  int32_t s = 0;
  for (int i = 0; i < k; i++) s += (int32_t)w[i] * x[i];
  return s;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.3; // per kernel and set: best call over about this long
  int8_t *w = aligned_alloc(64, (size_t)MST * KST);
  uint8_t *x = aligned_alloc(64, 2 * KST);
  int32_t *out = aligned_alloc(64, MST * sizeof(int32_t));
  uint32_t s = 12345;
  for (size_t i = 0; i < (size_t)MST * KST; i++) { s = s * 1664525u + 1013904223u; w[i] = (int8_t)(s >> 24); }
  for (int i = 0; i < 2 * KST; i++) { s = s * 1664525u + 1013904223u; x[i] = (uint8_t)(s >> 25); }
  int32_t ref[8];
  for (int i = 0; i < 4; i++) for (int j = 0; j < 2; j++) ref[i * 2 + j] = dot_ref(w + i * KL1, x + j * KL1, KL1);
  for (size_t n = 0; n < sizeof KS / sizeof KS[0]; n++) {
    const int reps = 4000; // 4000 x 2 x 8 x 2048 = 131 Mop per call
    double best = 1e9, t0 = now();
    int ok = 1;
    do {
      double t = now();
      KS[n].l1(w, x, out, reps);
      t = now() - t;
      if (t < best) best = t;
      for (int i = 0; i < 8; i++) ok &= (uint32_t)out[i] == (uint32_t)ref[i] * (uint32_t)reps;
    } while (now() - t0 < secs);
    printf("%s l1 %.2f %.2f %s\n", KS[n].name, 2.0 * 8 * KL1 * reps / best * 1e-9, 0.0, ok ? "ok" : "BAD");
    best = 1e9; t0 = now();
    do {
      double t = now();
      KS[n].st(w, x, out, MST);
      t = now() - t;
      if (t < best) best = t;
    } while (now() - t0 < secs * 3);
    ok = out[0] == dot_ref(w, x, KST) && out[MST - 1] == dot_ref(w + (size_t)(MST - 1) * KST, x, KST);
    printf("%s stream %.2f %.2f %s\n", KS[n].name, 2.0 * MST * KST / best * 1e-9, (double)MST * KST / best * 1e-9, ok ? "ok" : "BAD");
    fflush(stdout);
  }
  return 0;
}
