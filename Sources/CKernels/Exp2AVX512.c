// Exp2AVX512: the softmax exponent pass of the attention kernels, 16 floats per instruction.

#include "CKernels.h"

#include <immintrin.h>

int aptp_has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/// 2^t for 16 lanes: t clamped below at -127 (NaN stays NaN), split into integer and fraction by
/// the 1.5·2^23 rounding trick, the fraction through a degree-5 polynomial, the integer into the
/// exponent bits. Same constants and operation order as `fastExp2` in VectorMath.swift.
__attribute__((target("avx512f"))) static inline __m512 exp2_16(__m512 t_in) {
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  __m512 t = _mm512_max_ps(_mm512_set1_ps(-127.0f), t_in);
  __m512 shifted = _mm512_add_ps(t, magic);
  __m512 f = _mm512_sub_ps(t, _mm512_sub_ps(shifted, magic));
  __m512 p = _mm512_set1_ps(1.327645965e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.675541893e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550713465e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402212024e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931469440e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.000000119f));
  __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000 - 127));
  return _mm512_mul_ps(p, _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23)));
}

__attribute__((target("avx512f"))) float aptp_exp2_shift_sum_avx512(float *row, long n, float max) {
  const __m512 vmax = _mm512_set1_ps(max);
  double total = 0;
  long i = 0;
  while (i < n) {
    // Float partial sums over blocks of 1024, added up in double (as `rowSum` does).
    long end = n - i < 1024 ? n : i + 1024;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (; i + 32 <= end; i += 32) {
      __m512 e0 = exp2_16(_mm512_sub_ps(_mm512_loadu_ps(row + i), vmax));
      __m512 e1 = exp2_16(_mm512_sub_ps(_mm512_loadu_ps(row + i + 16), vmax));
      _mm512_storeu_ps(row + i, e0);
      _mm512_storeu_ps(row + i + 16, e1);
      a0 = _mm512_add_ps(a0, e0);
      a1 = _mm512_add_ps(a1, e1);
    }
    for (; i < end; i += 16) {
      __mmask16 mask = end - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (end - i)) - 1);
      __m512 e = exp2_16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, row + i), vmax));
      _mm512_mask_storeu_ps(row + i, mask, e);
      a0 = _mm512_add_ps(a0, _mm512_maskz_mov_ps(mask, e));
    }
    total += (double)_mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  }
  return (float)total;
}
