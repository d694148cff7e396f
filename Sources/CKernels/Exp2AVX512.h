// Exp2AVX512.h: 2^t for 16 floats, shared by the AVX-512 kernels (not part of the public header).
#pragma once

#include <immintrin.h>

/// 2^t for 16 lanes: t clamped below at -127 (NaN stays NaN), split into integer and fraction by
/// the 1.5·2^23 rounding trick, the fraction through a degree-5 polynomial, the integer into the
/// exponent bits (2^-127 becomes 0). Same constants and operation order as `fastExp2` in
/// VectorMath.swift, so both give the same value.
__attribute__((target("avx512f"))) static inline __m512 aptp_exp2_16(__m512 t_in) {
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
