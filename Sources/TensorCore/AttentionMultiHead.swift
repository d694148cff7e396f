// AttentionMultiHead: attention over [B, L, H·d] projections, reading row-strided views in place at inference.

extension Tensor {
  /// Multi-head attention on projections q [B, Lq, H·d], k [B, Lk, H·d], v [B, Lk, H·dv]: head i
  /// is the i-th block of d columns. The result is [B, Lq, H·dv] (heads merged). `mask` is
  /// additive and broadcasts to [B, H, Lq, Lk]. The inputs may be row-strided views, such as the
  /// slices of one fused qkv projection: when their last dimension is dense they are read in place,
  /// the output is written merged and the gradients come back in the same [B, L, H·d] layout, with
  /// no per-head copies; otherwise this is heads split + `scaledDotProductAttention` + heads merged.
  public static func multiHeadAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor? = nil, causal: Bool = false, scale: Float? = nil
  ) throws -> Tensor {
    for t in [q, k, v] { try t.requireFloat("multi_head_attention") }
    guard heads > 0, q.rank == 3, k.rank == 3, v.rank == 3, q.shape[0] == k.shape[0], k.shape[0] == v.shape[0],
      k.shape[1] == v.shape[1], q.shape[2] == k.shape[2], q.shape[2] % heads == 0, v.shape[2] % heads == 0
    else {
      throw TensorError.shape(
        "multi_head_attention",
        "q \(shapeString(q.shape)), k \(shapeString(k.shape)), v \(shapeString(v.shape)) do not fit [B, Lq, H·d], [B, Lk, H·d], [B, Lk, H·dv] with H = \(heads)")
    }
    let recording = GradMode.isEnabled && [q, k, v].contains { $0.requiresGrad }
    let rowStrided = [q, k, v].allSatisfy { $0.strides[2] == 1 || $0.shape[2] == 1 }
    if !rowStrided {
      let split = { (t: Tensor) in try t.reshape([t.shape[0], t.shape[1], heads, t.shape[2] / heads]).permute([0, 2, 1, 3]) }
      let out = try scaledDotProductAttention(split(q), split(k), split(v), mask: mask, causal: causal, scale: scale)
      return try out.permute([0, 2, 1, 3]).contiguous().reshape([q.shape[0], q.shape[1], v.shape[2]])
    }
    return try inPlaceMultiHead(q, k, v, heads: heads, mask: mask, causal: causal, scale: scale, recording: recording)
  }

  /// Self-attention on one fused projection qkv [B, L, 3·H·d]: q, k and v are its three column
  /// blocks, as one Linear with the three weights stacked produces them. The heads are read in
  /// place and the backward writes ONE [B, L, 3·H·d] gradient, so a training step runs the three
  /// projections as one GEMM each way (slices of the fused result would each send back a
  /// full-width zero-filled gradient). The result is [B, L, H·d], as `multiHeadAttention` of the
  /// three slices.
  public static func multiHeadSelfAttention(_ qkv: Tensor, heads: Int, causal: Bool = false, scale: Float? = nil) throws
    -> Tensor
  {
    try qkv.requireFloat("multi_head_self_attention")
    guard heads > 0, qkv.rank == 3, qkv.shape[2] % (3 * heads) == 0 else {
      throw TensorError.shape(
        "multi_head_self_attention", "qkv \(shapeString(qkv.shape)) does not fit [B, L, 3·H·d] with H = \(heads)")
    }
    let dense = qkv.strides[2] == 1 || qkv.shape[2] == 1 ? qkv.detach() : qkv.contiguousCopy()
    let inner = qkv.shape[2] / 3
    let (q, k, v) = try (dense.narrow(2, start: 0, length: inner), dense.narrow(2, start: inner, length: inner),
      dense.narrow(2, start: 2 * inner, length: inner))
    let recording = GradMode.isEnabled && qkv.requiresGrad
    let attention = try InPlaceAttention(q, k, v, heads: heads, mask: nil, causal: causal, scale: scale, keepLogSumExp: recording)
    guard recording else { return attention.out }
    let saved = attention.out.detach()
    return attention.out.record("multi_head_self_attention", [qkv]) { g in
      let gqkv = Tensor(shape: dense.shape)
      try attention.backward(
        output: saved, g, into: gqkv.narrow(2, start: 0, length: inner), gqkv.narrow(2, start: inner, length: inner),
        gqkv.narrow(2, start: 2 * inner, length: inner))
      return [gqkv]
    }
  }

  /// The kernels address each head inside the [B, L, H·d] rows; with `recording`, the forward keeps
  /// each row's log-sum-exp and the backward writes dQ, dK, dV in the [B, L, H·d] layout.
  private static func inPlaceMultiHead(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?, causal: Bool, scale: Float?, recording: Bool
  ) throws -> Tensor {
    let attention = try InPlaceAttention(q, k, v, heads: heads, mask: mask, causal: causal, scale: scale, keepLogSumExp: recording)
    guard recording else { return attention.out }
    let saved = attention.out.detach()  // not `out`: the closure would keep its own output alive
    return attention.out.record("multi_head_attention", [q, k, v]) { g in
      let gq = Tensor(shape: q.shape, zeroed: false), gk = Tensor(shape: k.shape), gv = Tensor(shape: v.shape)
      try attention.backward(output: saved, g, into: gq, gk, gv)
      return [gq, gk, gv]
    }
  }
}

/// One in-place multi-head attention forward over [B, L, H·d] row-strided operands, with what its
/// backward needs: the plan, the layouts and (when kept) each row's log-sum-exp.
private struct InPlaceAttention {
  let q: Tensor, k: Tensor, v: Tensor, mask: Tensor?
  let plan: AttentionPlan, layout: HeadLayouts, lse: Tensor?, heads: Int
  let out: Tensor

  init(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?, causal: Bool, scale: Float?, keepLogSumExp: Bool) throws {
    let (b, lq, lk) = (q.shape[0], q.shape[1], k.shape[1])
    let d = q.shape[2] / heads, dv = v.shape[2] / heads
    let batch = [b, heads]
    var expandedMask: Tensor? = nil
    var maskOffsets: [Int] = []
    if let mask {
      try mask.requireFloat("multi_head_attention")
      guard let em = try? mask.detach().expand(batch + [lq, lk]) else {
        throw TensorError.shape("multi_head_attention", "mask \(shapeString(mask.shape)) cannot be broadcast to \(shapeString(batch + [lq, lk]))")
      }
      expandedMask = em
      maskOffsets = Tensor.batchOffsets(em, batch).map { $0 + em.offset }
    }
    plan = AttentionPlan(
      heads: b * heads, lq: lq, lk: lk, d: d, dv: dv, scale: scale ?? 1 / Float(d).squareRoot(),
      causal: causal, mask: expandedMask, maskHeadOffsets: maskOffsets)
    (self.q, self.k, self.v, self.mask, self.heads) = (q, k, v, expandedMask, heads)
    out = Tensor(shape: [b, lq, heads * dv], zeroed: false)
    layout = HeadLayouts(
      q: Self.rows(q, heads: heads, width: d), k: Self.rows(k, heads: heads, width: d), v: Self.rows(v, heads: heads, width: dv),
      o: HeadRows(headsPerBatch: heads, batchStride: lq * heads * dv, headStride: dv, rowStride: heads * dv))
    // The log-sum-exp only when a backward will need it.
    lse = keepLogSumExp ? Tensor(shape: [b * heads, lq], zeroed: false) : nil
    guard b > 0, lq > 0 else { return }
    let (plan, layout, out, lse) = (plan, layout, out, lse)
    withExtendedLifetime((q, k, v, expandedMask, lse)) {
      if plan.fitsSmallHeadKernel {
        Tensor.attentionForwardSmallHead(plan, q.data, k.data, v.data, out.data, lse?.data, layout: layout)
      } else {
        Tensor.attentionForwardBlocked(plan, q.data, k.data, v.data, out.data, lse?.data, layout: layout)
      }
    }
  }

  /// Head rows of a [B, L, H·width] operand with any batch and row strides.
  static func rows(_ t: Tensor, heads: Int, width: Int) -> HeadRows {
    HeadRows(headsPerBatch: heads, batchStride: t.strides[0], headStride: width, rowStride: Swift.max(t.strides[1], 1))
  }

  /// Writes dQ, dK, dV for the upstream gradient `g` of `output` into gq, gk, gv ([B, L, H·d]
  /// views; gk and gv zero-filled, since some kernels accumulate into them).
  func backward(output: Tensor, _ g: Tensor, into gq: Tensor, _ gk: Tensor, _ gv: Tensor) throws {
    guard let lse, q.shape[0] > 0, q.shape[1] > 0 else { return }
    let gc = g.isContiguous ? g : g.contiguousCopy()
    let d = plan.d, dv = plan.dv
    let grads = HeadLayouts(
      q: Self.rows(gq, heads: heads, width: d), k: Self.rows(gk, heads: heads, width: d),
      v: Self.rows(gv, heads: heads, width: dv), o: layout.o)
    withExtendedLifetime((q, k, v, output, lse, gc, gq, gk, gv, mask)) {
      Tensor.attentionBackward(
        plan, q.data, k.data, v.data, output.data, lse.data, gc.data, gq.data, gk.data, gv.data,
        layout: BackwardLayouts(inputs: layout, grads: grads))
    }
  }
}
