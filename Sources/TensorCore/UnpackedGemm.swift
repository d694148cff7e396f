// UnpackedGemm: products of the 32-256-channel linear layers without sgemm's packing (short inner
// dimension, or a small result with a long reduction), the bias and residual folded into the
// accumulators.

import CKernels

/// Products on the AVX-512 kernel `aptp_gemm_unpacked_avx512` (all operands dense row-major).
enum UnpackedGemm {
  /// Whether an [m, k] · [k, n] product runs here: short k, where packing A costs about as much as
  /// the product (thresholds measured with `aptp-bench` linear cases: k = 512 gained nothing).
  static func applies(k: Int, n: Int, avx512: Bool) -> Bool {
    avx512 && k >= 1 && k <= 256 && n >= 1 && n <= 1024
  }

  /// C [m, n] = bias + residual + A [m, k] · B [k, n] (residual and C with leading dimension n),
  /// rows split across threads.
  static func run(
    a: UnsafePointer<Float>, m: Int, k: Int, b: UnsafePointer<Float>, n: Int, bias: UnsafePointer<Float>?,
    residual: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>
  ) {
    let blocks = (m + 7) / 8
    // At least ~64K multiply-adds per piece, so the hand-off costs little.
    let grain = Swift.max(1, 65_536 / Swift.max(1, 8 * n * k))
    Parallel.forRange(blocks, grain: grain) { first, end in
      let row = first * 8, rows = Swift.min(m, end * 8) - row
      aptp_gemm_unpacked_avx512(
        a + row * k, k, 1, rows, k, b, n, n, bias, residual.map { $0 + row * n }, n, c + row * n, n)
    }
  }

  /// a [m, k] · b [k, n] for rank-2 tensors when `applies` (nil otherwise, for the caller's
  /// general path).
  static func product(_ a: Tensor, _ b: Tensor) -> Tensor? {
    guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[0],
      applies(k: a.shape[1], n: b.shape[1], avx512: VectorDispatch.useAVX512)
    else { return nil }
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    let ac = a.isContiguous ? a : a.contiguousCopy(), bc = b.isContiguous ? b : b.contiguousCopy()
    let out = Tensor(shape: [m, n], zeroed: false)
    withExtendedLifetime((ac, bc)) {
      run(a: ac.data, m: m, k: k, b: bc.data, n: n, bias: nil, residual: nil, c: out.data)
    }
    return out
  }

  /// aᵀ · b [m, n] for a [r, m], b [r, n] — a weight gradient: small result, long reduction — when
  /// m <= 192, n <= 1024 and the CPU has AVX-512 (nil otherwise: with m = 256 and 512 sgemm was
  /// faster in the `aptp-bench` linear cases, each 8-row block of the result streaming all of b).
  /// The rows are split into parts whose partial products are added in part order, so the result
  /// depends only on the thread count.
  static func transposedProduct(_ a: Tensor, _ b: Tensor) -> Tensor? {
    guard a.rank == 2, b.rank == 2, a.shape[0] == b.shape[0], VectorDispatch.useAVX512 else { return nil }
    let (r, m, n) = (a.shape[0], a.shape[1], b.shape[1])
    guard r >= 1, m >= 1, m <= 192, n >= 1, n <= 1024 else { return nil }
    let ac = a.isContiguous ? a : a.contiguousCopy(), bc = b.isContiguous ? b : b.contiguousCopy()
    // Two parts per thread (a late thread's second part moves to the other), at least 256 rows each.
    let parts = Swift.max(1, Swift.min(2 * Parallel.threads, r / 256))
    let out = Tensor(shape: [m, n], zeroed: false)
    withExtendedLifetime((ac, bc)) {
      Gemm.summedInParts(parts, m: m, n: n, into: out.data, ldc: n) { p, c, ld in
        let first = p * r / parts, rows = (p + 1) * r / parts - first
        aptp_gemm_unpacked_avx512(ac.data + first * m, 1, m, m, rows, bc.data + first * n, n, n, nil, nil, 0, c, ld)
      }
    }
    return out
  }
}
