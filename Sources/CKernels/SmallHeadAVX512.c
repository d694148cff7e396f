// SmallHeadAVX512: the score and value passes of the small-head attention kernel and the row max,
// 16 floats per instruction (32 vector registers: the 16 dot-product accumulators never spill).

#include "CKernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f")))

/// Folds the lanes of `a` below `visible - j` into the running row maximum.
TARGET static inline __m512 max_visible(__m512 best, __m512 a, long j, long visible) {
  long n = visible - j;
  if (n >= 16) return _mm512_max_ps(a, best);
  if (n <= 0) return best;
  return _mm512_mask_max_ps(best, (__mmask16)((1u << n) - 1), a, best);
}

TARGET void aptp_small_head_scores_avx512(
    const float *qs, const float *kt, long ldk, long d, float *s, long keys, long visible, float *maxes) {
  __m512 m0 = _mm512_set1_ps(-__builtin_inff()), m1 = m0, m2 = m0, m3 = m0;
  long j = 0;
  for (; j + 32 <= keys; j += 32) {
    __m512 a00 = _mm512_setzero_ps(), a01 = _mm512_setzero_ps(), a10 = _mm512_setzero_ps(), a11 = _mm512_setzero_ps();
    __m512 a20 = _mm512_setzero_ps(), a21 = _mm512_setzero_ps(), a30 = _mm512_setzero_ps(), a31 = _mm512_setzero_ps();
    for (long c = 0; c < d; c++) {
      __m512 k0 = _mm512_loadu_ps(kt + c * ldk + j), k1 = _mm512_loadu_ps(kt + c * ldk + j + 16);
      __m512 q0 = _mm512_set1_ps(qs[c]), q1 = _mm512_set1_ps(qs[16 + c]);
      __m512 q2 = _mm512_set1_ps(qs[32 + c]), q3 = _mm512_set1_ps(qs[48 + c]);
      a00 = _mm512_fmadd_ps(q0, k0, a00);
      a01 = _mm512_fmadd_ps(q0, k1, a01);
      a10 = _mm512_fmadd_ps(q1, k0, a10);
      a11 = _mm512_fmadd_ps(q1, k1, a11);
      a20 = _mm512_fmadd_ps(q2, k0, a20);
      a21 = _mm512_fmadd_ps(q2, k1, a21);
      a30 = _mm512_fmadd_ps(q3, k0, a30);
      a31 = _mm512_fmadd_ps(q3, k1, a31);
    }
    _mm512_storeu_ps(s + j, a00);
    _mm512_storeu_ps(s + j + 16, a01);
    _mm512_storeu_ps(s + ldk + j, a10);
    _mm512_storeu_ps(s + ldk + j + 16, a11);
    _mm512_storeu_ps(s + 2 * ldk + j, a20);
    _mm512_storeu_ps(s + 2 * ldk + j + 16, a21);
    _mm512_storeu_ps(s + 3 * ldk + j, a30);
    _mm512_storeu_ps(s + 3 * ldk + j + 16, a31);
    if (maxes) {
      m0 = max_visible(max_visible(m0, a00, j, visible), a01, j + 16, visible);
      m1 = max_visible(max_visible(m1, a10, j, visible), a11, j + 16, visible);
      m2 = max_visible(max_visible(m2, a20, j, visible), a21, j + 16, visible);
      m3 = max_visible(max_visible(m3, a30, j, visible), a31, j + 16, visible);
    }
  }
  for (; j < keys; j += 16) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (long c = 0; c < d; c++) {
      __m512 k0 = _mm512_loadu_ps(kt + c * ldk + j);
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(qs[c]), k0, a0);
      a1 = _mm512_fmadd_ps(_mm512_set1_ps(qs[16 + c]), k0, a1);
      a2 = _mm512_fmadd_ps(_mm512_set1_ps(qs[32 + c]), k0, a2);
      a3 = _mm512_fmadd_ps(_mm512_set1_ps(qs[48 + c]), k0, a3);
    }
    _mm512_storeu_ps(s + j, a0);
    _mm512_storeu_ps(s + ldk + j, a1);
    _mm512_storeu_ps(s + 2 * ldk + j, a2);
    _mm512_storeu_ps(s + 3 * ldk + j, a3);
    if (maxes) {
      m0 = max_visible(m0, a0, j, visible);
      m1 = max_visible(m1, a1, j, visible);
      m2 = max_visible(m2, a2, j, visible);
      m3 = max_visible(m3, a3, j, visible);
    }
  }
  if (maxes) {
    maxes[0] = _mm512_reduce_max_ps(m0);
    maxes[1] = _mm512_reduce_max_ps(m1);
    maxes[2] = _mm512_reduce_max_ps(m2);
    maxes[3] = _mm512_reduce_max_ps(m3);
  }
}

static inline long min_long(long a, long b) { return a < b ? a : b; }

TARGET void aptp_small_head_values_dot_avx512(
    const float *s, long lds, const float *vt, long ldv, long c0, long channels, long keys8, float *out, long ldo,
    const float *scale, long rows) {
  const float *p[4], *w[4];
  for (int r = 0; r < 4; r++) p[r] = s + min_long(r, rows - 1) * lds;
  for (int c = 0; c < 4; c++) w[c] = vt + min_long(c0 + c, channels - 1) * ldv;
  __m512 a[4][4];
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) a[r][c] = _mm512_setzero_ps();
  long j = 0;
  for (; j < keys8; j += 16) {
    // The last step may hold 8 keys only: the upper half is masked off (s there is not zeroed).
    __mmask16 mask = keys8 - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
    __m512 w0 = _mm512_maskz_loadu_ps(mask, w[0] + j), w1 = _mm512_maskz_loadu_ps(mask, w[1] + j);
    __m512 w2 = _mm512_maskz_loadu_ps(mask, w[2] + j), w3 = _mm512_maskz_loadu_ps(mask, w[3] + j);
    for (int r = 0; r < 4; r++) {
      __m512 pr = _mm512_maskz_loadu_ps(mask, p[r] + j);
      a[r][0] = _mm512_fmadd_ps(pr, w0, a[r][0]);
      a[r][1] = _mm512_fmadd_ps(pr, w1, a[r][1]);
      a[r][2] = _mm512_fmadd_ps(pr, w2, a[r][2]);
      a[r][3] = _mm512_fmadd_ps(pr, w3, a[r][3]);
    }
  }
  long count = min_long(4, channels - c0);
  for (long r = 0; r < rows && r < 4; r++) {
    float *row = out + r * ldo + c0;
    for (long c = 0; c < count; c++) row[c] = _mm512_reduce_add_ps(a[r][c]) * scale[r];
  }
}

TARGET float aptp_row_max_avx512(const float *row, long n) {
  if (n <= 0) return -__builtin_inff();
  // Ordered keys: the float's bits as a signed integer, with the magnitude bits flipped for
  // negative values, compare like the floats (and put NaNs above +inf).
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i best = _mm512_set1_epi32((int)0x80000000);
  long i = 0;
  for (; i < n; i += 16) {
    __mmask16 mask = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512i b = _mm512_maskz_loadu_epi32(mask, row + i);
    __m512i key = _mm512_xor_si512(b, _mm512_and_si512(_mm512_srai_epi32(b, 31), magnitude));
    best = _mm512_mask_max_epi32(best, mask, best, key);
  }
  int m = _mm512_reduce_max_epi32(best);
  int bits = m ^ ((m >> 31) & 0x7FFFFFFF);
  float result;
  __builtin_memcpy(&result, &bits, sizeof result);
  return result;
}
