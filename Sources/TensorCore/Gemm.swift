// Gemm: the single entry to cblas_sgemm — layouts from strides (transposes as flags), split across threads.

import COpenBLAS

/// One row-major matrix operand for sgemm: pointer, whether it is read transposed, leading dimension.
struct MatrixOperand {
  var pointer: UnsafeMutablePointer<Float>
  var transposed: Bool
  var ld: Int

  /// Describes a `rows x cols` matrix with the given strides, or nil when sgemm cannot read it directly.
  init?(_ pointer: UnsafeMutablePointer<Float>, rows: Int, cols: Int, rowStride: Int, colStride: Int) {
    self.pointer = pointer
    if colStride == 1 || cols == 1 {
      let ld = rows == 1 ? Swift.max(cols, 1) : rowStride
      if ld >= Swift.max(1, cols) {
        transposed = false
        self.ld = ld
        return
      }
    }
    if rowStride == 1 || rows == 1 {
      let ld = cols == 1 ? Swift.max(rows, 1) : colStride
      if ld >= Swift.max(1, rows) {
        transposed = true
        self.ld = ld
        return
      }
    }
    return nil
  }

  /// A contiguous row-major matrix with `cols` columns.
  init(rowMajor pointer: UnsafeMutablePointer<Float>, cols: Int) {
    self.pointer = pointer
    transposed = false
    ld = Swift.max(cols, 1)
  }

  /// The sub-matrix starting at row `r`, column `c` (same layout).
  func offset(row r: Int, col c: Int) -> MatrixOperand {
    var m = self
    m.pointer = transposed ? pointer + c * ld + r : pointer + r * ld + c
    return m
  }
}

enum Gemm {
  /// C[M,N] = alpha * A[M,K] B[K,N] + beta * C, on the calling thread only.
  @inline(__always)
  static func serial(
    _ a: MatrixOperand, _ b: MatrixOperand, _ c: UnsafeMutablePointer<Float>, ldc: Int,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
  ) {
    _ = Parallel.blasConfigured
    if m == 0 || n == 0 { return }
    if k == 0 {
      for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
      return
    }
    cblas_sgemm(
      CblasRowMajor, a.transposed ? CblasTrans : CblasNoTrans, b.transposed ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a.pointer, Int32(a.ld), b.pointer, Int32(b.ld), beta, c, Int32(ldc))
  }

  /// Same as `serial` but split into row or column blocks across threads when large enough.
  static func parallel(
    _ a: MatrixOperand, _ b: MatrixOperand, _ c: UnsafeMutablePointer<Float>, ldc: Int,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
  ) {
    let t = Parallel.threads
    let work = Double(m) * Double(n) * Double(k)
    if t <= 1 || work < 4e6 {
      serial(a, b, c, ldc: ldc, m: m, n: n, k: k, alpha: alpha, beta: beta)
      return
    }
    if k >= 16 * Swift.max(m, n) {
      splitReduction(a, b, c, ldc: ldc, m: m, n: n, k: k, alpha: alpha, beta: beta, parts: t)
      return
    }
    let splitRows = m >= n
    let extent = splitRows ? m : n
    let parts = Swift.min(t, Swift.max(1, extent / 16))
    let block = ((extent + parts - 1) / parts + 7) / 8 * 8
    Parallel.forEach(parts) { p in
      let start = p * block
      let size = Swift.min(block, extent - start)
      if size <= 0 { return }
      if splitRows {
        serial(a.offset(row: start, col: 0), b, c + start * ldc, ldc: ldc, m: size, n: n, k: k, alpha: alpha, beta: beta)
      } else {
        serial(a, b.offset(row: 0, col: start), c + start, ldc: ldc, m: m, n: size, k: k, alpha: alpha, beta: beta)
      }
    }
  }
}

extension Gemm {
  /// A reduction-dominated product (a weight gradient: small m, n, long k) split along k: worker 0
  /// accumulates its share into C with `beta`, the others into zeroed partials that are added
  /// after. Each worker then reads only its share of both operands, where a split of m or n would
  /// have each read all of one.
  fileprivate static func splitReduction(
    _ a: MatrixOperand, _ b: MatrixOperand, _ c: UnsafeMutablePointer<Float>, ldc: Int,
    m: Int, n: Int, k: Int, alpha: Float, beta: Float, parts: Int
  ) {
    let block = ((k + parts - 1) / parts + 15) / 16 * 16
    summedInParts(parts, m: m, n: n, into: c, ldc: ldc) { p, out, ld in
      let start = p * block, size = Swift.min(block, k - start)
      if size <= 0 {
        if p > 0 { out.update(repeating: 0, count: m * n) }
        return
      }
      serial(
        a.offset(row: 0, col: start), b.offset(row: start, col: 0), out, ldc: ld, m: m, n: n, k: size, alpha: alpha,
        beta: p == 0 ? beta : 0)
    }
  }

  /// C [m, n] as the sum of `parts` partial results computed in parallel: `part(p, out, ld)` writes
  /// part 0 into C itself (leading dimension ldc) and part p > 0 into a dense [m, n] scratch
  /// (leading dimension n), which is then added to C in part order — so the result depends on
  /// the number of parts, not on which thread ran which.
  static func summedInParts(
    _ parts: Int, m: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
    _ part: (_ p: Int, _ out: UnsafeMutablePointer<Float>, _ ld: Int) -> Void
  ) {
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, (parts - 1) * m * n))
    defer { partials.deallocate() }
    Parallel.forEach(parts) { p in
      part(p, p == 0 ? c : partials + (p - 1) * m * n, p == 0 ? ldc : n)
    }
    guard parts > 1 else { return }
    Parallel.forRange(m, grain: Swift.max(1, 32_768 / Swift.max(n, 1))) { first, end in
      for p in 1..<parts {
        let partial = partials + (p - 1) * m * n
        for i in first..<end { for j in 0..<n { c[i * ldc + j] += partial[i * n + j] } }
      }
    }
  }
}

extension Tensor {
  /// The last two dimensions as an sgemm operand at `base`, copying to contiguous first if needed.
  func matrixOperand() -> (Tensor, MatrixOperand) {
    let r = shape[rank - 2], c = shape[rank - 1]
    if let op = MatrixOperand(data, rows: r, cols: c, rowStride: strides[rank - 2], colStride: strides[rank - 1]) {
      return (self, op)
    }
    let copy = contiguousCopy()
    return (copy, MatrixOperand(rowMajor: copy.data, cols: c))
  }
}
