// Reduce16AVX512.h: the lane sums of 16 vectors at once, shared by the AVX-512 kernels (not public).
#pragma once

#include <immintrin.h>

/// The 16 lane sums of x0 ... x15 in one vector: lane 4·j + m holds the sum of x(4·m + j). The
/// additions pair lanes in the order `_mm512_reduce_add_ps` does (i with i + 8, then i + 4, i + 2,
/// i + 1), so each sum is the same float, in ~30 instructions instead of 16 separate reductions.
__attribute__((target("avx512f"), always_inline)) static inline __m512 aptp_reduce16(
    __m512 x0, __m512 x1, __m512 x2, __m512 x3, __m512 x4, __m512 x5, __m512 x6, __m512 x7, __m512 x8, __m512 x9,
    __m512 x10, __m512 x11, __m512 x12, __m512 x13, __m512 x14, __m512 x15) {
// Pairs of vectors: 128-bit quarters q0 + q2 and q1 + q3 of each, side by side.
#define HALVES(a, b) _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE))
// Pairs of those: quarter j of the result holds 4 partial sums of the j-th of the four inputs.
#define QUARTERS(c, d) _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x88), _mm512_shuffle_f32x4(c, d, 0xDD))
  __m512 z0 = QUARTERS(HALVES(x0, x1), HALVES(x2, x3)), z1 = QUARTERS(HALVES(x4, x5), HALVES(x6, x7));
  __m512 z2 = QUARTERS(HALVES(x8, x9), HALVES(x10, x11)), z3 = QUARTERS(HALVES(x12, x13), HALVES(x14, x15));
#undef HALVES
#undef QUARTERS
  // Within each quarter: element i + element i + 2, then the two pairs.
  __m512 u0 = _mm512_add_ps(_mm512_unpacklo_ps(z0, z1), _mm512_unpackhi_ps(z0, z1));
  __m512 u1 = _mm512_add_ps(_mm512_unpacklo_ps(z2, z3), _mm512_unpackhi_ps(z2, z3));
  return _mm512_add_ps(
      _mm512_shuffle_ps(u0, u1, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(u0, u1, _MM_SHUFFLE(3, 2, 3, 2)));
}
