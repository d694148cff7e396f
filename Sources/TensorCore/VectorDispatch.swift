// VectorDispatch: kernels with an AVX-512 build in CKernels, picked once per process by CPU feature
// (APTP_AVX512=0 forces the portable AVX2 Swift versions, e.g. to compare the two).

import CKernels

#if canImport(Glibc)
  import Glibc
#endif

/// Whether this process may use the AVX-512 kernels of CKernels (CPU and `APTP_AVX512`).
let avx512Kernels: Bool = aptp_has_avx512() != 0 && getenv("APTP_AVX512").map { String(cString: $0) } != "0"

/// Per-task switch for the vector builds.
public enum VectorDispatch {
  /// False runs the portable Swift kernels inside `withValue` even on an AVX-512 machine (tests
  /// cover both builds this way): `VectorDispatch.$allowAVX512.withValue(false) { ... }`.
  @TaskLocal public static var allowAVX512 = true

  /// Whether an op starting on this task uses AVX-512. Read once per op on the calling thread (the
  /// task-local value is not visible on the worker threads) and pass the answer down.
  static var useAVX512: Bool { avx512Kernels && allowAVX512 }
}

/// row[i] = 2^(row[i] - max) for i < n; returns Σ row[i]. `avx512` picks the build (tests compare both).
func exp2ShiftSum(_ row: UnsafeMutablePointer<Float>, _ n: Int, max m: Float, avx512: Bool) -> Float {
  if avx512 { return aptp_exp2_shift_sum_avx512(row, n, m) }
  for i in 0..<n { row[i] = fastExp2(row[i] - m) }
  return rowSum(row, n)
}

/// `rowMax` (same ordering: a NaN wins), in AVX-512 when available.
@inline(__always)
func fastRowMax(_ row: UnsafePointer<Float>, _ n: Int, avx512: Bool) -> Float {
  avx512 ? aptp_row_max_avx512(row, n) : rowMax(row, n)
}
