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

/// 2^t for 16 lanes in 7 instructions: f = t − floor(t) by vreduceps, 2^f by a degree-5 minimax
/// polynomial on [0, 1) (relative error < 1.5e-7), and p · 2^floor(t) by vscalefps. Lanes outside
/// `live` are 0. Results below 2^-126 flush to 0 under the FTZ mode the kernel runs in.
__attribute__((target("avx512f,avx512dq"))) static inline __m512 aptp_exp2_weights_16(__m512 t, __mmask16 live) {
  __m512 f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 p = _mm512_set1_ps(1.8775767e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(8.9893397e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5826318e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4015361e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9315308e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.99999994f));
  return _mm512_maskz_scalef_ps(live, p, t);
}

/// `aptp_exp2_weights_16` with a degree-4 minimax polynomial (relative error < 2.7e-6, one FMA
/// fewer): for the forward's attention weights, whose common relative error cancels in the
/// normalisation; ~6% of the one-sweep forward's instructions.
__attribute__((target("avx512f,avx512dq"))) static inline __m512 aptp_exp2_weights4_16(__m512 t, __mmask16 live) {
  __m512 f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 p = _mm512_set1_ps(1.3534120e-2f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.2011480e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4144280e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9300383e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0000026f));
  return _mm512_maskz_scalef_ps(live, p, t);
}

/// The lanes of the 16 keys from j on that are below `visible` (padding past it gets weight 0).
static inline __mmask16 live_keys(long j, long visible) {
  return visible - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (visible - j)) - 1);
}

/// Sets flush-to-zero and denormals-are-zero for a kernel whose exponents may underflow (results
/// below 2^-126 become 0 instead of denormals, which take microcode assists in the next multiply);
/// returns the previous MXCSR for `_mm_setcsr`.
static inline unsigned int aptp_enter_flush_to_zero(void) {
  unsigned int mode = _mm_getcsr();
  _mm_setcsr(mode | 0x8040);
  return mode;
}
