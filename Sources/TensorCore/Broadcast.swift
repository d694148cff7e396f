// Broadcast: the strided loop driver behind every elementwise kernel (coalesced dims, parallel rows).

/// A contiguous output iterated in runs along its innermost (coalesced) dimension, with each
/// input read through broadcast strides.
struct BroadcastPlan {
  /// Coalesced sizes, outermost first.
  var sizes: [Int]
  /// Per input, strides matching `sizes`.
  var strides: [[Int]]
  var offsets: [Int]

  init(shape: [Int], inputs: [Tensor]) {
    var sizes: [Int] = []
    var strides: [[Int]] = Array(repeating: [], count: inputs.count)
    let full = inputs.map { broadcastStrides(shape: $0.shape, strides: $0.strides, to: shape) }
    for d in 0..<shape.count where shape[d] != 1 {
      if let last = sizes.last,
        (0..<inputs.count).allSatisfy({ strides[$0].last! == full[$0][d] * shape[d] })
      {
        sizes[sizes.count - 1] = last * shape[d]
        for k in 0..<inputs.count { strides[k][strides[k].count - 1] = full[k][d] }
      } else {
        sizes.append(shape[d])
        for k in 0..<inputs.count { strides[k].append(full[k][d]) }
      }
    }
    if sizes.isEmpty {
      sizes = [1]
      strides = Array(repeating: [0], count: inputs.count)
    }
    self.sizes = sizes
    self.strides = strides
    self.offsets = inputs.map(\.offset)
  }

  var inner: Int { sizes[sizes.count - 1] }
  var rows: Int { sizes.dropLast().reduce(1, *) }

  /// Storage offset of input `k` at the start of row `row`.
  @inline(__always)
  func rowOffset(_ k: Int, _ row: Int) -> Int {
    var r = row
    var off = offsets[k]
    var d = sizes.count - 2
    while d >= 0 {
      let s = sizes[d]
      off += (r % s) * strides[k][d]
      r /= s
      d -= 1
    }
    return off
  }

  /// Calls `body(row, outStart, count)` for every run, split across threads by rows.
  @inline(__always)
  func run(_ body: (Int, Int, Int) -> Void) {
    let inner = self.inner
    let rows = self.rows
    if rows == 1 {
      Parallel.forRange(inner) { b, e in body(0, b, e - b) }
      return
    }
    Parallel.forRange(rows, grain: Swift.max(1, 32768 / Swift.max(inner, 1))) { b, e in
      for r in b..<e { body(r, r * inner, inner) }
    }
  }
}

/// out[i] = f(a[i], b[i]) with broadcasting; the result is a fresh contiguous tensor.
@inline(__always)
func broadcastBinary(
  _ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float
) throws -> Tensor {
  try a.requireFloat(op)
  try b.requireFloat(op)
  let shape = try broadcastShapes(a.shape, b.shape, op: op)
  let out = Tensor(shape: shape, zeroed: false)
  if out.count == 0 { return out }
  let plan = BroadcastPlan(shape: shape, inputs: [a, b])
  let pa = a.storage.floats, pb = b.storage.floats, po = out.data
  let sa = plan.strides[0].last!, sb = plan.strides[1].last!
  let rowsSplit = plan.rows > 1
  plan.run { row, start, n in
    let offA = rowsSplit ? plan.rowOffset(0, row) : plan.offsets[0] + start * sa
    let offB = rowsSplit ? plan.rowOffset(1, row) : plan.offsets[1] + start * sb
    let x = pa + offA, y = pb + offB, o = po + start
    if sa == 1 && sb == 1 {
      for i in 0..<n { o[i] = f(x[i], y[i]) }
    } else if sa == 1 && sb == 0 {
      let c = y[0]
      for i in 0..<n { o[i] = f(x[i], c) }
    } else if sa == 0 && sb == 1 {
      let c = x[0]
      for i in 0..<n { o[i] = f(c, y[i]) }
    } else {
      for i in 0..<n { o[i] = f(x[i * sa], y[i * sb]) }
    }
  }
  return out
}

/// out[i] = f(x[i]) for any layout; the result is a fresh contiguous tensor.
@inline(__always)
func mapUnary(_ x: Tensor, op: String, _ f: (Float) -> Float) throws -> Tensor {
  try x.requireFloat(op)
  let src = x.isContiguous ? x : x.contiguousCopy()
  let out = Tensor(shape: x.shape, zeroed: false)
  mapScalar(src.data, out.data, out.count, f)
  return out
}

/// out[i] = f(a[i], b[i], c[i]) with broadcasting over all three (used by `where` and friends).
func broadcastTernary(
  _ a: Tensor, _ b: Tensor, _ c: Tensor, op: String, _ f: (Float, Float, Float) -> Float
) throws -> Tensor {
  let shape = try broadcastShapes(try broadcastShapes(a.shape, b.shape, op: op), c.shape, op: op)
  let out = Tensor(shape: shape, zeroed: false)
  if out.count == 0 { return out }
  let plan = BroadcastPlan(shape: shape, inputs: [a, b, c])
  let ps = [a.storage.floats, b.storage.floats, c.storage.floats]
  let st = plan.strides.map { $0.last! }
  plan.run { row, start, n in
    let off = (0..<3).map { plan.rows > 1 ? plan.rowOffset($0, row) : plan.offsets[$0] + start * st[$0] }
    for i in 0..<n {
      out.data[start + i] = f(ps[0][off[0] + i * st[0]], ps[1][off[1] + i * st[1]], ps[2][off[2] + i * st[2]])
    }
  }
  return out
}
