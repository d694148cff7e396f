// COpenBLAS: CBLAS plus the OpenBLAS thread controls the tensor engine uses.
#include <cblas.h>
