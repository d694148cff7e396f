// Combine: concat, stack, split, chunk, flip, repeat and pad.

extension Tensor {
  /// Joins tensors along `axis`; all other dimensions must match.
  public static func cat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
    guard let first = tensors.first else { throw TensorError.argument("cat", "expected at least one tensor") }
    let a = try normalizeDim(axis, rank: first.rank, op: "cat")
    for t in tensors {
      try t.requireFloat("cat")
      guard t.rank == first.rank,
        (0..<t.rank).allSatisfy({ $0 == a || t.shape[$0] == first.shape[$0] })
      else {
        throw TensorError.shape(
          "cat", "shapes \(tensors.map { shapeString($0.shape) }.joined(separator: ", ")) differ outside dimension \(axis)")
      }
    }
    var shape = first.shape
    shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
    let out = Tensor(shape: shape, zeroed: false)
    // Each input is `outer` contiguous blocks of shape[a]·inner floats, copied to their place in
    // every one of the output's `outer` rows.
    let outer = elementCount(Array(shape[..<a])), inner = elementCount(Array(shape[(a + 1)...]))
    let outRow = shape[a] * inner
    var at = 0
    var ranges: [(Int, Int)] = []
    for t in tensors {
      let src = t.isContiguous ? t.detach() : t.contiguousCopy(), block = t.shape[a] * inner, offset = at * inner
      withExtendedLifetime(src) {
        Parallel.forRange(outer, grain: Swift.max(1, 65_536 / Swift.max(block, 1))) { o0, o1 in
          for o in o0..<o1 { (out.data + o * outRow + offset).update(from: src.data + o * block, count: block) }
        }
      }
      ranges.append((at, t.shape[a]))
      at += t.shape[a]
    }
    return out.record("cat", tensors) { g in
      try ranges.map { try g.narrow(a, start: $0.0, length: $0.1) }
    }
  }

  /// Joins same-shaped tensors along a new `axis`.
  public static func stack(_ tensors: [Tensor], axis: Int) throws -> Tensor {
    guard let first = tensors.first else { throw TensorError.argument("stack", "expected at least one tensor") }
    for t in tensors where t.shape != first.shape {
      throw TensorError.shape("stack", "all tensors must have the same shape, got \(shapeString(first.shape)) and \(shapeString(t.shape))")
    }
    let a = axis < 0 ? axis + first.rank + 1 : axis
    return try cat(tensors.map { try $0.unsqueeze(a) }, axis: a)
  }

  /// Splits along `axis` into pieces of `size` (the last may be smaller); views.
  public func split(_ size: Int, axis: Int) throws -> [Tensor] {
    let a = try normalizeDim(axis, rank: rank, op: "split")
    guard size > 0 else { throw TensorError.argument("split", "split size must be positive (got \(size))") }
    return try stride(from: 0, to: shape[a], by: size).map {
      try narrow(a, start: $0, length: Swift.min(size, shape[a] - $0))
    }
  }

  /// Splits along `axis` into pieces of the given sizes, which must add up to the dimension.
  public func split(sizes: [Int], axis: Int) throws -> [Tensor] {
    let a = try normalizeDim(axis, rank: rank, op: "split")
    guard sizes.reduce(0, +) == shape[a], sizes.allSatisfy({ $0 >= 0 }) else {
      throw TensorError.argument("split", "sizes \(sizes) do not add up to dimension \(axis) of size \(shape[a])")
    }
    var at = 0
    return try sizes.map { s in
      defer { at += s }
      return try narrow(a, start: at, length: s)
    }
  }

  /// Splits into `chunks` nearly equal pieces along `axis` (like `torch.chunk`).
  public func chunk(_ chunks: Int, axis: Int) throws -> [Tensor] {
    guard chunks > 0 else { throw TensorError.argument("chunk", "chunks must be positive (got \(chunks))") }
    let a = try normalizeDim(axis, rank: rank, op: "chunk")
    return try split(Swift.max(1, (shape[a] + chunks - 1) / chunks), axis: a)
  }

  /// Reverses the order of elements along `axes`.
  public func flip(_ axesIn: [Int]) throws -> Tensor {
    let axes = try normalizeAxes(axesIn, rank: rank, op: "flip").filter { $0 < rank }
    var st = strides, off = offset
    for a in axes where shape[a] > 0 {
      off += (shape[a] - 1) * strides[a]
      st[a] = -strides[a]
    }
    let out = view(shape: shape, strides: st, offset: off).contiguousCopy()
    return out.record("flip", [self]) { g in [try g.flip(axes)] }
  }

  /// Tiles the tensor `repeats[i]` times along each dimension (like `torch.Tensor.repeat`).
  public func `repeat`(_ repeats: [Int]) throws -> Tensor {
    guard repeats.count >= rank, repeats.allSatisfy({ $0 >= 0 }) else {
      throw TensorError.argument("repeat", "need at least \(rank) non-negative repeat counts, got \(repeats)")
    }
    let padded = [Int](repeating: 1, count: repeats.count - rank) + shape
    var inter: [Int] = [], expanded: [Int] = [], final: [Int] = []
    for (r, d) in zip(repeats, padded) {
      inter += [1, d]
      expanded += [r, d]
      final.append(r * d)
    }
    return try reshape(inter).expand(expanded).contiguous().reshape(final)
  }

  /// Constant padding; `pad` lists (before, after) pairs starting from the last dimension,
  /// as `torch.nn.functional.pad` does.
  public func pad(_ pad: [Int], value: Float = 0) throws -> Tensor {
    guard pad.count % 2 == 0, pad.count / 2 <= rank else {
      throw TensorError.argument("pad", "padding \(pad) must hold (before, after) pairs for at most \(rank) dimensions")
    }
    var shape = self.shape
    var starts = [Int](repeating: 0, count: rank)
    for i in 0..<(pad.count / 2) {
      let d = rank - 1 - i
      shape[d] += pad[2 * i] + pad[2 * i + 1]
      starts[d] = pad[2 * i]
      guard shape[d] >= 0, pad[2 * i] >= 0, pad[2 * i + 1] >= 0 else {
        throw TensorError.argument("pad", "negative padding \(pad) is not supported")
      }
    }
    let out = Tensor.full(shape, value)
    var region = out.detach()
    for d in 0..<rank { region = try region.narrow(d, start: starts[d], length: self.shape[d]) }
    try region.assign(self)
    let original = self.shape
    return out.record("pad", [self]) { g in
      var r = g
      for d in 0..<original.count { r = try r.narrow(d, start: starts[d], length: original[d]) }
      return [r]
    }
  }
}
