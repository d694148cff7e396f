// Indexing: index_select, gather, scatter_add and embedding lookup, with bounds-checked indices.

extension Tensor {
  /// Reads an index tensor as Ints, checking every value against `size`.
  func indexValues(_ op: String, size: Int) throws -> [Int] {
    let raw: [Int64] = try dtype == .int64 ? toInts() : toArray().map { f in
      guard f.isFinite, f > -1, f < Float(size) else {
        throw TensorError(.index, op: op, "index \(f) is out of bounds for a dimension of size \(size)")
      }
      return Int64(f)
    }
    return try raw.map { v in
      guard v >= 0, v < Int64(size) else {
        throw TensorError(.index, op: op, "index \(v) is out of bounds for a dimension of size \(size)")
      }
      return Int(v)
    }
  }

  /// Rows (along `axis`) picked by a 1-D index tensor.
  public func indexSelect(_ axis: Int, _ index: Tensor) throws -> Tensor {
    try requireFloat("index_select")
    guard index.rank <= 1 else {
      throw TensorError.shape("index_select", "index must be 1-D, got \(shapeString(index.shape))")
    }
    let a = try normalizeDim(axis, rank: rank, op: "index_select")
    let idx = try index.indexValues("index_select", size: shape[a])
    let src = isContiguous ? self : contiguousCopy()
    let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *), n = shape[a]
    var outShape = shape
    outShape[a] = idx.count
    let out = Tensor(shape: outShape, zeroed: false)
    let s = src.data, d = out.data
    Parallel.forRange(outer * idx.count, grain: Swift.max(1, 16384 / Swift.max(inner, 1))) { b, e in
      for k in b..<e {
        let o = k / idx.count, j = k % idx.count
        (d + k * inner).update(from: s + (o * n + idx[j]) * inner, count: inner)
      }
    }
    let original = shape
    return out.record("index_select", [self]) { g in
      let gi = Tensor(shape: original)
      let gc = g.isContiguous ? g : g.contiguousCopy()
      for o in 0..<outer {
        for (j, row) in idx.enumerated() {
          let dst = gi.data + (o * n + row) * inner, srcRow = gc.data + (o * idx.count + j) * inner
          for t in 0..<inner { dst[t] += srcRow[t] }
        }
      }
      return [gi]
    }
  }

  /// out[..., j, ...] = self[..., index[..., j, ...], ...] along `axis` (like `torch.gather`).
  public func gather(_ axis: Int, _ index: Tensor) throws -> Tensor {
    try requireFloat("gather")
    let a = try normalizeDim(axis, rank: rank, op: "gather")
    guard index.rank == rank, (0..<rank).allSatisfy({ $0 == a || index.shape[$0] <= shape[$0] }) else {
      throw TensorError.shape("gather", "index \(shapeString(index.shape)) does not fit input \(shapeString(shape)) along dimension \(axis)")
    }
    let idx = try index.indexValues("gather", size: shape[a])
    let src = isContiguous ? self : contiguousCopy()
    let out = Tensor(shape: index.shape, zeroed: false)
    let srcStrides = contiguousStrides(shape)
    Tensor.visitPositions(index.shape) { linear, pos in
      var off = 0
      for d in 0..<pos.count { off += (d == a ? idx[linear] : pos[d]) * srcStrides[d] }
      out.data[linear] = src.data[off]
    }
    let original = shape
    return out.record("gather", [self]) { g in
      [try Tensor(shape: original).scatterAdd(axis: a, index: index, source: g)]
    }
  }

  /// A copy of this tensor with `source` added at the positions `index` names along `axis`.
  public func scatterAdd(axis: Int, index: Tensor, source: Tensor) throws -> Tensor {
    try requireFloat("scatter_add")
    try source.requireFloat("scatter_add")
    let a = try normalizeDim(axis, rank: rank, op: "scatter_add")
    guard index.rank == rank, source.rank == rank,
      (0..<rank).allSatisfy({ index.shape[$0] <= source.shape[$0] && ($0 == a || index.shape[$0] <= shape[$0]) })
    else {
      throw TensorError.shape(
        "scatter_add", "index \(shapeString(index.shape)), source \(shapeString(source.shape)) and input \(shapeString(shape)) do not fit")
    }
    let idx = try index.indexValues("scatter_add", size: shape[a])
    let out = contiguousCopy()
    let srcStrides = source.strides, outStrides = out.strides
    let srcBase = source.storage.floats + source.offset
    Tensor.visitPositions(index.shape) { linear, pos in
      var o = 0, s = 0
      for d in 0..<pos.count {
        o += (d == a ? idx[linear] : pos[d]) * outStrides[d]
        s += pos[d] * srcStrides[d]
      }
      out.data[o] += srcBase[s]
    }
    return out
  }

  /// Calls `body(linearIndex, multiIndex)` for every position of `shape` in row-major order.
  static func visitPositions(_ shape: [Int], _ body: (Int, [Int]) -> Void) {
    let n = elementCount(shape)
    if n == 0 { return }
    var pos = [Int](repeating: 0, count: shape.count)
    for linear in 0..<n {
      body(linear, pos)
      var d = shape.count - 1
      while d >= 0 {
        pos[d] += 1
        if pos[d] < shape[d] { break }
        pos[d] = 0
        d -= 1
      }
    }
  }

  /// Looks up rows of `weight` [V, D] for integer `ids` of any shape: result [ids..., D].
  public static func embedding(_ ids: Tensor, weight: Tensor) throws -> Tensor {
    guard weight.rank == 2 else {
      throw TensorError.shape("embedding", "weight must be [num_embeddings, dim], got \(shapeString(weight.shape))")
    }
    let flat = ids.dtype == .int64 ? ids : ids.to(.int64)
    let rows: Tensor
    do {
      rows = try weight.indexSelect(0, flat.detach().reshape([ids.count]))
    } catch let e as TensorError {
      throw TensorError(e.kind, op: "embedding", e.message)
    }
    return try rows.reshape(ids.shape + [weight.shape[1]])
  }
}
