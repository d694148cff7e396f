// CKernels: vector kernels built for AVX-512 and chosen at run time (Swift cannot compile a single
// function for a CPU feature; C can, with a target attribute). Callers check aptp_has_avx512 first.
#pragma once

/// 1 when this CPU (and its OS) runs the AVX-512F and AVX-512DQ kernels below, else 0.
int aptp_has_avx512(void);

/// row[i] = 2^(row[i] - max) for i < n, with the polynomial of TensorCore's `fastExp2` (the same
/// value per element); returns the sum of the results. AVX-512F only.
float aptp_exp2_shift_sum_avx512(float *row, long n, float max);

/// Scores of a tile of 4 query rows against `keys` keys (a multiple of 16):
/// s[r * ldk + j] = Σ_c qs[r * 16 + c] · kt[c * ldk + j] for c < d, summed in the order of c (the
/// same value as the Swift kernel `smallHeadTileScores`). When `maxes` is not NULL, maxes[r] is the
/// largest score of row r among keys 0 ..< visible (a NaN score is passed over; it still turns the
/// row's softmax into NaN). AVX-512F only.
void aptp_small_head_scores_avx512(
    const float *qs, const float *kt, long ldk, long d, float *s, long keys, long visible, float *maxes);

/// out[r * ldo + c] = scale[r] · Σ_j s[r' * lds + j] · vt[c' * ldv + j] for r < rows and the
/// channels c0 ..< min(c0 + 4, channels), where r' = min(r, rows - 1) and c' = min(c, channels - 1);
/// keys8 is a multiple of 8 and s, vt are zero from the visible keys up to keys8 (the Swift kernel
/// `smallHeadTileValuesDot`, with sums split over 16 lanes instead of 8). AVX-512F only.
void aptp_small_head_values_dot_avx512(
    const float *s, long lds, const float *vt, long ldv, long c0, long channels, long keys8, float *out, long ldo,
    const float *scale, long rows);

/// Attention forward in one sweep over keys 0 ..< visible for query rows 0 ..< nrows (rows of q
/// are ldq floats apart), d <= 16 and dv <= 8, in tiles of 4 rows: row r's base-2 scores
/// q·kt · log2Scale are shifted by minus their upper bound Σ_c max(q_c·min_c, q_c·max_c) from the
/// key channels' ranges (`range` as `aptp_key_ranges_avx512` writes it), e = 2^(score − bound),
/// out[r * ldo + c] = Σ_j e · vt[c * ldk + j] / Σ_j e, and when lse is not NULL, lse[r] = the
/// natural log-sum-exp of the row's scaled scores. Floats keep relative precision at any scale,
/// so the bound only matters when weights leave the float range: returns the first row of the
/// first tile whose bound is not finite or whose sum fell below 2^-60 (that tile's output is not
/// usable; the caller runs it with the exact maximum and calls again from the next tile), or nrows
/// when every tile is done. kt and vt hold 16-key blocks up to `visible` rounded up (the padding's
/// weights are set to 0). AVX-512F and AVX-512DQ.
long aptp_small_head_fused_rows_avx512(
    const float *q, long ldq, long nrows, long d, float log2Scale, const float *range, const float *kt, long ldk,
    const float *vt, long dv, long visible, float *out, long ldo, float *lse);

/// Each key channel's range over keys 0 ..< keys (keys >= 1): range[c] = the smallest and
/// range[16 + c] = the largest of kt[c * ldk + j], for c < d <= 16. AVX-512F only.
void aptp_key_ranges_avx512(const float *kt, long ldk, long d, long keys, float *range);

/// The largest of row[0 ..< n], compared as `rowMax` does (by the float's ordered integer key, so a
/// NaN wins); -inf when n is 0. AVX-512F only.
float aptp_row_max_avx512(const float *row, long n);

/// Row strides (in floats) of the operands of `aptp_small_head_attention_backward_avx512`.
typedef struct {
  long q, k, v, o, g, gq, gk, gv;
} AptpRowStrides;

/// Attention backward for one head with d <= 4 and dv <= 4, no mask, in one sweep per tile of 4
/// query rows (no score matrix in memory): P = 2^(q·k · log2Scale − lse · log2(e)), dV = Pᵀ dO,
/// dS = P ∘ (dO Vᵀ − rowsum(dO ∘ O)), dQ = scale · dS K, dK = scale · dSᵀ Q. Rows of q [lq, d],
/// k [lk, d], v [lk, dv], o and g [lq, dv] and of the results gq [lq, d], gk [lk, d], gv [lk, dv]
/// are `rs` floats apart; lse [lq] holds the natural log-sum-exp of each row (-inf for a row that
/// saw no key). `scratch` holds 16 · ldk + 64 floats with ldk >= lk a multiple of 16. AVX-512F
/// and AVX-512DQ.
void aptp_small_head_attention_backward_avx512(
    const float *q, const float *k, const float *v, const float *o, const float *g, const float *lse, float *gq,
    float *gk, float *gv, AptpRowStrides rs, long lq, long lk, long d, long dv, float scale, float log2Scale,
    float *scratch, long ldk);

/// GEGLU over `rows` rows of 2n floats: out[r * n + i] = x[r·2n + i] · gelu(x[r·2n + n + i]) with
/// the exact (erf) GELU of TensorCore's `GeluOp` — the same float for every element. AVX-512F only.
void aptp_geglu_avx512(const float *x, long rows, long n, float *out);

/// GEGLU's backward for `rows` rows: with v, x the value and gate halves of each row of `x` and g
/// [rows, n] the upstream gradient, dx[.., i] = g · gelu(x) and dx[.., n + i] = (g · v) · gelu'(x),
/// the operations of TensorCore's `geluAndSlope` in the same order. AVX-512F only.
void aptp_geglu_backward_avx512(const float *x, const float *g, long rows, long n, float *dx);

/// C [m, n] = bias [n] + residual [m, n] + A [m, k] · B [k, n] with A[r, kk] at a[r·ars + kk·aks]
/// (so A may be a transposed view) and B, residual, C row-major with leading dimensions ldb / ldr /
/// ldc (bias and residual may be NULL), without packing: for short inner dimensions, where packing
/// costs as much as the product, and small C. AVX-512F only.
void aptp_gemm_unpacked_avx512(
    const float *a, long ars, long aks, long m, long k, const float *b, long ldb, long n, const float *bias,
    const float *residual, long ldr, float *c, long ldc);

/// Winograd F(2x2, 3x3) input transform of one row of `tiles` tiles: the four padded input rows
/// start at r0, wp floats apart (wp = 2·tiles + 2); plane ξ of the result starts at
/// out + ξ·xiStride. Transforms tiles 0 ..< n in steps of 16 and 8 and returns n (the caller does the
/// rest). The same floats as TensorCore's `WinogradPlan.inputTransform`. AVX-512F only.
long aptp_winograd_input_row_avx512(const float *r0, long wp, long tiles, float *out, long xiStride);
