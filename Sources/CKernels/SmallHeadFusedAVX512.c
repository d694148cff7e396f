// SmallHeadFusedAVX512: the small-head attention forward in one sweep over the keys — scores,
// exponent, row sums and P·V in registers — for rows whose maximum score is bounded in advance.

#include "CKernels.h"
#include "Exp2AVX512.h"
#include "Reduce16AVX512.h"

#include <immintrin.h>
#include <math.h>

#define TARGET __attribute__((target("avx512f,avx512dq")))

/// Σ of the row's weights into sums[0]; returns its inverse.
TARGET static inline float row_sum(__m512 total, float *sums) {
  float sum = _mm512_reduce_add_ps(total);
  sums[0] = sum;
  return 1.0f / sum;
}

/// The state of the 4-row sweep: row sums t* and P·V accumulators a<row><channel>.
typedef struct {
  __m512 t0, t1, t2, t3;
  __m512 a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
} Sweep4;

/// One 16-key step of the 4-row sweep; D is the head width (a constant where the caller
/// specialises it, so the score loop unrolls).
TARGET static inline __attribute__((always_inline)) void step4(
    Sweep4 *z, const float *qs, const float *shift, const float *kt, long ldk, long D, const float *const *w, long j,
    __mmask16 live) {
  __m512 e0 = _mm512_set1_ps(shift[0]), e1 = _mm512_set1_ps(shift[1]);
  __m512 e2 = _mm512_set1_ps(shift[2]), e3 = _mm512_set1_ps(shift[3]);
  for (long c = 0; c < D; c++) {
    __m512 k = _mm512_loadu_ps(kt + c * ldk + j);
    e0 = _mm512_fmadd_ps(_mm512_set1_ps(qs[c]), k, e0);
    e1 = _mm512_fmadd_ps(_mm512_set1_ps(qs[16 + c]), k, e1);
    e2 = _mm512_fmadd_ps(_mm512_set1_ps(qs[32 + c]), k, e2);
    e3 = _mm512_fmadd_ps(_mm512_set1_ps(qs[48 + c]), k, e3);
  }
  e0 = aptp_exp2_weights4_16(e0, live);
  e1 = aptp_exp2_weights4_16(e1, live);
  e2 = aptp_exp2_weights4_16(e2, live);
  e3 = aptp_exp2_weights4_16(e3, live);
  z->t0 = _mm512_add_ps(z->t0, e0);
  z->t1 = _mm512_add_ps(z->t1, e1);
  z->t2 = _mm512_add_ps(z->t2, e2);
  z->t3 = _mm512_add_ps(z->t3, e3);
#define CHANNEL(c)                                   \
  {                                                  \
    __m512 v = _mm512_loadu_ps(w[c] + j);            \
    z->a0##c = _mm512_fmadd_ps(e0, v, z->a0##c);     \
    z->a1##c = _mm512_fmadd_ps(e1, v, z->a1##c);     \
    z->a2##c = _mm512_fmadd_ps(e2, v, z->a2##c);     \
    z->a3##c = _mm512_fmadd_ps(e3, v, z->a3##c);     \
  }
  CHANNEL(0) CHANNEL(1) CHANNEL(2) CHANNEL(3)
#undef CHANNEL
}

/// The whole 4-row sweep for head width D: full 16-key steps, then the padded last one.
TARGET static inline __attribute__((always_inline)) void sweep4(
    Sweep4 *z, const float *qs, const float *shift, const float *kt, long ldk, long D, const float *const *w,
    long visible) {
  long j = 0;
  for (; j + 16 <= visible; j += 16) step4(z, qs, shift, kt, ldk, D, w, j, (__mmask16)0xFFFF);
  if (j < visible) step4(z, qs, shift, kt, ldk, D, w, j, live_keys(j, visible));
}

/// Four rows, up to 4 channels: 16 accumulators (rows x channels) of 16 keys each.
TARGET static void fused_4x4(
    const float *qs, const float *shift, const float *kt, long ldk, long d, const float *vt, long ldv, long dv,
    long visible, float *out, long ldo, float *sums, long rows) {
  const float *w[4];
  for (int c = 0; c < 4; c++) w[c] = vt + (c < dv ? c : dv - 1) * ldv;
  __m512 zero = _mm512_setzero_ps();
  Sweep4 z = {zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero,
              zero, zero, zero, zero, zero, zero, zero, zero};
  if (d == 4)
    sweep4(&z, qs, shift, kt, ldk, 4, w, visible);
  else
    sweep4(&z, qs, shift, kt, ldk, d, w, visible);
  // All 16 P·V sums at once (lane 4·c + r holds row r, channel c): with few keys per tile the
  // reductions are most of a tile's work.
  float totals[16];
  _mm512_storeu_ps(totals, aptp_reduce16(z.a00, z.a01, z.a02, z.a03, z.a10, z.a11, z.a12, z.a13, z.a20, z.a21, z.a22,
                                         z.a23, z.a30, z.a31, z.a32, z.a33));
  __m512 t[4] = {z.t0, z.t1, z.t2, z.t3};
  for (long r = 0; r < rows; r++) {
    float inverse = row_sum(t[r], sums + r);
    for (long c = 0; c < dv; c++) out[r * ldo + c] = totals[4 * c + r] * inverse;
  }
}

/// The state of the 2-row sweep: row sums and 8 P·V accumulators per row.
typedef struct {
  __m512 t0, t1;
  __m512 a00, a01, a02, a03, a04, a05, a06, a07, a10, a11, a12, a13, a14, a15, a16, a17;
} Sweep2;

/// One 16-key step of the 2-row sweep (D as in `step4`).
TARGET static inline __attribute__((always_inline)) void step2(
    Sweep2 *z, const float *qs, const float *shift, const float *kt, long ldk, long D, const float *const *w, long j,
    __mmask16 live) {
  __m512 e0 = _mm512_set1_ps(shift[0]), e1 = _mm512_set1_ps(shift[1]);
  for (long c = 0; c < D; c++) {
    __m512 k = _mm512_loadu_ps(kt + c * ldk + j);
    e0 = _mm512_fmadd_ps(_mm512_set1_ps(qs[c]), k, e0);
    e1 = _mm512_fmadd_ps(_mm512_set1_ps(qs[16 + c]), k, e1);
  }
  e0 = aptp_exp2_weights4_16(e0, live);
  e1 = aptp_exp2_weights4_16(e1, live);
  z->t0 = _mm512_add_ps(z->t0, e0);
  z->t1 = _mm512_add_ps(z->t1, e1);
#define CHANNEL(c)                                   \
  {                                                  \
    __m512 v = _mm512_loadu_ps(w[c] + j);            \
    z->a0##c = _mm512_fmadd_ps(e0, v, z->a0##c);     \
    z->a1##c = _mm512_fmadd_ps(e1, v, z->a1##c);     \
  }
  CHANNEL(0) CHANNEL(1) CHANNEL(2) CHANNEL(3) CHANNEL(4) CHANNEL(5) CHANNEL(6) CHANNEL(7)
#undef CHANNEL
}

/// Two 16-key steps of the 2-row sweep at once (keys j ..< j + 32), so four exponent chains
/// overlap instead of two.
TARGET static inline __attribute__((always_inline)) void step2_twice(
    Sweep2 *z, const float *qs, const float *shift, const float *kt, long ldk, long D, const float *const *w, long j) {
  __m512 e0 = _mm512_set1_ps(shift[0]), e1 = _mm512_set1_ps(shift[1]), f0 = e0, f1 = e1;
  for (long c = 0; c < D; c++) {
    __m512 k = _mm512_loadu_ps(kt + c * ldk + j), l = _mm512_loadu_ps(kt + c * ldk + j + 16);
    __m512 q0 = _mm512_set1_ps(qs[c]), q1 = _mm512_set1_ps(qs[16 + c]);
    e0 = _mm512_fmadd_ps(q0, k, e0);
    e1 = _mm512_fmadd_ps(q1, k, e1);
    f0 = _mm512_fmadd_ps(q0, l, f0);
    f1 = _mm512_fmadd_ps(q1, l, f1);
  }
  const __mmask16 all = (__mmask16)0xFFFF;
  e0 = aptp_exp2_weights4_16(e0, all);
  e1 = aptp_exp2_weights4_16(e1, all);
  f0 = aptp_exp2_weights4_16(f0, all);
  f1 = aptp_exp2_weights4_16(f1, all);
  z->t0 = _mm512_add_ps(z->t0, _mm512_add_ps(e0, f0));
  z->t1 = _mm512_add_ps(z->t1, _mm512_add_ps(e1, f1));
#define CHANNEL(c)                                                                   \
  {                                                                                  \
    __m512 v = _mm512_loadu_ps(w[c] + j), u = _mm512_loadu_ps(w[c] + j + 16);        \
    z->a0##c = _mm512_fmadd_ps(f0, u, _mm512_fmadd_ps(e0, v, z->a0##c));            \
    z->a1##c = _mm512_fmadd_ps(f1, u, _mm512_fmadd_ps(e1, v, z->a1##c));            \
  }
  CHANNEL(0) CHANNEL(1) CHANNEL(2) CHANNEL(3) CHANNEL(4) CHANNEL(5) CHANNEL(6) CHANNEL(7)
#undef CHANNEL
}

/// The whole 2-row sweep for head width D.
TARGET static inline __attribute__((always_inline)) void sweep2(
    Sweep2 *z, const float *qs, const float *shift, const float *kt, long ldk, long D, const float *const *w,
    long visible) {
  long j = 0;
  for (; j + 32 <= visible; j += 32) step2_twice(z, qs, shift, kt, ldk, D, w, j);
  for (; j < visible; j += 16) step2(z, qs, shift, kt, ldk, D, w, j, live_keys(j, visible));
}

/// Two rows, up to 8 channels (qs and shift hold 4 rows; rows 2 and 3 are not computed).
TARGET static void fused_2x8(
    const float *qs, const float *shift, const float *kt, long ldk, long d, const float *vt, long ldv, long dv,
    long visible, float *out, long ldo, float *sums, long rows) {
  const float *w[8];
  for (int c = 0; c < 8; c++) w[c] = vt + (c < dv ? c : dv - 1) * ldv;
  __m512 zero = _mm512_setzero_ps();
  Sweep2 z = {zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero,
              zero, zero, zero, zero, zero, zero};
  if (d == 8)
    sweep2(&z, qs, shift, kt, ldk, 8, w, visible);
  else
    sweep2(&z, qs, shift, kt, ldk, d, w, visible);
  // All 16 sums at once: accumulator i = 8·r + c (row r, channel c) is in lane 4·(i % 4) + i / 4.
  float totals[16];
  _mm512_storeu_ps(totals, aptp_reduce16(z.a00, z.a01, z.a02, z.a03, z.a04, z.a05, z.a06, z.a07, z.a10, z.a11, z.a12,
                                         z.a13, z.a14, z.a15, z.a16, z.a17));
  __m512 t[2] = {z.t0, z.t1};
  for (long r = 0; r < rows; r++) {
    float inverse = row_sum(t[r], sums + r);
    for (long c = 0; c < dv; c++) {
      long i = 8 * r + c;
      out[r * ldo + c] = totals[4 * (i % 4) + i / 4] * inverse;
    }
  }
}

/// One tile of up to 4 rows (see `aptp_small_head_fused_rows_avx512`), under the caller's FTZ mode.
TARGET static void fused_tile(
    const float *qs, const float *shift, const float *kt, long ldk, long d, const float *vt, long ldv, long dv,
    long visible, float *out, long ldo, float *sums, long rows) {
  if (dv <= 4) {
    fused_4x4(qs, shift, kt, ldk, d, vt, ldv, dv, visible, out, ldo, sums, rows);
  } else {
    // Eight channels leave registers for two rows at a time.
    fused_2x8(qs, shift, kt, ldk, d, vt, ldv, dv, visible, out, ldo, sums, rows < 2 ? rows : 2);
    if (rows > 2)
      fused_2x8(qs + 32, shift + 2, kt, ldk, d, vt, ldv, dv, visible, out + 2 * ldo, ldo, sums + 2, rows - 2);
  }
}

/// Tile of 4 query rows (the last row repeated past `rows`) scaled into base 2, each row's shift
/// minus the upper bound Σ_c max(q_c·min_c, q_c·max_c) of its scores; 0 when a bound is not finite.
TARGET static int tile_shifts(
    const float *q, long ldq, long rows, long d, float log2Scale, const float *range, float *qs, float *shift) {
  for (long r = 0; r < 4; r++) {
    const float *src = q + (r < rows ? r : rows - 1) * ldq;
    float bound = 0.0f;
    for (long c = 0; c < d; c++) {
      float x = src[c] * log2Scale, low = x * range[c], high = x * range[16 + c];
      qs[r * 16 + c] = x;
      bound += high >= low ? high : low;
    }
    if (!isfinite(bound)) return 0;
    shift[r] = -bound;
  }
  return 1;
}

TARGET long aptp_small_head_fused_rows_avx512(
    const float *q, long ldq, long nrows, long d, float log2Scale, const float *range, const float *kt, long ldk,
    const float *vt, long dv, long visible, float *out, long ldo, float *lse) {
  unsigned int mode = aptp_enter_flush_to_zero();
  float qs[64], shift[4], sums[4];
  long row0 = 0;
  for (; row0 < nrows; row0 += 4) {
    long rows = nrows - row0 < 4 ? nrows - row0 : 4;
    if (!tile_shifts(q + row0 * ldq, ldq, rows, d, log2Scale, range, qs, shift)) break;
    fused_tile(qs, shift, kt, ldk, d, vt, ldk, dv, visible, out + row0 * ldo, ldo, sums, rows);
    int usable = 1;
    for (long r = 0; r < rows; r++) usable &= sums[r] >= 0x1p-60f && isfinite(sums[r]);
    if (!usable) break;
    if (lse)
      for (long r = 0; r < rows; r++) lse[row0 + r] = (log2f(sums[r]) - shift[r]) * 0.693147180f;
  }
  _mm_setcsr(mode);
  return row0 < nrows ? row0 : nrows;
}

TARGET void aptp_key_ranges_avx512(const float *kt, long ldk, long d, long keys, float *range) {
  for (long c = 0; c < d; c++) {
    const float *row = kt + c * ldk;
    __m512 low = _mm512_set1_ps(row[0]), high = low;
    for (long j = 0; j < keys; j += 16) {
      __m512 x = _mm512_mask_loadu_ps(low, live_keys(j, keys), row + j);
      low = _mm512_min_ps(low, x);
      high = _mm512_max_ps(high, _mm512_mask_loadu_ps(high, live_keys(j, keys), row + j));
    }
    range[c] = _mm512_reduce_min_ps(low);
    range[16 + c] = _mm512_reduce_max_ps(high);
  }
}
