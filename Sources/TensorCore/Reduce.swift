// Reduce: sums, means, variances, extrema, logsumexp over any axes, and sumTo for broadcast grads.

#if canImport(Glibc)
  import Glibc
#endif

/// A tensor viewed as [outer, reduced] rows, ready for row-wise reduction.
struct RowLayout {
  let rows: Tensor  // contiguous, shape [outer * reduced]
  let outer: Int
  let reduced: Int
  /// Output shape with keepdim and without.
  let keptShape: [Int]
  let squeezedShape: [Int]
}

extension Tensor {
  /// Moves `axes` last and makes the tensor contiguous (a copy only when needed).
  func rowLayout(_ axesIn: [Int]?, op: String) throws -> (RowLayout, [Int]) {
    try requireFloat(op)
    let axes = try normalizeAxes(axesIn, rank: rank, op: op)
    let kept = (0..<rank).filter { !axes.contains($0) }
    let perm = kept + axes
    let moved = perm == Array(0..<rank) ? self : try detach().permute(perm)
    let src = moved.isContiguous ? moved : moved.contiguousCopy()
    let reduced = axes.reduce(1) { $0 * shape[$1] }
    var keptShape = shape
    for a in axes { keptShape[a] = 1 }
    let layout = RowLayout(
      rows: src, outer: kept.reduce(1) { $0 * shape[$1] }, reduced: reduced,
      keptShape: keptShape, squeezedShape: kept.map { shape[$0] })
    return (layout, axes)
  }

  /// Reduces each row with `f(rowPointer, length) -> value`.
  @inline(__always)
  static func reduceRows(_ l: RowLayout, keepdim: Bool, _ f: (UnsafePointer<Float>, Int) -> Float) -> Tensor {
    let out = Tensor(shape: keepdim ? l.keptShape : l.squeezedShape, zeroed: false)
    let src = l.rows.data, dst = out.data, r = l.reduced
    Parallel.forRange(l.outer, grain: Swift.max(1, 16384 / Swift.max(r, 1))) { b, e in
      for i in b..<e { dst[i] = f(src + i * r, r) }
    }
    return out
  }

  /// Gradient `g` of a reduction broadcast back to this tensor's shape.
  func expandReduced(_ g: Tensor, keptShape: [Int]) throws -> Tensor {
    try g.reshape(keptShape).expand(shape)
  }

  /// Sum over `axes` (nil = all).
  public func sum(axes: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
    try requireFloat("sum")
    if let (out, kept) = leadingAxesSum(try normalizeAxes(axes, rank: rank, op: "sum"), keepdim: keepdim) {
      return out.record("sum", [self]) { g in [try self.expandReduced(g, keptShape: kept)] }
    }
    let (l, _) = try rowLayout(axes, op: "sum")
    let out = Tensor.reduceRows(l, keepdim: keepdim) { p, n in rowSum(p, n) }
    return out.record("sum", [self]) { g in [try self.expandReduced(g, keptShape: l.keptShape)] }
  }

  /// Mean over `axes` (nil = all).
  public func mean(axes: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
    try requireFloat("mean")
    let normalized = try normalizeAxes(axes, rank: rank, op: "mean")
    let count = normalized.reduce(1) { $0 * shape[$1] }
    if count > 0, let (out, kept) = leadingAxesSum(normalized, keepdim: keepdim, divisor: count) {
      return out.record("mean", [self]) { g in [try self.expandReduced(g.scaled(1 / Float(count)), keptShape: kept)] }
    }
    let (l, _) = try rowLayout(axes, op: "mean")
    let n = Float(Swift.max(l.reduced, 1))
    let out = Tensor.reduceRows(l, keepdim: keepdim) { p, r in r == 0 ? .nan : rowSum(p, r) / n }
    return out.record("mean", [self]) { g in [try self.expandReduced(g.scaled(1 / n), keptShape: l.keptShape)] }
  }

  /// Variance over `axes`; `unbiased` divides by n - 1 (PyTorch's default).
  public func variance(axes: [Int]? = nil, unbiased: Bool = true, keepdim: Bool = false) throws -> Tensor {
    try moments(axes: axes, unbiased: unbiased, keepdim: keepdim, std: false)
  }

  /// Standard deviation over `axes`; `unbiased` divides by n - 1.
  public func std(axes: [Int]? = nil, unbiased: Bool = true, keepdim: Bool = false) throws -> Tensor {
    try moments(axes: axes, unbiased: unbiased, keepdim: keepdim, std: true)
  }

  private func moments(axes: [Int]?, unbiased: Bool, keepdim: Bool, std: Bool) throws -> Tensor {
    let name = std ? "std" : "var"
    let (l, _) = try rowLayout(axes, op: name)
    let denom = Float(l.reduced - (unbiased ? 1 : 0))
    let out = Tensor.reduceRows(l, keepdim: keepdim) { p, n in
      let m = rowSum(p, n) / Float(n)
      var acc: Double = 0
      for i in 0..<n { let d = Double(p[i] - m); acc += d * d }
      let v = Float(acc) / denom
      return std ? v.squareRoot() : v
    }
    let x = self, saved = out.detach()  // not `out`: that would be a retain cycle
    return out.record(name, [x]) { g in
      let mean = try x.detach().mean(axes: axes, keepdim: true)
      let centered = try x.detach() - mean
      let gk = try g.reshape(l.keptShape)
      if std {
        let sd = try saved.reshape(l.keptShape)
        return [try broadcastTernary(gk, centered, sd, op: "std_backward") { g, c, s in g * c / (denom * s) }]
      }
      return [try broadcastBinary(gk, centered, op: "var_backward") { g, c in g * 2 * c / denom }]
    }
  }

  /// Max over one axis with the index of the first maximum (NaN wins, like PyTorch).
  public func max(axis: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
    try extremum(axis: axis, keepdim: keepdim, name: "max") { $0 > $1 }
  }

  /// Min over one axis with the index of the first minimum.
  public func min(axis: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
    try extremum(axis: axis, keepdim: keepdim, name: "min") { $0 < $1 }
  }

  /// Max over `axes` (nil = all); the gradient is shared evenly among ties.
  public func max(axes: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
    try extremumValues(axes: axes, keepdim: keepdim, name: "max") { $0 > $1 }
  }

  /// Min over `axes` (nil = all); the gradient is shared evenly among ties.
  public func min(axes: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
    try extremumValues(axes: axes, keepdim: keepdim, name: "min") { $0 < $1 }
  }

  /// Index of the maximum along `axis` (nil = over the flattened tensor), as Int64.
  public func argmax(axis: Int? = nil, keepdim: Bool = false) throws -> Tensor {
    guard let axis else { return try detach().reshape([count]).max(axis: 0).indices }
    return try self.max(axis: axis, keepdim: keepdim).indices
  }

  /// Index of the minimum along `axis` (nil = over the flattened tensor), as Int64.
  public func argmin(axis: Int? = nil, keepdim: Bool = false) throws -> Tensor {
    guard let axis else { return try detach().reshape([count]).min(axis: 0).indices }
    return try self.min(axis: axis, keepdim: keepdim).indices
  }

  private func extremum(
    axis: Int, keepdim: Bool, name: String, better: @escaping (Float, Float) -> Bool
  ) throws -> (values: Tensor, indices: Tensor) {
    let (l, axes) = try rowLayout([axis], op: name)
    guard l.reduced > 0 else { throw TensorError.argument(name, "cannot reduce an empty dimension") }
    let outShape = keepdim ? l.keptShape : l.squeezedShape
    let values = Tensor(shape: outShape, zeroed: false)
    let indices = Tensor(shape: outShape, dtype: .int64, zeroed: false)
    let r = l.reduced
    for i in 0..<l.outer {
      let p = l.rows.data + i * r
      var best = p[0], at = 0
      for j in 1..<r where !best.isNaN && (better(p[j], best) || p[j].isNaN) {
        best = p[j]
        at = j
      }
      values.data[i] = best
      indices.intData[i] = Int64(at)
    }
    let x = self, ax = axes[0]
    values.record(name, [x]) { g in
      let gi = Tensor(shape: x.shape)
      let idx = try indices.reshape(l.keptShape)
      return [try gi.scatterAdd(axis: ax, index: idx, source: g.reshape(l.keptShape))]
    }
    return (values, indices)
  }

  private func extremumValues(
    axes: [Int]?, keepdim: Bool, name: String, better: @escaping (Float, Float) -> Bool
  ) throws -> Tensor {
    let (l, _) = try rowLayout(axes, op: name)
    guard l.reduced > 0 else { throw TensorError.argument(name, "cannot reduce an empty tensor") }
    let out = Tensor.reduceRows(l, keepdim: keepdim) { p, n in
      var best = p[0]
      for j in 1..<n where !best.isNaN && (better(p[j], best) || p[j].isNaN) { best = p[j] }
      return best
    }
    let x = self, saved = out.detach()
    return out.record(name, [x]) { g in
      let m = try saved.reshape(l.keptShape)
      let mask = try x.detach().compare(m, .eq)
      let ties = try mask.sum(axes: axes, keepdim: true)
      return [try broadcastTernary(mask, try g.reshape(l.keptShape), ties, op: name) { $0 * $1 / $2 }]
    }
  }

  /// log(sum(exp(x))) over `axes`, computed stably.
  public func logsumexp(axes: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
    let (l, _) = try rowLayout(axes, op: "logsumexp")
    let out = Tensor.reduceRows(l, keepdim: keepdim) { p, n in
      let m = rowMax(p, n)
      if !m.isFinite { return m }
      var s: Double = 0
      for i in 0..<n { s += Double(fastExp(p[i] - m)) }
      return m + Float(Glibc.log(s))
    }
    let x = self, saved = out.detach()
    return out.record("logsumexp", [x]) { g in
      [try broadcastTernary(x.detach(), saved.reshape(l.keptShape), g.reshape(l.keptShape), op: "logsumexp_backward") {
        fastExp($0 - $1) * $2
      }]
    }
  }

  /// Sums a broadcast gradient back down to `target` (the inverse of broadcasting).
  public func sumTo(_ target: [Int]) throws -> Tensor {
    if shape == target { return self }
    let lead = rank - target.count
    guard lead >= 0 else { throw TensorError.shape("sum_to", "cannot reduce \(shapeString(shape)) to \(shapeString(target))") }
    var axes = Array(0..<lead)
    for (i, d) in target.enumerated() where d != shape[lead + i] {
      guard d == 1 else { throw TensorError.shape("sum_to", "cannot reduce \(shapeString(shape)) to \(shapeString(target))") }
      axes.append(lead + i)
    }
    let s = axes.isEmpty ? self : try sum(axes: axes, keepdim: true)
    return try s.reshape(target)
  }
}
