// ShapeOps: views (reshape, permute, transpose, expand, narrow, slice) and copies that reshape data.

extension Tensor {
  /// Same data in a new shape; one entry may be -1. A view when the layout allows, else a copy.
  public func reshape(_ newShapeIn: [Int]) throws -> Tensor {
    let newShape = try inferShape(newShapeIn)
    if newShape == shape { return self }
    let src = isContiguous ? self : contiguous()
    let out = src.view(shape: newShape, strides: contiguousStrides(newShape), offset: src.offset)
    let original = shape
    return out.record("reshape", [src]) { g in [try g.reshape(original)] }
  }

  /// Alias of `reshape` (PyTorch's `view`).
  public func view(_ shape: [Int]) throws -> Tensor { try reshape(shape) }

  private func inferShape(_ s: [Int]) throws -> [Int] {
    var out = s
    let unknown = s.indices.filter { s[$0] == -1 }
    guard unknown.count <= 1, s.allSatisfy({ $0 >= -1 }) else {
      throw TensorError.shape("reshape", "invalid target shape \(shapeString(s))")
    }
    let known = s.filter { $0 != -1 }.reduce(1, *)
    if let u = unknown.first {
      guard known > 0, count % known == 0 else {
        throw TensorError.shape("reshape", "cannot reshape \(shapeString(shape)) (\(count) elements) into \(shapeString(s))")
      }
      out[u] = count / known
    }
    guard elementCount(out) == count else {
      throw TensorError.shape("reshape", "cannot reshape \(shapeString(shape)) (\(count) elements) into \(shapeString(s))")
    }
    return out
  }

  /// Reorders dimensions (a view).
  public func permute(_ dims: [Int]) throws -> Tensor {
    guard dims.count == rank else {
      throw TensorError.argument("permute", "expected \(rank) dimensions, got \(dims.count)")
    }
    let d = try dims.map { try normalizeAxis($0, rank: rank, op: "permute") }
    guard Set(d).count == rank else { throw TensorError.argument("permute", "dimensions \(dims) repeat") }
    let out = view(shape: d.map { shape[$0] }, strides: d.map { strides[$0] }, offset: offset)
    var inverse = [Int](repeating: 0, count: rank)
    for (i, x) in d.enumerated() { inverse[x] = i }
    return out.record("permute", [self]) { g in [try g.permute(inverse)] }
  }

  /// Swaps two dimensions (a view).
  public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
    var dims = Array(0..<rank)
    let x = try normalizeAxis(a, rank: rank, op: "transpose"), y = try normalizeAxis(b, rank: rank, op: "transpose")
    dims.swapAt(x, y)
    return try permute(dims)
  }

  /// Inserts a size-1 dimension at `axis`.
  public func unsqueeze(_ axis: Int) throws -> Tensor {
    let a = axis < 0 ? axis + rank + 1 : axis
    guard a >= 0, a <= rank else {
      throw TensorError.argument("unsqueeze", "dimension \(axis) out of range for rank \(rank)")
    }
    var s = shape
    s.insert(1, at: a)
    return try reshape(s)
  }

  /// Removes size-1 dimensions (all, or just `axis`).
  public func squeeze(_ axis: Int? = nil) throws -> Tensor {
    if let axis {
      let a = try normalizeAxis(axis, rank: rank, op: "squeeze")
      if rank == 0 || shape[a] != 1 { return self }
      var s = shape
      s.remove(at: a)
      return try reshape(s)
    }
    return try reshape(shape.filter { $0 != 1 })
  }

  /// Broadcasts size-1 dimensions to `target` without copying (-1 keeps a size).
  public func expand(_ targetIn: [Int]) throws -> Tensor {
    guard targetIn.count >= rank else {
      throw TensorError.shape("expand", "cannot expand \(shapeString(shape)) to fewer dimensions \(shapeString(targetIn))")
    }
    let lead = targetIn.count - rank
    var target = targetIn
    for i in 0..<rank where targetIn[lead + i] == -1 { target[lead + i] = shape[i] }
    guard target.allSatisfy({ $0 >= 0 }) else {
      throw TensorError.shape("expand", "cannot expand \(shapeString(shape)) to \(shapeString(targetIn))")
    }
    for i in 0..<rank where shape[i] != 1 && shape[i] != target[lead + i] {
      throw TensorError.shape("expand", "cannot expand \(shapeString(shape)) to \(shapeString(targetIn))")
    }
    if target == shape { return self }
    let out = view(shape: target, strides: broadcastStrides(shape: shape, strides: strides, to: target), offset: offset)
    let original = shape
    return out.record("expand", [self]) { g in [try g.sumTo(original)] }
  }

  /// Elements `start ..< start+length` along `axis` (a view).
  public func narrow(_ axis: Int, start: Int, length: Int) throws -> Tensor {
    let a = try normalizeDim(axis, rank: rank, op: "narrow")
    let s = start < 0 ? start + shape[a] : start
    guard s >= 0, length >= 0, s + length <= shape[a] else {
      throw TensorError.init(.index, op: "narrow", "range \(start)..<\(start + length) out of bounds for dimension \(axis) of size \(shape[a])")
    }
    return try slice(a, start: s, end: s + length, step: 1)
  }

  /// Python-style slice `start:end:step` along `axis` (a view); bounds are clamped like Python's.
  public func slice(_ axis: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) throws -> Tensor {
    let a = try normalizeDim(axis, rank: rank, op: "slice")
    guard step > 0 else { throw TensorError.argument("slice", "step must be positive (got \(step))") }
    let n = shape[a]
    func clampIndex(_ v: Int?, _ dflt: Int) -> Int {
      guard var v else { return dflt }
      if v < 0 { v += n }
      return Swift.min(Swift.max(v, 0), n)
    }
    let b = clampIndex(start, 0), e = clampIndex(end, n)
    let len = e > b ? (e - b + step - 1) / step : 0
    var s = shape, st = strides
    s[a] = len
    st[a] = strides[a] * step
    let out = view(shape: s, strides: st, offset: offset + b * strides[a])
    let original = shape
    return out.record("slice", [self]) { g in
      let gi = Tensor(shape: original)
      try gi.slice(a, start: b, end: e, step: step).assign(g)
      return [gi]
    }
  }

  /// Copies `src` (broadcast to this shape) into this tensor's elements, in place, without autograd.
  public func assign(_ src: Tensor) throws {
    try requireFloat("assign")
    let expanded = try src.detach().expand(shape)
    let flat = expanded.contiguousCopy()
    if flat.dtype != dtype { throw TensorError.dtype("assign", "cannot copy \(flat.dtype) into \(dtype)") }
    let dst = storage.floats, s = flat.data
    if isContiguous {
      data.update(from: s, count: count)
      return
    }
    forEachStrided { linear, at in dst[at] = s[linear] }
  }

  /// Fills every element with `value`, in place.
  public func fill(_ value: Float) throws { try assign(Tensor.scalar(value)) }
}
