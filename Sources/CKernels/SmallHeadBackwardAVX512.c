// SmallHeadBackwardAVX512: the attention backward for heads of at most 4 channels, flash-style —
// each tile of 4 query rows sweeps the keys 16 at a time with every intermediate in registers.

#include "CKernels.h"
#include "Exp2AVX512.h"
#include "Reduce16AVX512.h"

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
  float *consts = scratch + 16 * ldk;
  transpose_into(k, rs.k, lk, d, kt, ldk);
  transpose_into(v, rs.v, lk, dv, vt, ldk);
  for (long i = 0; i < 8 * ldk; i++) dkt[i] = 0.0f;
  const float log2e = 1.44269504f;
  for (long row0 = 0; row0 < lq; row0 += 4) {
    long rows = lq - row0 < 4 ? lq - row0 : 4;
    // Per row r, consts[r * 16 + ...]: q in base 2 (0-3, scores), dO (4-7), q · scale (8-11, dK),
    // −lse in base 2 (12) and −rowsum(dO ∘ O) (13). Padding rows and rows that saw no key get dO = 0
    // and an offset of −inf, so P = dS = 0. The constants sit in scratch memory: stores into the
    // dK/dV planes might alias them, so the compiler reads them as broadcast operands where it
    // would otherwise hoist 56 broadcasts into registers and spill.
    for (long r = 0; r < 4; r++) {
      float *row = consts + r * 16;
      for (int c = 0; c < 16; c++) row[c] = 0.0f;
      row[12] = -__builtin_inff();
      if (r >= rows || lse[row0 + r] == -__builtin_inff()) continue;
      const float *qrow = q + (row0 + r) * rs.q, *grow = g + (row0 + r) * rs.g, *orow = o + (row0 + r) * rs.o;
      row[12] = -lse[row0 + r] * log2e;
      for (long c = 0; c < d; c++) {
        row[c] = qrow[c] * log2Scale;
        row[8 + c] = qrow[c] * scale;
      }
      float dot = 0.0f;
      for (long c = 0; c < dv; c++) {
        row[4 + c] = grow[c];
        dot += grow[c] * orow[c];
      }
      row[13] = -dot;
    }
    // The 16 dQ accumulators stay in registers; K and V are read from L1 as memory operands (they
    // would need 8 more registers), and the 16 keys' dK and dV accumulators live for one step.
    __m512 zero = _mm512_setzero_ps();
    __m512 q00 = zero, q01 = zero, q02 = zero, q03 = zero, q10 = zero, q11 = zero, q12 = zero, q13 = zero;
    __m512 q20 = zero, q21 = zero, q22 = zero, q23 = zero, q30 = zero, q31 = zero, q32 = zero, q33 = zero;
    for (long j = 0; j < lk; j += 16) {
      __mmask16 live = live_keys(j, lk);
      const float *k0 = kt + j, *k1 = kt + ldk + j, *k2 = kt + 2 * ldk + j, *k3 = kt + 3 * ldk + j;
      const float *v0 = vt + j, *v1 = vt + ldk + j, *v2 = vt + 2 * ldk + j, *v3 = vt + 3 * ldk + j;
      __m512 gv0 = _mm512_loadu_ps(dvt + j), gv1 = _mm512_loadu_ps(dvt + ldk + j);
      __m512 gv2 = _mm512_loadu_ps(dvt + 2 * ldk + j), gv3 = _mm512_loadu_ps(dvt + 3 * ldk + j);
      __m512 gk0 = _mm512_loadu_ps(dkt + j), gk1 = _mm512_loadu_ps(dkt + ldk + j);
      __m512 gk2 = _mm512_loadu_ps(dkt + 2 * ldk + j), gk3 = _mm512_loadu_ps(dkt + 3 * ldk + j);
// One row: s = q·k − lse and dp = dO·v − rowsum(dO ∘ O) (the offsets start the chains), P, dS, and
// the row's share of dV, dK and its own dQ.
#define ROW(r, a0, a1, a2, a3)                                                                                 \
  {                                                                                                            \
    __m512 s = _mm512_set1_ps(consts[(r) * 16 + 12]);                                                          \
    s = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 0]), _mm512_loadu_ps(k0), s);                         \
    s = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 1]), _mm512_loadu_ps(k1), s);                         \
    s = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 2]), _mm512_loadu_ps(k2), s);                         \
    s = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 3]), _mm512_loadu_ps(k3), s);                         \
    __m512 p = aptp_exp2_weights_16(s, live);                                                                  \
    __m512 dp = _mm512_set1_ps(consts[(r) * 16 + 13]);                                                         \
    dp = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 4 + 0]), _mm512_loadu_ps(v0), dp);                   \
    dp = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 4 + 1]), _mm512_loadu_ps(v1), dp);                   \
    dp = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 4 + 2]), _mm512_loadu_ps(v2), dp);                   \
    dp = _mm512_fmadd_ps(_mm512_set1_ps(consts[(r) * 16 + 4 + 3]), _mm512_loadu_ps(v3), dp);                   \
    __m512 ds = _mm512_mul_ps(p, dp);                                                                          \
    gv0 = _mm512_fmadd_ps(p, _mm512_set1_ps(consts[(r) * 16 + 4 + 0]), gv0);                                   \
    gv1 = _mm512_fmadd_ps(p, _mm512_set1_ps(consts[(r) * 16 + 4 + 1]), gv1);                                   \
    gv2 = _mm512_fmadd_ps(p, _mm512_set1_ps(consts[(r) * 16 + 4 + 2]), gv2);                                   \
    gv3 = _mm512_fmadd_ps(p, _mm512_set1_ps(consts[(r) * 16 + 4 + 3]), gv3);                                   \
    gk0 = _mm512_fmadd_ps(ds, _mm512_set1_ps(consts[(r) * 16 + 8 + 0]), gk0);                                  \
    gk1 = _mm512_fmadd_ps(ds, _mm512_set1_ps(consts[(r) * 16 + 8 + 1]), gk1);                                  \
    gk2 = _mm512_fmadd_ps(ds, _mm512_set1_ps(consts[(r) * 16 + 8 + 2]), gk2);                                  \
    gk3 = _mm512_fmadd_ps(ds, _mm512_set1_ps(consts[(r) * 16 + 8 + 3]), gk3);                                  \
    a0 = _mm512_fmadd_ps(ds, _mm512_loadu_ps(k0), a0);                                                         \
    a1 = _mm512_fmadd_ps(ds, _mm512_loadu_ps(k1), a1);                                                         \
    a2 = _mm512_fmadd_ps(ds, _mm512_loadu_ps(k2), a2);                                                         \
    a3 = _mm512_fmadd_ps(ds, _mm512_loadu_ps(k3), a3);                                                         \
  }
      ROW(0, q00, q01, q02, q03)
      ROW(1, q10, q11, q12, q13)
      ROW(2, q20, q21, q22, q23)
      ROW(3, q30, q31, q32, q33)
#undef ROW
      _mm512_storeu_ps(dvt + j, gv0);
      _mm512_storeu_ps(dvt + ldk + j, gv1);
      _mm512_storeu_ps(dvt + 2 * ldk + j, gv2);
      _mm512_storeu_ps(dvt + 3 * ldk + j, gv3);
      _mm512_storeu_ps(dkt + j, gk0);
      _mm512_storeu_ps(dkt + ldk + j, gk1);
      _mm512_storeu_ps(dkt + 2 * ldk + j, gk2);
      _mm512_storeu_ps(dkt + 3 * ldk + j, gk3);
    }
    // All 16 sums at once (lane 4·c + r holds row r, channel c).
    float totals[16];
    _mm512_storeu_ps(
        totals, aptp_reduce16(q00, q01, q02, q03, q10, q11, q12, q13, q20, q21, q22, q23, q30, q31, q32, q33));
    for (long r = 0; r < rows; r++)
      for (long c = 0; c < d; c++) gq[(row0 + r) * rs.gq + c] = totals[4 * c + r] * scale;
  }
  for (long j = 0; j < lk; j++) {
    for (long c = 0; c < d; c++) gk[j * rs.gk + c] = dkt[c * ldk + j];
    for (long c = 0; c < dv; c++) gv[j * rs.gv + c] = dvt[c * ldk + j];
  }
  _mm_setcsr(mode);
}
