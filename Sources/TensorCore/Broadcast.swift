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
      let mergeable = !sizes.isEmpty && (0..<inputs.count).allSatisfy { strides[$0][sizes.count - 1] == full[$0][d] * shape[d] }
      if mergeable {
        sizes[sizes.count - 1] *= shape[d]
        for k in 0..<inputs.count { strides[k][sizes.count - 1] = full[k][d] }
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
  /// Innermost stride of input `k`.
  func innerStride(_ k: Int) -> Int { strides[k][sizes.count - 1] }

  /// Storage offset of input `k` at output element `start` of row `row`.
  @inline(__always)
  func offset(_ k: Int, row: Int, start: Int) -> Int {
    if sizes.count == 1 { return offsets[k] + start * strides[k][0] }
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

  /// Calls `body(row, outStart, count)` for every run, split across threads.
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

/// out[i] = f(x[i]) for any layout; the result is a fresh contiguous tensor.
@inline(__always)
func mapUnary<F: ElementMap>(_ x: Tensor, op: String, _ f: F) throws -> Tensor {
  try x.requireFloat(op)
  let src = x.isContiguous ? x : x.contiguousCopy()
  let out = Tensor(shape: x.shape, zeroed: false)
  let s = UnsafePointer(src.data), d = out.data
  Parallel.forRange(out.count) { begin, end in
    for i in begin..<end { d[i] = f(s[i]) }
  }
  return out
}

func mapUnary(_ x: Tensor, op: String, _ f: @escaping (Float) -> Float) throws -> Tensor {
  try mapUnary(x, op: op, MapClosure(f: f))
}

/// out[i] = f(a[i], b[i]) with broadcasting; the result is a fresh contiguous tensor.
@inline(__always)
func broadcastBinary<F: ElementZip>(_ a: Tensor, _ b: Tensor, op: String, _ f: F) throws -> Tensor {
  try a.requireFloat(op)
  try b.requireFloat(op)
  let shape = try broadcastShapes(a.shape, b.shape, op: op)
  let out = Tensor(shape: shape, zeroed: false)
  if out.count == 0 { return out }
  let plan = BroadcastPlan(shape: shape, inputs: [a, b])
  let pa = UnsafePointer(a.storage.floats), pb = UnsafePointer(b.storage.floats), po = out.data
  let sa = plan.innerStride(0), sb = plan.innerStride(1)
  plan.run { row, start, n in
    let x = pa + plan.offset(0, row: row, start: start), y = pb + plan.offset(1, row: row, start: start)
    let o = po + start
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

func broadcastBinary(_ a: Tensor, _ b: Tensor, op: String, _ f: @escaping (Float, Float) -> Float) throws -> Tensor {
  try broadcastBinary(a, b, op: op, ZipClosure(f: f))
}

/// out[i] = f(a[i], b[i], c[i]) with broadcasting over all three (backward kernels, `where`).
@inline(__always)
func broadcastTernary<F: ElementZip3>(_ a: Tensor, _ b: Tensor, _ c: Tensor, op: String, _ f: F) throws -> Tensor {
  for t in [a, b, c] { try t.requireFloat(op) }
  let shape = try broadcastShapes(try broadcastShapes(a.shape, b.shape, op: op), c.shape, op: op)
  let out = Tensor(shape: shape, zeroed: false)
  if out.count == 0 { return out }
  let plan = BroadcastPlan(shape: shape, inputs: [a, b, c])
  let pa = UnsafePointer(a.storage.floats), pb = UnsafePointer(b.storage.floats)
  let pc = UnsafePointer(c.storage.floats), po = out.data
  let sa = plan.innerStride(0), sb = plan.innerStride(1), sc = plan.innerStride(2)
  plan.run { row, start, n in
    let x = pa + plan.offset(0, row: row, start: start), y = pb + plan.offset(1, row: row, start: start)
    let z = pc + plan.offset(2, row: row, start: start), o = po + start
    if sa == 1 && sb == 1 && sc == 1 {
      for i in 0..<n { o[i] = f(x[i], y[i], z[i]) }
    } else {
      for i in 0..<n { o[i] = f(x[i * sa], y[i * sb], z[i * sc]) }
    }
  }
  return out
}

func broadcastTernary(
  _ a: Tensor, _ b: Tensor, _ c: Tensor, op: String, _ f: @escaping (Float, Float, Float) -> Float
) throws -> Tensor {
  try broadcastTernary(a, b, c, op: op, Zip3Closure(f: f))
}
