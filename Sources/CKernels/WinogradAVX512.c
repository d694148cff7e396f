// WinogradAVX512: the F(2x2, 3x3) input transform V = Bᵀ d B of a row of tiles, 16 or 8 tiles per
// step, with the same additions in the same order as WinogradPlan.inputTransform (same floats).

#include "CKernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f")))

/// The four Bᵀ-combined rows d0 − d2, d1 + d2, d2 − d1, d1 − d3 of one 16-column load.
typedef struct {
  __m512 t0, t1, t2, t3;
} Columns;

TARGET static inline __attribute__((always_inline)) Columns combine(const float *r0, long wp, long c) {
  __m512 d0 = _mm512_loadu_ps(r0 + c), d1 = _mm512_loadu_ps(r0 + wp + c);
  __m512 d2 = _mm512_loadu_ps(r0 + 2 * wp + c), d3 = _mm512_loadu_ps(r0 + 3 * wp + c);
  Columns out = {_mm512_sub_ps(d0, d2), _mm512_add_ps(d1, d2), _mm512_sub_ps(d2, d1), _mm512_sub_ps(d1, d3)};
  return out;
}

/// Writes (x0 − x2, x1 + x2, x2 − x1, x1 − x3) of 16 (or, under `keep`, 8) tiles to planes 4j ..< 4j + 4.
TARGET static inline __attribute__((always_inline)) void emit(
    __m512 x0, __m512 x1, __m512 x2, __m512 x3, float *base, long xiStride, __mmask16 keep) {
  _mm512_mask_storeu_ps(base, keep, _mm512_sub_ps(x0, x2));
  _mm512_mask_storeu_ps(base + xiStride, keep, _mm512_add_ps(x1, x2));
  _mm512_mask_storeu_ps(base + 2 * xiStride, keep, _mm512_sub_ps(x2, x1));
  _mm512_mask_storeu_ps(base + 3 * xiStride, keep, _mm512_sub_ps(x1, x3));
}

TARGET long aptp_winograd_input_row_avx512(const float *r0, long wp, long tiles, float *out, long xiStride) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  long tx = 0;
  // 16 tiles: columns 2tx ..< 2tx + 32 and, one tile over, 2tx + 2 ..< 2tx + 34 (< wp = 2·tiles + 2).
  for (; tx + 16 <= tiles; tx += 16) {
    long c = 2 * tx;
    Columns a = combine(r0, wp, c), a2 = combine(r0, wp, c + 16);
    Columns b = combine(r0, wp, c + 2), b2 = combine(r0, wp, c + 18);
#define ROW(j, ta, ta2, tb, tb2)                                                                       \
  emit(_mm512_permutex2var_ps(ta, even, ta2), _mm512_permutex2var_ps(ta, odd, ta2),                     \
       _mm512_permutex2var_ps(tb, even, tb2), _mm512_permutex2var_ps(tb, odd, tb2),                     \
       out + 4 * (j) * xiStride + tx, xiStride, (__mmask16)0xFFFF);
    ROW(0, a.t0, a2.t0, b.t0, b2.t0)
    ROW(1, a.t1, a2.t1, b.t1, b2.t1)
    ROW(2, a.t2, a2.t2, b.t2, b2.t2)
    ROW(3, a.t3, a2.t3, b.t3, b2.t3)
#undef ROW
  }
  // 8 tiles: columns 2tx ..< 2tx + 16 and 2tx + 2 ..< 2tx + 18 (< wp), results in the low 8 lanes.
  if (tx + 8 <= tiles) {
    long c = 2 * tx;
    Columns a = combine(r0, wp, c), b = combine(r0, wp, c + 2);
#define ROW(j, ta, tb)                                                                                 \
  emit(_mm512_permutexvar_ps(even, ta), _mm512_permutexvar_ps(odd, ta), _mm512_permutexvar_ps(even, tb), \
       _mm512_permutexvar_ps(odd, tb), out + 4 * (j) * xiStride + tx, xiStride, (__mmask16)0x00FF);
    ROW(0, a.t0, b.t0)
    ROW(1, a.t1, b.t1)
    ROW(2, a.t2, b.t2)
    ROW(3, a.t3, b.t3)
#undef ROW
    tx += 8;
  }
  return tx;
}
