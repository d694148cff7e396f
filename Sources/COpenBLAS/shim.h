// COpenBLAS: CBLAS plus the OpenBLAS thread controls the tensor engine uses.
#include <stddef.h>
#include <cblas.h>

// LAPACK's symmetric eigensolver (divide and conquer), as OpenBLAS exports it (Fortran ABI: all
// arguments by pointer, the two character arguments' hidden lengths last).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
