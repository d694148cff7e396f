// ReduceLeading: sums over the leading axes of a contiguous tensor as column sums, without moving the axes last.

extension Tensor {
  /// Sum (divided by `divisor`) over `axes` when they are the leading axes 0..<p of a contiguous tensor and
  /// some axis is kept: the tensor is read as [R, K] rows and the K column sums are accumulated row by
  /// row. (The general path would first copy the tensor transposed — for a bias gradient [B·L, C]
  /// that copy cost several times the sum.) Nil when the layout does not fit.
  func leadingAxesSum(_ axes: [Int], keepdim: Bool, divisor: Int = 1) -> (out: Tensor, keptShape: [Int])? {
    guard isContiguous, !axes.isEmpty, axes.count < rank, axes == Array(0..<axes.count) else { return nil }
    let rows = axes.reduce(1) { $0 * shape[$1] }
    let cols = elementCount(Array(shape[axes.count...]))
    guard cols >= 8 else { return nil }
    var keptShape = shape
    for a in axes { keptShape[a] = 1 }
    let out = Tensor(shape: keepdim ? keptShape : Array(shape[axes.count...]), zeroed: false)
    let src = data, dst = out.data
    let groups = (cols + 7) / 8
    // Each task owns whole groups of 8 columns, at least 2 groups (64 bytes of every row).
    Parallel.forRange(groups, grain: rows * cols >= 32_768 ? 2 : groups) { g0, g1 in
      columnSums(src, rows: rows, cols: cols, columns: (g0 * 8)..<Swift.min(cols, g1 * 8), divisor: Double(divisor), into: dst)
    }
    return (out, keptShape)
  }
}

/// dst[c] = Σ_r src[r · cols + c] / divisor for c in `columns`: blocks of up to 1024 rows are summed in
/// float (8 columns per vector), the blocks' partial sums in double, as `rowSum` does along a row.
private func columnSums(
  _ src: UnsafePointer<Float>, rows: Int, cols: Int, columns: Range<Int>, divisor: Double, into dst: UnsafeMutablePointer<Float>
) {
  let width = columns.count
  let partial = UnsafeMutablePointer<Float>.allocate(capacity: width)
  let total = UnsafeMutablePointer<Double>.allocate(capacity: width)
  defer {
    partial.deallocate()
    total.deallocate()
  }
  total.initialize(repeating: 0, count: width)
  let vectorWidth = width / 8 * 8
  var r = 0
  while r < rows {
    let end = Swift.min(rows, r + 1024)
    partial.initialize(repeating: 0, count: width)
    for row in r..<end {
      let p = src + row * cols + columns.lowerBound
      var c = 0
      while c < vectorWidth {
        store8(load8(partial + c) + load8(p + c), partial + c)
        c += 8
      }
      while c < width {
        partial[c] += p[c]
        c += 1
      }
    }
    for c in 0..<width { total[c] += Double(partial[c]) }
    r = end
  }
  for c in 0..<width { dst[columns.lowerBound + c] = Float(total[c] / divisor) }
}
