// Creation: tensors from values, constants, ranges and identity; copies and element access.

extension Tensor {
  /// A float tensor from row-major values; `shape` defaults to a 1-D tensor.
  public convenience init(_ values: [Float], shape: [Int]? = nil) {
    let shp = shape ?? [values.count]
    self.init(shape: shp, zeroed: false)
    values.withUnsafeBufferPointer { src in
      for i in 0..<Swift.min(values.count, count) { data[i] = src[i] }
    }
  }

  /// Throws when `values.count` does not fill `shape`, then builds the tensor.
  public static func from(_ values: [Float], shape: [Int]) throws -> Tensor {
    guard shape.allSatisfy({ $0 >= 0 }), elementCount(shape) == values.count else {
      throw TensorError.shape("tensor", "\(values.count) values cannot fill shape \(shapeString(shape))")
    }
    return Tensor(values, shape: shape)
  }

  /// An Int64 tensor from row-major values.
  public convenience init(ints values: [Int64], shape: [Int]? = nil) {
    let shp = shape ?? [values.count]
    self.init(shape: shp, dtype: .int64, zeroed: false)
    for i in 0..<Swift.min(values.count, count) { intData[i] = values[i] }
  }

  /// A 0-d float tensor.
  public static func scalar(_ value: Float) -> Tensor { Tensor([value], shape: []) }

  public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor { Tensor(shape: shape, dtype: dtype) }

  public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

  /// A tensor filled with `value`.
  public static func full(_ shape: [Int], _ value: Float) -> Tensor {
    let t = Tensor(shape: shape, zeroed: false)
    let p = t.data
    Parallel.forRange(t.count) { b, e in for i in b..<e { p[i] = value } }
    return t
  }

  /// Values start, start+step, ... below end (like `torch.arange`).
  public static func arange(_ start: Double, _ end: Double, step: Double = 1) throws -> Tensor {
    guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
      throw TensorError.argument("arange", "step must be finite and non-zero (got \(step))")
    }
    let steps = ((end - start) / step).rounded(.up)
    guard steps < 0x1p53 else {
      throw TensorError.argument("arange", "\(start)..<\(end) step \(step) has too many elements")
    }
    let n = steps > 0 ? Int(steps) : 0
    let t = Tensor(shape: [n], zeroed: false)
    for i in 0..<n { t.data[i] = Float(start + Double(i) * step) }
    return t
  }

  /// `count` evenly spaced values from start to end inclusive.
  public static func linspace(_ start: Double, _ end: Double, count: Int) throws -> Tensor {
    guard count >= 0 else { throw TensorError.argument("linspace", "count must be >= 0 (got \(count))") }
    let t = Tensor(shape: [count], zeroed: false)
    let step = count > 1 ? (end - start) / Double(count - 1) : 0
    for i in 0..<count { t.data[i] = Float(start + Double(i) * step) }
    return t
  }

  /// An n x m matrix with ones on the diagonal.
  public static func eye(_ n: Int, _ m: Int? = nil) -> Tensor {
    let cols = m ?? n
    let t = Tensor(shape: [n, cols])
    for i in 0..<Swift.min(n, cols) { t.data[i * cols + i] = 1 }
    return t
  }

  /// Same shape and dtype, filled with zeros.
  public func zerosLike() -> Tensor { Tensor(shape: shape, dtype: dtype) }

  /// A contiguous copy of the values (always a new storage, no autograd link). Strided sources
  /// are copied row by row of the last dimension, in parallel for large tensors.
  public func contiguousCopy() -> Tensor {
    let out = Tensor(shape: shape, dtype: dtype, zeroed: false)
    let n = count
    if n == 0 { return out }
    let esize = dtype.size
    if isContiguous {
      (out.storage.raw).copyMemory(from: storage.raw + offset * esize, byteCount: n * esize)
      return out
    }
    if let transposed = batchedTransposeShape {
      copyBatchedTranspose(transposed, into: out)
      return out
    }
    let innerN = shape[rank - 1], innerS = strides[rank - 1]
    let rows = n / innerN
    let source = storage.raw + offset * esize, destination = out.storage.raw
    Parallel.forRange(rows, grain: Swift.max(1, 16_384 / innerN)) { begin, end in
      var src = sourceOffset(ofRow: begin)
      var idx = rowIndex(begin)
      for r in begin..<end {
        if esize == 4 {
          let s = (source + src * 4).assumingMemoryBound(to: UInt32.self)
          let d = (destination + r * innerN * 4).assumingMemoryBound(to: UInt32.self)
          if innerS == 1 { for j in 0..<innerN { d[j] = s[j] } } else { for j in 0..<innerN { d[j] = s[j * innerS] } }
        } else {
          let s = (source + src * 8).assumingMemoryBound(to: UInt64.self)
          let d = (destination + r * innerN * 8).assumingMemoryBound(to: UInt64.self)
          for j in 0..<innerN { d[j] = s[j * innerS] }
        }
        advanceRow(&idx, &src)
      }
    }
    return out
  }

  /// The multi-index over the leading rank-1 dimensions of row `row` (row-major).
  private func rowIndex(_ row: Int) -> [Int] {
    var idx = [Int](repeating: 0, count: Swift.max(rank - 1, 0))
    var rest = row
    for d in stride(from: rank - 2, through: 0, by: -1) {
      idx[d] = rest % shape[d]
      rest /= shape[d]
    }
    return idx
  }

  /// Storage offset (relative to `offset`) of the first element of row `row`.
  private func sourceOffset(ofRow row: Int) -> Int {
    zip(rowIndex(row), strides).reduce(0) { $0 + $1.0 * $1.1 }
  }

  /// Steps a row multi-index and its storage offset to the next row.
  private func advanceRow(_ idx: inout [Int], _ src: inout Int) {
    var d = rank - 2
    while d >= 0 {
      idx[d] += 1
      src += strides[d]
      if idx[d] < shape[d] { return }
      src -= strides[d] * shape[d]
      idx[d] = 0
      d -= 1
    }
  }

  /// Visits elements in row-major order with (linear index, storage index).
  func forEachStrided(_ body: (Int, Int) -> Void) {
    let n = count
    if n == 0 { return }
    if rank == 0 {
      body(0, offset)
      return
    }
    var idx = [Int](repeating: 0, count: rank)
    var src = offset
    let last = rank - 1
    let innerN = shape[last], innerS = strides[last]
    var linear = 0
    while linear < n {
      for j in 0..<innerN { body(linear + j, src + j * innerS) }
      linear += innerN
      var d = last - 1
      while d >= 0 {
        idx[d] += 1
        src += strides[d]
        if idx[d] < shape[d] { break }
        src -= strides[d] * shape[d]
        idx[d] = 0
        d -= 1
      }
      if d < 0 { break }
    }
  }

  /// This tensor if contiguous, else a contiguous copy that keeps the autograd link.
  public func contiguous() -> Tensor {
    if isContiguous { return self }
    return contiguousCopy().record("contiguous", [self]) { g in [g] }
  }

  /// All values in row-major order as Float (int64 values are converted).
  public func toArray() -> [Float] {
    let c = isContiguous ? self : contiguousCopy()
    if dtype == .int64 { return (0..<count).map { Float(c.intData[$0]) } }
    return Array(UnsafeBufferPointer(start: c.data, count: count))
  }

  /// All values in row-major order as Int64 (float values are truncated).
  public func toInts() -> [Int64] {
    let c = isContiguous ? self : contiguousCopy()
    if dtype == .float32 { return c.to(.int64).toInts() }
    return Array(UnsafeBufferPointer(start: c.intData, count: count))
  }

  /// The single value of a one-element tensor.
  public func item() throws -> Float {
    guard count == 1 else {
      throw TensorError.argument("item", "only one-element tensors convert to a number, got \(shapeString(shape))")
    }
    return dtype == .int64 ? Float(storage.ints[offset]) : storage.floats[offset]
  }

  /// Converts to the given dtype (float -> int64 truncates toward zero).
  public func to(_ target: DType) -> Tensor {
    if target == dtype { return self }
    let out = Tensor(shape: shape, dtype: target, zeroed: false)
    let src = isContiguous ? self : contiguousCopy()
    if target == .float32 {
      for i in 0..<count { out.data[i] = Float(src.intData[i]) }
    } else {
      for i in 0..<count {
        let v = src.data[i]
        out.intData[i] = v.isFinite ? Int64(Swift.max(Swift.min(v, 9.2e18), -9.2e18)) : 0
      }
    }
    return out
  }
}
