// Exp2AVX512: the softmax exponent pass of the attention kernels, 16 floats per instruction.

#include "CKernels.h"
#include "Exp2AVX512.h"

#include <immintrin.h>

int aptp_has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") ? 1 : 0;
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
      __m512 e0 = aptp_exp2_16(_mm512_sub_ps(_mm512_loadu_ps(row + i), vmax));
      __m512 e1 = aptp_exp2_16(_mm512_sub_ps(_mm512_loadu_ps(row + i + 16), vmax));
      _mm512_storeu_ps(row + i, e0);
      _mm512_storeu_ps(row + i + 16, e1);
      a0 = _mm512_add_ps(a0, e0);
      a1 = _mm512_add_ps(a1, e1);
    }
    for (; i < end; i += 16) {
      __mmask16 mask = end - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (end - i)) - 1);
      __m512 e = aptp_exp2_16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, row + i), vmax));
      _mm512_mask_storeu_ps(row + i, mask, e);
      a0 = _mm512_add_ps(a0, _mm512_maskz_mov_ps(mask, e));
    }
    total += (double)_mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  }
  return (float)total;
}
