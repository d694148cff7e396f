// Attention: scaled dot-product attention in query blocks (bounded score memory), forward and backward.

#if canImport(Glibc)
  import Glibc
#endif

/// Shapes and options of one attention call, flattened to [heads, L, d].
struct AttentionPlan {
  let heads: Int, lq: Int, lk: Int, d: Int, dv: Int
  let scale: Float
  let causal: Bool
  /// Query rows per block: the score block holds at most `blockRows * lk` floats.
  let blockRows: Int
  /// Additive mask expanded to [batch..., lq, lk] (may have zero strides), if any.
  let mask: Tensor?
  let maskHeadOffsets: [Int]

  /// Adds the mask and the causal -inf to a score block for rows `row0 ..< row0+rows` of head `h`.
  @inline(__always)
  func applyMask(_ s: UnsafeMutablePointer<Float>, head h: Int, row0: Int, rows: Int) {
    if let mask {
      let rs = mask.strides[mask.rank - 2], cs = mask.strides[mask.rank - 1]
      let base = mask.storage.floats + maskHeadOffsets[h]
      for r in 0..<rows {
        for j in 0..<lk { s[r * lk + j] += base[(row0 + r) * rs + j * cs] }
      }
    }
    if causal {
      for r in 0..<rows where row0 + r + 1 < lk {
        (s + r * lk + row0 + r + 1).update(repeating: -.infinity, count: lk - row0 - r - 1)
      }
    }
  }
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
      causal: causal, blockRows: Swift.max(1, Swift.min(lq, 131_072 / Swift.max(lk, 1))),
      mask: expandedMask, maskHeadOffsets: maskOffsets)
    let qc = q.isContiguous ? q.detach() : q.contiguousCopy()
    let kc = k.isContiguous ? k.detach() : k.contiguousCopy()
    let vc = v.isContiguous ? v.detach() : v.contiguousCopy()
    let out = Tensor(shape: batch + [lq, dv], zeroed: false)
    let lse = Tensor(shape: [plan.heads, lq], zeroed: false)
    attentionForward(plan, qc.data, kc.data, vc.data, out.data, lse.data)
    let saved = out.detach()  // not `out`: the closure would keep its own output alive
    return out.record("attention", [q, k, v]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gq = Tensor(shape: q.shape, zeroed: false), gk = Tensor(shape: k.shape), gv = Tensor(shape: v.shape)
      attentionBackward(plan, qc.data, kc.data, vc.data, saved.data, lse.data, gc.data, gq.data, gk.data, gv.data)
      return [gq, gk, gv]
    }
  }

  static func attentionForward(
    _ p: AttentionPlan, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>
  ) {
    Parallel.forEach(p.heads) { h in
      let scores = UnsafeMutablePointer<Float>.allocate(capacity: p.blockRows * p.lk)
      defer { scores.deallocate() }
      var kT = MatrixOperand(rowMajor: k + h * p.lk * p.d, cols: p.d)
      kT.transposed = true
      let vOp = MatrixOperand(rowMajor: v + h * p.lk * p.dv, cols: p.dv)
      var row0 = 0
      while row0 < p.lq {
        let rows = Swift.min(p.blockRows, p.lq - row0)
        let qOp = MatrixOperand(rowMajor: q + (h * p.lq + row0) * p.d, cols: p.d)
        Gemm.serial(qOp, kT, scores, ldc: p.lk, m: rows, n: p.lk, k: p.d, alpha: p.scale)
        p.applyMask(scores, head: h, row0: row0, rows: rows)
        for r in 0..<rows {
          lse[h * p.lq + row0 + r] = softmaxRowLSE(scores + r * p.lk, p.lk)
        }
        Gemm.serial(
          MatrixOperand(rowMajor: scores, cols: p.lk), vOp, o + (h * p.lq + row0) * p.dv, ldc: p.dv,
          m: rows, n: p.dv, k: p.lk)
        row0 += rows
      }
    }
  }
}

/// In-place softmax of one row; returns log(sum(exp(x))) so backward can rebuild the row.
/// A fully masked row (all -inf) becomes zeros with lse = -inf.
@inline(__always)
func softmaxRowLSE(_ row: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
  let m = rowMax(row, n)
  if m == -.infinity {
    row.update(repeating: 0, count: n)
    return -.infinity
  }
  for i in 0..<n { row[i] = fastExp(row[i] - m) }
  let total = rowSum(row, n)
  let inv = 1 / total
  for j in 0..<n { row[j] *= inv }
  return m + logf(total)
}

extension Tensor {
  static func attentionBackward(
    _ p: AttentionPlan, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>,
    _ g: UnsafeMutablePointer<Float>, _ gq: UnsafeMutablePointer<Float>, _ gk: UnsafeMutablePointer<Float>,
    _ gv: UnsafeMutablePointer<Float>
  ) {
    Parallel.forEach(p.heads) { h in
      let probs = UnsafeMutablePointer<Float>.allocate(capacity: p.blockRows * p.lk)
      let dprobs = UnsafeMutablePointer<Float>.allocate(capacity: p.blockRows * p.lk)
      defer {
        probs.deallocate()
        dprobs.deallocate()
      }
      let kOp = MatrixOperand(rowMajor: k + h * p.lk * p.d, cols: p.d)
      var kT = kOp
      kT.transposed = true
      var vT = MatrixOperand(rowMajor: v + h * p.lk * p.dv, cols: p.dv)
      vT.transposed = true
      var row0 = 0
      while row0 < p.lq {
        let rows = Swift.min(p.blockRows, p.lq - row0)
        let qOp = MatrixOperand(rowMajor: q + (h * p.lq + row0) * p.d, cols: p.d)
        let gOff = (h * p.lq + row0) * p.dv
        let gOp = MatrixOperand(rowMajor: g + gOff, cols: p.dv)
        // P = exp(S - lse), rebuilt from the saved log-sum-exp.
        Gemm.serial(qOp, kT, probs, ldc: p.lk, m: rows, n: p.lk, k: p.d, alpha: p.scale)
        p.applyMask(probs, head: h, row0: row0, rows: rows)
        for r in 0..<rows {
          let l = lse[h * p.lq + row0 + r]
          let row = probs + r * p.lk
          if l == -.infinity {
            row.update(repeating: 0, count: p.lk)
          } else {
            for j in 0..<p.lk { row[j] = fastExp(row[j] - l) }
          }
        }
        // dV += Pᵀ dO ; dP = dO Vᵀ
        var pT = MatrixOperand(rowMajor: probs, cols: p.lk)
        pT.transposed = true
        Gemm.serial(pT, gOp, gv + h * p.lk * p.dv, ldc: p.dv, m: p.lk, n: p.dv, k: rows, beta: 1)
        Gemm.serial(gOp, vT, dprobs, ldc: p.lk, m: rows, n: p.lk, k: p.dv)
        // dS = P ∘ (dP − rowsum(dO ∘ O))
        for r in 0..<rows {
          var dot: Float = 0
          for c in 0..<p.dv { dot += g[gOff + r * p.dv + c] * o[gOff + r * p.dv + c] }
          let pr = probs + r * p.lk, dr = dprobs + r * p.lk
          for j in 0..<p.lk { dr[j] = pr[j] * (dr[j] - dot) }
        }
        // dQ = dS K · scale ; dK += dSᵀ Q · scale
        Gemm.serial(
          MatrixOperand(rowMajor: dprobs, cols: p.lk), kOp, gq + (h * p.lq + row0) * p.d, ldc: p.d,
          m: rows, n: p.d, k: p.lk, alpha: p.scale)
        var dsT = MatrixOperand(rowMajor: dprobs, cols: p.lk)
        dsT.transposed = true
        Gemm.serial(dsT, qOp, gk + h * p.lk * p.d, ldc: p.d, m: p.lk, n: p.d, k: rows, alpha: p.scale, beta: 1)
        row0 += rows
      }
    }
  }
}
