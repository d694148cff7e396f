// GeluAVX512: GEGLU's forward (value · gelu(gate), exact erf form) 16 floats per instruction.

#include "CKernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f")))

/// The polynomial part of `fastErfc` (R(a)/S(a) at a = min(a_in, 3.92)) and the lanes where
/// a_in >= 3.92, whose erfc is 0.
TARGET static inline __m512 erfc_ratio_16(__m512 a_in, __mmask16 *far) {
  const __m512 cutoff = _mm512_set1_ps(3.92f);
  // Swift.min(a, cutoff): the cutoff only when it is smaller, so a NaN stays.
  __m512 a = _mm512_min_ps(cutoff, a_in);
  __m512 r = _mm512_set1_ps(-6.81706442e-5f);
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(1.6796838e-3f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(-1.74910352e-2f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(9.81919691e-2f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(-3.07939976e-1f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(4.63415474e-1f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(2.22799573e-2f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(-1.03500903f));
  r = _mm512_fmadd_ps(r, a, _mm512_set1_ps(1.0f));
  __m512 s = _mm512_set1_ps(1.45290993e-4f);
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(-3.79090838e-4f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(5.81696676e-3f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(-1.61447786e-2f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(7.12851882e-2f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(-8.23165029e-2f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(2.31359422e-1f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(1.27632618e-1f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(9.33702961e-2f));
  s = _mm512_fmadd_ps(s, a, _mm512_set1_ps(1.0f));
  // a >= cutoff (false for NaN): erfc is 0 there.
  *far = _mm512_cmp_ps_mask(a_in, cutoff, _CMP_GE_OQ);
  return _mm512_maskz_div_ps((__mmask16)~*far, r, s);
}

/// exp(x) as TensorCore's `fastExp`: clamp to [-88, 89] letting NaN through, Cody–Waite reduction,
/// the degree-6 polynomial and the exponent from the rounded bits, in the same operations.
TARGET static inline __m512 exp_16(__m512 x_in) {
  __m512 x = _mm512_max_ps(_mm512_set1_ps(-88.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x_in));
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504f), magic);
  __m512 n = _mm512_sub_ps(shifted, magic);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693359375f), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.1219444e-4f), r);
  __m512 p = _mm512_set1_ps(1.98756915e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.39819995e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16657959e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.00000012e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000));
  bits = _mm512_slli_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

/// gelu(x) for 16 lanes with the operations of TensorCore's `GeluOp` and `fastErfc` in the same
/// order (fused multiply-adds where they use `addingProduct`), so each value is the same float.
TARGET static inline __m512 gelu_16(__m512 x) {
  __m512 a_in = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678f));
  __mmask16 far;
  __m512 erfc = erfc_ratio_16(a_in, &far);
  __m512 h = _mm512_maskz_mul_ps((__mmask16)~far, _mm512_mul_ps(_mm512_set1_ps(0.5f), x), erfc);
  __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
  return _mm512_mask_sub_ps(h, positive, x, h);
}

TARGET void aptp_geglu_avx512(const float *x, long rows, long n, float *out) {
  for (long r = 0; r < rows; r++) {
    const float *value = x + r * 2 * n, *gate = value + n;
    float *o = out + r * n;
    for (long i = 0; i < n; i += 16) {
      __mmask16 live = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
      __m512 g = gelu_16(_mm512_maskz_loadu_ps(live, gate + i));
      _mm512_mask_storeu_ps(o + i, live, _mm512_mul_ps(_mm512_maskz_loadu_ps(live, value + i), g));
    }
  }
}

TARGET void aptp_geglu_backward_avx512(const float *x, const float *g, long rows, long n, float *dx) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (long row = 0; row < rows; row++) {
    const float *value = x + row * 2 * n, *gate = value + n, *up = g + row * n;
    float *dvalue = dx + row * 2 * n, *dgate = dvalue + n;
    for (long i = 0; i < n; i += 16) {
      __mmask16 live = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
      __m512 xg = _mm512_maskz_loadu_ps(live, gate + i), gr = _mm512_maskz_loadu_ps(live, up + i);
      // `geluAndSlope`: tail = Φ(-|x|) once, then gelu(x) and Φ(x) + x·φ(x).
      __m512 a_in = _mm512_mul_ps(_mm512_abs_ps(xg), _mm512_set1_ps(0.70710678f));
      __mmask16 far;
      __m512 tail = _mm512_mul_ps(_mm512_set1_ps(0.5f), erfc_ratio_16(a_in, &far));
      __m512 h = _mm512_maskz_mul_ps((__mmask16)~far, xg, tail);
      __mmask16 positive = _mm512_cmp_ps_mask(xg, _mm512_setzero_ps(), _CMP_GT_OQ);
      __m512 cdf = _mm512_mask_sub_ps(tail, positive, one, tail);
      __m512 activation = _mm512_mask_sub_ps(h, positive, xg, h);
      __m512 density = exp_16(_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(-0.5f), xg), xg));
      __m512 slope = _mm512_add_ps(cdf, _mm512_mul_ps(_mm512_mul_ps(xg, density), _mm512_set1_ps(0.39894228f)));
      _mm512_mask_storeu_ps(dvalue + i, live, _mm512_mul_ps(gr, activation));
      __m512 gv = _mm512_mul_ps(gr, _mm512_maskz_loadu_ps(live, value + i));
      _mm512_mask_storeu_ps(dgate + i, live, _mm512_mul_ps(gv, slope));
    }
  }
}
