// UnpackedGemmAVX512: C = init + A·B without packing, for the UNet's 32-256-channel linear layers
// (short k, or small C with a long k as in weight gradients): the bias and residual loaded into
// the accumulators, C written once.

#include "CKernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f")))

/// The lanes of the 16 columns from j on that are below n.
static inline __mmask16 live_columns(long j, long n) {
  return n - j >= 16 ? (__mmask16)0xFFFF : n - j <= 0 ? (__mmask16)0 : (__mmask16)((1u << (n - j)) - 1);
}

/// R rows x 32 columns (j, j + 16) of C: the accumulators start at bias + residual, add
/// A[r, :]·B[:, j..] (A[r, kk] at a[r·ars + kk·aks]) and are stored under the column masks. R is a
/// constant after inlining, so the 2R accumulators stay in registers.
TARGET static inline __attribute__((always_inline)) void block(
    long R, const float *a, long ars, long aks, long k, const float *b, long ldb, long j, __mmask16 m0, __mmask16 m1,
    const float *bias, const float *residual, long ldr, float *c, long ldc) {
  __m512 acc0[8], acc1[8];
  __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + j) : _mm512_setzero_ps();
  __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + j + 16) : _mm512_setzero_ps();
  for (long r = 0; r < R; r++) {
    acc0[r] = residual ? _mm512_add_ps(b0, _mm512_maskz_loadu_ps(m0, residual + r * ldr + j)) : b0;
    acc1[r] = residual ? _mm512_add_ps(b1, _mm512_maskz_loadu_ps(m1, residual + r * ldr + j + 16)) : b1;
  }
  for (long kk = 0; kk < k; kk++) {
    __m512 w0 = _mm512_maskz_loadu_ps(m0, b + kk * ldb + j);
    __m512 w1 = _mm512_maskz_loadu_ps(m1, b + kk * ldb + j + 16);
    for (long r = 0; r < R; r++) {
      __m512 x = _mm512_set1_ps(a[r * ars + kk * aks]);
      acc0[r] = _mm512_fmadd_ps(x, w0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(x, w1, acc1[r]);
    }
  }
  for (long r = 0; r < R; r++) {
    _mm512_mask_storeu_ps(c + r * ldc + j, m0, acc0[r]);
    _mm512_mask_storeu_ps(c + r * ldc + j + 16, m1, acc1[r]);
  }
}

/// Rows of C in blocks of 8 (then one at a time), each across all column blocks while its rows of
/// A stay in L1.
TARGET void aptp_gemm_unpacked_avx512(
    const float *a, long ars, long aks, long m, long k, const float *b, long ldb, long n, const float *bias,
    const float *residual, long ldr, float *c, long ldc) {
  long i = 0;
  for (; i + 8 <= m; i += 8) {
    for (long j = 0; j < n; j += 32) {
      const float *res = residual ? residual + i * ldr : 0;
      block(8, a + i * ars, ars, aks, k, b, ldb, j, live_columns(j, n), live_columns(j + 16, n), bias, res, ldr,
            c + i * ldc, ldc);
    }
  }
  for (; i < m; i++) {
    for (long j = 0; j < n; j += 32) {
      const float *res = residual ? residual + i * ldr : 0;
      block(1, a + i * ars, ars, aks, k, b, ldb, j, live_columns(j, n), live_columns(j + 16, n), bias, res, ldr,
            c + i * ldc, ldc);
    }
  }
}
