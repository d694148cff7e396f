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

  /// The kernels address each head inside the [B, L, H·d] rows; with `recording`, the forward keeps
  /// each row's log-sum-exp and the backward writes dQ, dK, dV in the [B, L, H·d] layout.
  private static func inPlaceMultiHead(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?, causal: Bool, scale: Float?, recording: Bool
  ) throws -> Tensor {
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
    let plan = AttentionPlan(
      heads: b * heads, lq: lq, lk: lk, d: d, dv: dv, scale: scale ?? 1 / Float(d).squareRoot(),
      causal: causal, mask: expandedMask, maskHeadOffsets: maskOffsets)
    let out = Tensor(shape: [b, lq, heads * dv], zeroed: false)
    guard b > 0, lq > 0 else { return out }
    func rows(_ t: Tensor, width: Int) -> HeadRows {
      HeadRows(headsPerBatch: heads, batchStride: t.strides[0], headStride: width, rowStride: Swift.max(t.strides[1], 1))
    }
    let layout = HeadLayouts(
      q: rows(q, width: d), k: rows(k, width: d), v: rows(v, width: dv),
      o: HeadRows(headsPerBatch: heads, batchStride: lq * heads * dv, headStride: dv, rowStride: heads * dv))
    // The log-sum-exp only when a backward will need it.
    let lse = recording ? Tensor(shape: [b * heads, lq], zeroed: false) : nil
    withExtendedLifetime((q, k, v, expandedMask, lse)) {
      if plan.fitsSmallHeadKernel {
        attentionForwardSmallHead(plan, q.data, k.data, v.data, out.data, lse?.data, layout: layout)
      } else {
        attentionForwardBlocked(plan, q.data, k.data, v.data, out.data, lse?.data, layout: layout)
      }
    }
    guard let lse else { return out }
    let saved = out.detach()  // not `out`: the closure would keep its own output alive
    return out.record("multi_head_attention", [q, k, v]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gq = Tensor(shape: q.shape, zeroed: false), gk = Tensor(shape: k.shape), gv = Tensor(shape: v.shape)
      let grads = HeadLayouts(q: rows(gq, width: d), k: rows(gk, width: d), v: rows(gv, width: dv), o: layout.o)
      withExtendedLifetime((q, k, v, saved, lse, gc)) {
        attentionBackward(
          plan, q.data, k.data, v.data, saved.data, lse.data, gc.data, gq.data, gk.data, gv.data,
          layout: BackwardLayouts(inputs: layout, grads: grads))
      }
      return [gq, gk, gv]
    }
  }
}
