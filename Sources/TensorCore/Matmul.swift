// Matmul: torch.matmul semantics (1-D promotion, broadcast batches), bmm and a fused linear layer op.

extension Tensor {
  /// Matrix product with `torch.matmul` rules: 1-D operands are promoted, batch dims broadcast.
  public func matmul(_ other: Tensor) throws -> Tensor {
    try requireFloat("matmul")
    try other.requireFloat("matmul")
    guard rank >= 1, other.rank >= 1 else {
      throw TensorError.shape("matmul", "both operands need at least one dimension, got \(shapeString(shape)) and \(shapeString(other.shape))")
    }
    let a = rank == 1 ? try unsqueeze(0) : self
    let b = other.rank == 1 ? try other.unsqueeze(1) : other
    guard a.shape[a.rank - 1] == b.shape[b.rank - 2] else {
      throw TensorError.shape(
        "matmul",
        "\(shapeString(shape)) x \(shapeString(other.shape)): inner dimensions \(a.shape[a.rank - 1]) and \(b.shape[b.rank - 2]) differ")
    }
    var out = try a.batchedMatmul(b)
    if other.rank == 1 { out = try out.squeeze(out.rank - 1) }
    if rank == 1 { out = try out.squeeze(out.rank - 2) }
    return out
  }

  /// Batched product of two tensors of rank >= 2 with broadcast batch dimensions.
  func batchedMatmul(_ b: Tensor) throws -> Tensor {
    let a = self
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
    let batch = try broadcastShapes(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
    let out = Tensor(shape: batch + [m, n], zeroed: false)
    let nb = elementCount(batch)
    if b.rank == 2 && a.isContiguous {
      // Fold the batch of A into its rows: one large GEMM.
      let (bKeep, opB) = b.matrixOperand()
      Gemm.parallel(MatrixOperand(rowMajor: a.data, cols: k), opB, out.data, ldc: n, m: nb * m, n: n, k: k)
      withExtendedLifetime(bKeep) {}
    } else {
      let ea = try a.detach().expand(batch + [m, k]), eb = try b.detach().expand(batch + [k, n])
      let (aKeep, opA) = ea.matrixOperand(), (bKeep, opB) = eb.matrixOperand()
      let offA = Tensor.batchOffsets(aKeep, batch), offB = Tensor.batchOffsets(bKeep, batch)
      let run: (Int, Bool) -> Void = { i, split in
        var pa = opA, pb = opB
        pa.pointer = opA.pointer + offA[i]
        pb.pointer = opB.pointer + offB[i]
        if split {
          Gemm.parallel(pa, pb, out.data + i * m * n, ldc: n, m: m, n: n, k: k)
        } else {
          Gemm.serial(pa, pb, out.data + i * m * n, ldc: n, m: m, n: n, k: k)
        }
      }
      if nb >= Parallel.threads {
        Parallel.forEach(nb) { run($0, false) }
      } else {
        for i in 0..<nb { run(i, true) }
      }
      withExtendedLifetime((aKeep, bKeep)) {}
    }
    return out.record("matmul", [a, b]) { g in
      [
        a.requiresGrad ? try g.matmul(b.detach().transpose(-1, -2)).sumTo(a.shape) : nil,
        b.requiresGrad ? try a.detach().transpose(-1, -2).matmul(g).sumTo(b.shape) : nil,
      ]
    }
  }

  /// Element offsets (relative to the operand's data pointer) of each batch matrix.
  static func batchOffsets(_ t: Tensor, _ batch: [Int]) -> [Int] {
    var offsets: [Int] = []
    offsets.reserveCapacity(elementCount(batch))
    Tensor.visitPositions(batch) { _, pos in
      var o = 0
      for (d, p) in pos.enumerated() { o += p * t.strides[d] }
      offsets.append(o)
    }
    if batch.isEmpty { offsets = [0] }
    return offsets
  }

  /// Batched matrix product of two 3-D tensors [B, M, K] x [B, K, N].
  public func bmm(_ other: Tensor) throws -> Tensor {
    guard rank == 3, other.rank == 3, shape[0] == other.shape[0] else {
      throw TensorError.shape("bmm", "expected [B,M,K] and [B,K,N], got \(shapeString(shape)) and \(shapeString(other.shape))")
    }
    return try matmul(other)
  }

  /// x [..., in] · weightᵀ [out, in] + bias [out] (+ residual [..., out]), fused: the bias (and
  /// the residual) initialise the output and the product is added to it, so a layer followed by a
  /// skip connection costs no separate add pass.
  public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor? = nil) throws -> Tensor {
    try x.requireFloat("linear")
    try weight.requireFloat("linear")
    try bias?.requireFloat("linear")
    try residual?.requireFloat("linear")
    guard weight.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[1] else {
      throw TensorError.shape(
        "linear", "input \(shapeString(x.shape)) does not match weight \(shapeString(weight.shape)) (expected [..., \(weight.rank == 2 ? weight.shape[1] : -1)])")
    }
    let outF = weight.shape[0], inF = weight.shape[1]
    if let bias, bias.shape != [outF] {
      throw TensorError.shape("linear", "bias \(shapeString(bias.shape)) does not match \(outF) output features")
    }
    let outShape = Array(x.shape.dropLast()) + [outF]
    if let residual, residual.shape != outShape {
      throw TensorError.shape("linear", "residual \(shapeString(residual.shape)) does not match the output \(shapeString(outShape))")
    }
    let rows = elementCount(Array(x.shape.dropLast()))
    let xc = x.isContiguous ? x.detach() : x.contiguousCopy()
    let out: Tensor
    if UnpackedGemm.applies(k: inF, n: outF, avx512: VectorDispatch.useAVX512) {
      out = Tensor(shape: outShape, zeroed: false)
      let wT = try weight.detach().transpose(0, 1).contiguousCopy()
      let bc = bias.map { $0.isContiguous ? $0 : $0.contiguousCopy() }
      let rc = residual.map { $0.isContiguous ? $0 : $0.contiguousCopy() }
      withExtendedLifetime((wT, bc, rc)) {
        UnpackedGemm.run(
          a: xc.data, m: rows, k: inF, b: wT.data, n: outF, bias: bc?.data, residual: rc?.data, c: out.data)
      }
    } else {
      out = Tensor(shape: outShape, zeroed: bias == nil && residual == nil)
      initialiseRows(out, rows: rows, bias: bias, residual: residual)
      let (wKeep, opW) = try weight.detach().transpose(0, 1).matrixOperand()
      Gemm.parallel(
        MatrixOperand(rowMajor: xc.data, cols: inF), opW, out.data, ldc: outF, m: rows, n: outF, k: inF,
        beta: bias == nil && residual == nil ? 0 : 1)
      withExtendedLifetime(wKeep) {}
    }
    let inputs = [x, weight] + [bias, residual].compactMap { $0 }
    return out.record("linear", inputs) { g in
      let g2 = try g.reshape([rows, outF])
      let x2 = try xc.reshape([rows, inF])
      var grads: [Tensor?] = [
        x.requiresGrad
          ? try (UnpackedGemm.product(g2, weight.detach()) ?? g2.matmul(weight.detach())).reshape(x.shape) : nil,
        weight.requiresGrad ? try UnpackedGemm.transposedProduct(g2, x2) ?? g2.transpose(0, 1).matmul(x2) : nil,
      ]
      if let bias { grads.append(bias.requiresGrad ? try g2.sum(axes: [0]) : nil) }
      if let residual { grads.append(residual.requiresGrad ? g : nil) }
      return grads
    }
  }

  /// Each of the `rows` rows of `out` [rows, n] set to bias + the residual's row (either may be
  /// absent; with neither, nothing is written).
  private static func initialiseRows(_ out: Tensor, rows: Int, bias: Tensor?, residual: Tensor?) {
    guard bias != nil || residual != nil else { return }
    let n = out.shape[out.rank - 1]
    let bc = bias.map { $0.isContiguous ? $0 : $0.contiguousCopy() }
    let rc = residual.map { $0.isContiguous ? $0 : $0.contiguousCopy() }
    withExtendedLifetime((bc, rc)) {
      Parallel.forRange(rows, grain: Swift.max(1, 32_768 / Swift.max(n, 1))) { b, e in
        for r in b..<e {
          let row = out.data + r * n
          switch (bc, rc) {
          case (let bias?, let residual?):
            let source = residual.data + r * n, b = bias.data
            for c in 0..<n { row[c] = source[c] + b[c] }
          case (let bias?, nil): row.update(from: bias.data, count: n)
          case (nil, let residual?): row.update(from: residual.data + r * n, count: n)
          case (nil, nil): break
          }
        }
      }
    }
  }
}
