// SmallHeadBackwardAVX512: the attention backward for heads of at most 4 channels, flash-style —
// each tile of 4 query rows sweeps the keys 16 at a time with every intermediate in registers.

#include "CKernels.h"
#include "Exp2AVX512.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512dq")))

/// Copies the first `width` columns of n rows (`stride` floats apart) into column-major planes
/// dst[c * ldk + j], zero from n up to ldk and for the planes width ..< 4.
static void transpose_into(const float *src, long stride, long n, long width, float *dst, long ldk) {
  for (long c = 0; c < 4; c++) {
    float *plane = dst + c * ldk;
    for (long j = 0; j < ldk; j++) plane[j] = (c < width && j < n) ? src[j * stride + c] : 0.0f;
  }
}

TARGET void aptp_small_head_attention_backward_avx512(
    const float *q, const float *k, const float *v, const float *o, const float *g, const float *lse, float *gq,
    float *gk, float *gv, AptpRowStrides rs, long lq, long lk, long d, long dv, float scale, float log2Scale,
    float *scratch, long ldk) {
  unsigned int mode = aptp_enter_flush_to_zero();
  float *kt = scratch, *vt = scratch + 4 * ldk, *dkt = scratch + 8 * ldk, *dvt = scratch + 12 * ldk;
  transpose_into(k, rs.k, lk, d, kt, ldk);
  transpose_into(v, rs.v, lk, dv, vt, ldk);
  for (long i = 0; i < 8 * ldk; i++) dkt[i] = 0.0f;
  const float log2e = 1.44269504f;
  for (long row0 = 0; row0 < lq; row0 += 4) {
    long rows = lq - row0 < 4 ? lq - row0 : 4;
    // Per row: q in base 2 (scores), q · scale (dK), dO, rowsum(dO ∘ O), lse in base 2. Padding
    // rows and rows that saw no key get dO = 0 and an exponent offset of +inf, so P = dS = 0.
    float qs[4][4] = {{0}}, qk[4][4] = {{0}}, gr[4][4] = {{0}}, dot[4] = {0}, l2[4];
    for (long r = 0; r < 4; r++) {
      l2[r] = __builtin_inff();
      if (r >= rows) continue;
      const float *qrow = q + (row0 + r) * rs.q, *grow = g + (row0 + r) * rs.g, *orow = o + (row0 + r) * rs.o;
      float l = lse[row0 + r];
      if (l == -__builtin_inff()) continue;
      l2[r] = l * log2e;
      for (long c = 0; c < d; c++) {
        qs[r][c] = qrow[c] * log2Scale;
        qk[r][c] = qrow[c] * scale;
      }
      for (long c = 0; c < dv; c++) {
        gr[r][c] = grow[c];
        dot[r] += grow[c] * orow[c];
      }
    }
    __m512 dq[4][4];
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) dq[r][c] = _mm512_setzero_ps();
    for (long j = 0; j < lk; j += 16) {
      __mmask16 live = live_keys(j, lk);
      __m512 kc[4], vc[4];
      for (int c = 0; c < 4; c++) {
        kc[c] = _mm512_loadu_ps(kt + c * ldk + j);
        vc[c] = _mm512_loadu_ps(vt + c * ldk + j);
      }
      __m512 dvAcc[4], dkAcc[4];
      for (int c = 0; c < 4; c++) {
        dvAcc[c] = _mm512_loadu_ps(dvt + c * ldk + j);
        dkAcc[c] = _mm512_loadu_ps(dkt + c * ldk + j);
      }
      for (int r = 0; r < 4; r++) {
        // The offsets start the dot products: s = q·k − lse, dp = dO·v − rowsum(dO ∘ O).
        __m512 s = _mm512_set1_ps(-l2[r]);
        for (int c = 0; c < 4; c++) s = _mm512_fmadd_ps(_mm512_set1_ps(qs[r][c]), kc[c], s);
        __m512 p = aptp_exp2_weights_16(s, live);
        __m512 dp = _mm512_set1_ps(-dot[r]);
        for (int c = 0; c < 4; c++) dp = _mm512_fmadd_ps(_mm512_set1_ps(gr[r][c]), vc[c], dp);
        __m512 ds = _mm512_mul_ps(p, dp);
        for (int c = 0; c < 4; c++) {
          dvAcc[c] = _mm512_fmadd_ps(p, _mm512_set1_ps(gr[r][c]), dvAcc[c]);
          dkAcc[c] = _mm512_fmadd_ps(ds, _mm512_set1_ps(qk[r][c]), dkAcc[c]);
          dq[r][c] = _mm512_fmadd_ps(ds, kc[c], dq[r][c]);
        }
      }
      for (int c = 0; c < 4; c++) {
        _mm512_storeu_ps(dvt + c * ldk + j, dvAcc[c]);
        _mm512_storeu_ps(dkt + c * ldk + j, dkAcc[c]);
      }
    }
    for (long r = 0; r < rows; r++)
      for (long c = 0; c < d; c++) gq[(row0 + r) * rs.gq + c] = _mm512_reduce_add_ps(dq[r][c]) * scale;
  }
  for (long j = 0; j < lk; j++) {
    for (long c = 0; c < d; c++) gk[j * rs.gk + c] = dkt[c * ldk + j];
    for (long c = 0; c < dv; c++) gv[j * rs.gv + c] = dvt[c * ldk + j];
  }
  _mm_setcsr(mode);
}
