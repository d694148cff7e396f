// Exp2AVX512.h: 2^t for 16 floats, shared by the AVX-512 kernels (not part of the public header).
#pragma once

#include <immintrin.h>

/// 2^t for 16 lanes, the same value as `fastExp2` in VectorMath.swift (same polynomial, same
/// operation order) with fewer instructions: n = round(t) by vrndscaleps, f = t − n, 2^f by the
/// degree-5 polynomial, then p · 2^n by vscalefps — exact, as the Swift version's multiply by the
/// exponent bits is. Where the Swift version's exponent field would be 0 (n <= -127, -inf
/// included) the lane is 0; NaN stays NaN (the unordered compare keeps it).
__attribute__((target("avx512f"))) static inline __m512 aptp_exp2_16(__m512 t) {
  __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(1.327645965e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.675541893e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550713465e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402212024e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931469440e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.000000119f));
  __mmask16 normal = _mm512_cmp_ps_mask(n, _mm512_set1_ps(-127.0f), _CMP_NLE_UQ);
  return _mm512_maskz_scalef_ps(normal, p, n);
}
