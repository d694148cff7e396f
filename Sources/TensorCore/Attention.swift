// Attention: scaled dot-product attention — the public op, its plan (shapes, mask) and the row softmax.

#if canImport(Glibc)
  import Glibc
#endif

/// Shapes and options of one attention call, flattened to [heads, L, d].
struct AttentionPlan {
  let heads: Int, lq: Int, lk: Int, d: Int, dv: Int
  let scale: Float
  let causal: Bool
  /// Additive mask expanded to [batch..., lq, lk] (may have zero strides), if any.
  let mask: Tensor?
  let maskHeadOffsets: [Int]

  /// Score floats one block may hold: 1 MB, so a block of scores stays in L2 between its GEMMs.
  static let scoreBlockFloats = 262_144

  /// Query rows per block of the GEMM path: the score block holds at most `blockRows * lk` floats.
  var blockRows: Int { Swift.max(1, Swift.min(lq, Self.scoreBlockFloats / Swift.max(lk, 1))) }

  /// The score scale in base 2: kernels compute scale · log2(e) · q·k and use `fastExp2`.
  var log2Scale: Float { scale * log2e }

  /// Keys that rows `row0 ..< row0+rows` can see: with `causal`, row i sees keys 0...i.
  @inline(__always)
  func visibleKeys(row0: Int, rows: Int) -> Int { causal ? Swift.min(lk, row0 + rows) : lk }

  /// Adds the mask (times log2(e): scores are in base 2) and the causal -inf to a score block
  /// s[r * ld + j] (j < keys) for rows `row0 ..< row0+rows` of head `h`.
  @inline(__always)
  func applyMask(_ s: UnsafeMutablePointer<Float>, ld: Int, keys: Int, head h: Int, row0: Int, rows: Int) {
    if let mask {
      let rs = mask.strides[mask.rank - 2], cs = mask.strides[mask.rank - 1]
      let base = mask.storage.floats + maskHeadOffsets[h]
      for r in 0..<rows {
        let src = base + (row0 + r) * rs, dst = s + r * ld
        if cs == 1 {
          for j in 0..<keys { dst[j] = dst[j].addingProduct(src[j], log2e) }
        } else {
          for j in 0..<keys { dst[j] = dst[j].addingProduct(src[j * cs], log2e) }
        }
      }
    }
    if causal {
      for r in 0..<rows where row0 + r + 1 < keys {
        (s + r * ld + row0 + r + 1).update(repeating: -.infinity, count: keys - row0 - r - 1)
      }
    }
  }
}

/// Where the rows of head h live in one operand: `[heads, L, width]` contiguous buffers, or
/// `[B, L, H·width]` row-strided views (head h = b·H + i starts at b·batchStride + i·headStride).
struct HeadRows {
  let headsPerBatch: Int, batchStride: Int, headStride: Int, rowStride: Int

  @inline(__always)
  func base(_ h: Int) -> Int { (h / headsPerBatch) * batchStride + (h % headsPerBatch) * headStride }

  /// The GEMM operand of head h's rows from `row` on (columns are the head's width).
  @inline(__always)
  func operand(_ p: UnsafeMutablePointer<Float>, head h: Int, row: Int, transposed: Bool = false) -> MatrixOperand {
    var m = MatrixOperand(rowMajor: p + base(h) + row * rowStride, cols: 1)
    m.ld = rowStride
    m.transposed = transposed
    return m
  }
}

/// The layouts of q, k, v and the output for one attention call.
struct HeadLayouts {
  let q: HeadRows, k: HeadRows, v: HeadRows, o: HeadRows

  init(q: HeadRows, k: HeadRows, v: HeadRows, o: HeadRows) {
    (self.q, self.k, self.v, self.o) = (q, k, v, o)
  }

  /// Contiguous [heads, L, d] buffers.
  init(contiguous p: AttentionPlan) {
    q = HeadRows(headsPerBatch: 1, batchStride: p.lq * p.d, headStride: 0, rowStride: Swift.max(p.d, 1))
    k = HeadRows(headsPerBatch: 1, batchStride: p.lk * p.d, headStride: 0, rowStride: Swift.max(p.d, 1))
    v = HeadRows(headsPerBatch: 1, batchStride: p.lk * p.dv, headStride: 0, rowStride: Swift.max(p.dv, 1))
    o = HeadRows(headsPerBatch: 1, batchStride: p.lq * p.dv, headStride: 0, rowStride: Swift.max(p.dv, 1))
  }
}

/// The layouts of one attention backward: the forward's q, k, v and output, and the gradients —
/// gq, gk, gv (written) in the q, k, v slots and dO (read) in the output slot.
struct BackwardLayouts {
  let inputs: HeadLayouts, grads: HeadLayouts

  init(inputs: HeadLayouts, grads: HeadLayouts) { (self.inputs, self.grads) = (inputs, grads) }

  /// Contiguous [heads, L, d] buffers for everything.
  init(contiguous p: AttentionPlan) { inputs = HeadLayouts(contiguous: p); grads = inputs }
}

extension Tensor {
  /// softmax(q kᵀ · scale + mask) v over the last two dimensions; q [..., Lq, d], k [..., Lk, d],
  /// v [..., Lk, dv]. `causal` lets query i see keys 0...i. Scores are computed in blocks of query
  /// rows, so at most a bounded block of the Lq x Lk matrix exists at any time.
  public static func scaledDotProductAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor? = nil, causal: Bool = false, scale: Float? = nil
  ) throws -> Tensor {
    for t in [q, k, v] { try t.requireFloat("attention") }
    guard q.rank >= 2, k.rank == q.rank, v.rank == q.rank,
      q.shape.dropLast(2) == k.shape.dropLast(2), k.shape.dropLast(2) == v.shape.dropLast(2),
      q.shape[q.rank - 1] == k.shape[k.rank - 1], k.shape[k.rank - 2] == v.shape[v.rank - 2]
    else {
      throw TensorError.shape(
        "attention", "q \(shapeString(q.shape)), k \(shapeString(k.shape)), v \(shapeString(v.shape)) do not fit [..., Lq, d], [..., Lk, d], [..., Lk, dv]")
    }
    let batch = Array(q.shape.dropLast(2))
    let lq = q.shape[q.rank - 2], lk = k.shape[k.rank - 2], d = q.shape[q.rank - 1], dv = v.shape[v.rank - 1]
    var expandedMask: Tensor? = nil
    var maskOffsets: [Int] = []
    if let mask {
      try mask.requireFloat("attention")
      guard let em = try? mask.detach().expand(batch + [lq, lk]) else {
        throw TensorError.shape("attention", "mask \(shapeString(mask.shape)) cannot be broadcast to \(shapeString(batch + [lq, lk]))")
      }
      expandedMask = em
      maskOffsets = Tensor.batchOffsets(em, batch).map { $0 + em.offset }
    }
    let plan = AttentionPlan(
      heads: elementCount(batch), lq: lq, lk: lk, d: d, dv: dv, scale: scale ?? 1 / Float(d).squareRoot(),
      causal: causal, mask: expandedMask, maskHeadOffsets: maskOffsets)
    let qc = q.isContiguous ? q.detach() : q.contiguousCopy()
    let kc = k.isContiguous ? k.detach() : k.contiguousCopy()
    let vc = v.isContiguous ? v.detach() : v.contiguousCopy()
    let out = Tensor(shape: batch + [lq, dv], zeroed: false)
    let lse = Tensor(shape: [plan.heads, lq], zeroed: false)
    if plan.heads > 0 && lq > 0 {
      if plan.fitsSmallHeadKernel {
        attentionForwardSmallHead(plan, qc.data, kc.data, vc.data, out.data, lse.data)
      } else {
        attentionForwardBlocked(plan, qc.data, kc.data, vc.data, out.data, lse.data)
      }
    }
    let saved = out.detach()  // not `out`: the closure would keep its own output alive
    return out.record("attention", [q, k, v]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gq = Tensor(shape: q.shape, zeroed: false), gk = Tensor(shape: k.shape), gv = Tensor(shape: v.shape)
      if plan.heads > 0 && lq > 0 {
        withExtendedLifetime(gc) {
          attentionBackward(plan, qc.data, kc.data, vc.data, saved.data, lse.data, gc.data, gq.data, gk.data, gv.data)
        }
      }
      return [gq, gk, gv]
    }
  }
}

/// Replaces one row of base-2 scores by 2^(x - max) and returns (ln Σ e^(natural score), 1 / Σ):
/// the caller scales the row's output by the second value instead of normalising the row. A fully
/// masked row (all -inf) becomes zeros with lse = -inf and scale 0. Without `logSum` (inference:
/// nothing runs backward) the log is skipped and lse is 0; `max` is the row's maximum when the
/// caller already has it; `avx512` picks the vector build (`VectorDispatch.useAVX512`).
@inline(__always)
func softmaxRowUnnormalized(
  _ row: UnsafeMutablePointer<Float>, _ n: Int, logSum: Bool = true, max knownMax: Float? = nil, avx512: Bool
) -> (lse: Float, inverseSum: Float) {
  let m = knownMax ?? fastRowMax(row, n, avx512: avx512)
  if m == -.infinity {
    row.update(repeating: 0, count: n)
    return (-.infinity, 0)
  }
  let total = exp2ShiftSum(row, n, max: m, avx512: avx512)
  guard logSum else { return (0, 1 / total) }
  return ((m + log2f(total)) * ln2, 1 / total)
}
