// Shape arithmetic: element counts, contiguous strides, axis normalisation and NumPy broadcasting.

/// Number of elements of a shape (1 for a scalar).
@inlinable
public func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Row-major strides for a shape.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var acc = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[i] = acc
    acc *= Swift.max(shape[i], 1)
  }
  return strides
}

/// Resolves a possibly negative axis against `rank`, or throws naming the op.
func normalizeAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
  let r = Swift.max(rank, 1)
  let a = axis < 0 ? axis + r : axis
  guard a >= 0, a < r else {
    throw TensorError.argument(op, "dimension \(axis) out of range for a tensor of rank \(rank)")
  }
  return a
}

/// Like `normalizeAxis`, for ops that index `shape[axis]`: a 0-d tensor has no dimension to use.
func normalizeDim(_ axis: Int, rank: Int, op: String) throws -> Int {
  guard rank > 0 else { throw TensorError.argument(op, "a 0-d tensor has no dimension \(axis)") }
  return try normalizeAxis(axis, rank: rank, op: op)
}

/// Resolves a list of axes (nil = all) into sorted unique non-negative axes.
func normalizeAxes(_ axes: [Int]?, rank: Int, op: String) throws -> [Int] {
  guard let axes else { return Array(0..<rank) }
  var out: [Int] = []
  for a in axes {
    let n = try normalizeAxis(a, rank: rank, op: op)
    if out.contains(n) { throw TensorError.argument(op, "dimension \(a) repeated") }
    out.append(n)
  }
  return out.sorted()
}

/// The broadcast shape of two shapes under NumPy rules.
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
  let rank = Swift.max(a.count, b.count)
  var out = [Int](repeating: 1, count: rank)
  for i in 0..<rank {
    let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
    let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
    if da == db || db == 1 {
      out[i] = da
    } else if da == 1 {
      out[i] = db
    } else {
      throw TensorError.shape(
        op, "\(shapeString(a)) and \(shapeString(b)) cannot be broadcast (dimension \(i): \(da) vs \(db))")
    }
  }
  return out
}

/// Strides that read a tensor of `shape`/`strides` as if it had `target` shape (0 on broadcast axes).
func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
  let lead = target.count - shape.count
  var out = [Int](repeating: 0, count: target.count)
  for i in 0..<shape.count where shape[i] != 1 || target[i + lead] == 1 {
    out[i + lead] = shape[i] == 1 ? 0 : strides[i]
  }
  return out
}
