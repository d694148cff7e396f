// Softmax: softmax, log_softmax and cumsum along one axis.

#if canImport(Glibc)
  import Glibc
#endif

extension Tensor {
  /// Applies a row kernel along `axis` (moved last when needed), returning the same shape.
  func alongAxis(_ axis: Int, op: String, _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
    throws -> Tensor
  {
    try requireFloat(op)
    let a = try normalizeAxis(axis, rank: rank, op: op)
    let last = Swift.max(rank - 1, 0)
    var perm = Array(0..<rank)
    if rank > 0 { perm.swapAt(a, last) }
    let moved = a == last ? detach() : try detach().permute(perm)
    let src = moved.isContiguous ? moved : moved.contiguousCopy()
    let n = rank == 0 ? 1 : src.shape[last]
    let rows = n == 0 ? 0 : src.count / n
    let out = Tensor(shape: src.shape, zeroed: false)
    let s = src.data, d = out.data
    Parallel.forRange(rows, grain: Swift.max(1, 8192 / Swift.max(n, 1))) { b, e in
      for r in b..<e { kernel(s + r * n, d + r * n, n) }
    }
    return a == last ? out : try out.permute(perm).contiguousCopy()
  }

  /// exp(x - max) normalised to sum 1 along `axis`.
  public func softmax(axis: Int) throws -> Tensor {
    let y = try alongAxis(axis, op: "softmax", softmaxRow)
    let saved = y.detach()  // not `y`: the closure would keep its own output alive (a retain cycle)
    return y.record("softmax", [self]) { g in
      let dot = try (g * saved).sum(axes: [axis], keepdim: true)
      return [try broadcastTernary(g, saved, dot, op: "softmax_backward") { g, y, d in y * (g - d) }]
    }
  }

  /// log(softmax(x)) along `axis`, computed stably.
  public func logSoftmax(axis: Int) throws -> Tensor {
    let y = try alongAxis(axis, op: "log_softmax") { s, d, n in
      let m = rowMax(s, n)
      var acc: Double = 0
      for i in 0..<n { acc += Double(fastExp(s[i] - m)) }
      let lse = m + Float(Glibc.log(acc))
      for i in 0..<n { d[i] = s[i] - lse }
    }
    let saved = y.detach()
    return y.record("log_softmax", [self]) { g in
      let gs = try g.sum(axes: [axis], keepdim: true)
      return [try broadcastTernary(g, saved, gs, op: "log_softmax_backward") { g, y, s in g - fastExp(y) * s }]
    }
  }

  /// Running sum along `axis`.
  public func cumsum(axis: Int) throws -> Tensor {
    let y = try alongAxis(axis, op: "cumsum") { s, d, n in
      var acc: Double = 0
      for i in 0..<n {
        acc += Double(s[i])
        d[i] = Float(acc)
      }
    }
    return y.record("cumsum", [self]) { g in [try g.flip([axis]).cumsum(axis: axis).flip([axis])] }
  }
}

/// Numerically stable softmax of one contiguous row, vectorised.
@inline(__always)
func softmaxRow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
  let m = rowMax(s, n)
  if m == -.infinity {
    for i in 0..<n { d[i] = .nan }
    return
  }
  for i in 0..<n { d[i] = fastExp(s[i] - m) }
  let inv = 1 / rowSum(d, n)
  for j in 0..<n { d[j] *= inv }
}
