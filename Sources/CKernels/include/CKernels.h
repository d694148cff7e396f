// CKernels: vector kernels built for AVX-512 and chosen at run time (Swift cannot compile a single
// function for a CPU feature; C can, with a target attribute). Callers check aptp_has_avx512 first.
#pragma once

/// 1 when this CPU (and its OS) runs the AVX-512F kernels below, else 0.
int aptp_has_avx512(void);

/// row[i] = 2^(row[i] - max) for i < n, with the polynomial of TensorCore's `fastExp2` (the same
/// value per element); returns the sum of the results. AVX-512F only.
float aptp_exp2_shift_sum_avx512(float *row, long n, float max);
