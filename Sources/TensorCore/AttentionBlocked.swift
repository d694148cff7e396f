// AttentionBlocked: attention through sgemm in L2-sized blocks of query rows, forward and backward.

import CKernels

extension Tensor {
  /// Forward for any head size. Each task is one (head, query block): S = scale · log2(e) · Q Kᵀ into an
  /// L2-sized score block, the row softmax in place left unnormalised, O = P V, then each output
  /// row scaled by 1/Σ. With `causal`, keys no row of the block can see are not computed.
  static func attentionForwardBlocked(
    _ p: AttentionPlan, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>?,
    layout: HeadLayouts? = nil
  ) {
    let l = layout ?? HeadLayouts(contiguous: p)
    let blockRows = p.blockRows
    let blocksPerHead = (p.lq + blockRows - 1) / blockRows
    let tasks = p.heads * blocksPerHead
    let wide = VectorDispatch.useAVX512
    Parallel.balanced(tasks) { queue in
      let scores = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, blockRows * p.lk))
      let inverse = UnsafeMutablePointer<Float>.allocate(capacity: blockRows)
      defer {
        scores.deallocate()
        inverse.deallocate()
      }
      while let t = queue.next() {
        let h = t / blocksPerHead, row0 = (t % blocksPerHead) * blockRows
        let rows = Swift.min(blockRows, p.lq - row0), keys = p.visibleKeys(row0: row0, rows: rows)
        let kT = l.k.operand(k, head: h, row: 0, transposed: true)
        let qOp = l.q.operand(q, head: h, row: row0)
        Gemm.serial(qOp, kT, scores, ldc: Swift.max(keys, 1), m: rows, n: keys, k: p.d, alpha: p.log2Scale)
        p.applyMask(scores, ld: keys, keys: keys, head: h, row0: row0, rows: rows)
        for r in 0..<rows {
          let (logSum, inv) = softmaxRowUnnormalized(scores + r * keys, keys, logSum: lse != nil, avx512: wide)
          lse?[h * p.lq + row0 + r] = logSum
          inverse[r] = inv
        }
        let out = o + l.o.base(h) + row0 * l.o.rowStride
        Gemm.serial(
          MatrixOperand(rowMajor: scores, cols: keys), l.v.operand(v, head: h, row: 0),
          out, ldc: l.o.rowStride, m: rows, n: p.dv, k: keys)
        for r in 0..<rows {
          let s = inverse[r], row = out + r * l.o.rowStride
          for c in 0..<p.dv { row[c] *= s }
        }
      }
    }
  }

  /// Backward through sgemm, one head per task (dK and dV accumulate over the head's query
  /// blocks). Per block: P = 2^(log2(e) · (scale · Q Kᵀ + mask − lse)) rebuilt from the saved log-sum-exp,
  /// dV += Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)), dQ = scale · dS K, dK += scale · dSᵀ Q.
  /// `gk` and `gv` must be zero on entry.
  static func attentionBackward(
    _ p: AttentionPlan, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>,
    _ g: UnsafeMutablePointer<Float>, _ gq: UnsafeMutablePointer<Float>, _ gk: UnsafeMutablePointer<Float>,
    _ gv: UnsafeMutablePointer<Float>, layout: BackwardLayouts? = nil
  ) {
    let wide = VectorDispatch.useAVX512
    let l = layout ?? BackwardLayouts(contiguous: p)
    if wide && p.d <= 4 && p.dv <= 4 && p.mask == nil && !p.causal {
      attentionBackwardSmallHead(p, q, k, v, o, lse, g, gq, gk, gv, layout: l)
      return
    }
    let (fq, fk, fv, fo) = (l.inputs.q, l.inputs.k, l.inputs.v, l.inputs.o)
    let (dq, dk, dv, dout) = (l.grads.q, l.grads.k, l.grads.v, l.grads.o)
    let blockRows = p.blockRows
    Parallel.balanced(p.heads) { queue in
      let probs = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, blockRows * p.lk))
      let dprobs = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, blockRows * p.lk))
      defer {
        probs.deallocate()
        dprobs.deallocate()
      }
      while let h = queue.next() {
        let kOp = fk.operand(k, head: h, row: 0), kT = fk.operand(k, head: h, row: 0, transposed: true)
        let vT = fv.operand(v, head: h, row: 0, transposed: true)
        var row0 = 0
        while row0 < p.lq {
          let rows = Swift.min(blockRows, p.lq - row0), keys = p.visibleKeys(row0: row0, rows: rows)
          let ld = Swift.max(keys, 1)
          let qOp = fq.operand(q, head: h, row: row0), gOp = dout.operand(g, head: h, row: row0)
          Gemm.serial(qOp, kT, probs, ldc: ld, m: rows, n: keys, k: p.d, alpha: p.log2Scale)
          p.applyMask(probs, ld: keys, keys: keys, head: h, row0: row0, rows: rows)
          for r in 0..<rows {
            let l = lse[h * p.lq + row0 + r]
            let row = probs + r * keys
            if l == -.infinity {
              row.update(repeating: 0, count: keys)
            } else {
              _ = exp2ShiftSum(row, keys, max: l * log2e, avx512: wide)
            }
          }
          var pT = MatrixOperand(rowMajor: probs, cols: keys)
          pT.transposed = true
          Gemm.serial(pT, gOp, gv + dv.base(h), ldc: dv.rowStride, m: keys, n: p.dv, k: rows, beta: 1)
          Gemm.serial(gOp, vT, dprobs, ldc: ld, m: rows, n: keys, k: p.dv)
          for r in 0..<rows {
            var dot: Float = 0
            let gr = g + dout.base(h) + (row0 + r) * dout.rowStride
            let orow = o + fo.base(h) + (row0 + r) * fo.rowStride
            for c in 0..<p.dv { dot = dot.addingProduct(gr[c], orow[c]) }
            let pr = probs + r * keys, dr = dprobs + r * keys
            for j in 0..<keys { dr[j] = pr[j] * (dr[j] - dot) }
          }
          Gemm.serial(
            MatrixOperand(rowMajor: dprobs, cols: keys), kOp, gq + dq.base(h) + row0 * dq.rowStride,
            ldc: dq.rowStride, m: rows, n: p.d, k: keys, alpha: p.scale)
          var dsT = MatrixOperand(rowMajor: dprobs, cols: keys)
          dsT.transposed = true
          Gemm.serial(
            dsT, qOp, gk + dk.base(h), ldc: dk.rowStride, m: keys, n: p.d, k: rows, alpha: p.scale, beta: 1)
          row0 += rows
        }
      }
    }
  }

  /// `attentionBackward` for heads of at most 4 channels without a mask: one AVX-512 sweep per tile
  /// of 4 query rows, no score matrix in memory (`aptp_small_head_attention_backward_avx512`).
  static func attentionBackwardSmallHead(
    _ p: AttentionPlan, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>,
    _ g: UnsafeMutablePointer<Float>, _ gq: UnsafeMutablePointer<Float>, _ gk: UnsafeMutablePointer<Float>,
    _ gv: UnsafeMutablePointer<Float>, layout l: BackwardLayouts
  ) {
    let ldk = Swift.max(16, (p.lk + 15) / 16 * 16)
    let (fq, fk, fv, fo) = (l.inputs.q, l.inputs.k, l.inputs.v, l.inputs.o)
    let (dq, dk, dv, dout) = (l.grads.q, l.grads.k, l.grads.v, l.grads.o)
    let strides = AptpRowStrides(
      q: fq.rowStride, k: fk.rowStride, v: fv.rowStride, o: fo.rowStride, g: dout.rowStride, gq: dq.rowStride,
      gk: dk.rowStride, gv: dv.rowStride)
    Parallel.balanced(p.heads) { queue in
      let scratch = alignedFloats(16 * ldk + 64)
      defer { scratch.deallocate() }
      while let h = queue.next() {
        aptp_small_head_attention_backward_avx512(
          q + fq.base(h), k + fk.base(h), v + fv.base(h), o + fo.base(h), g + dout.base(h), lse + h * p.lq,
          gq + dq.base(h), gk + dk.base(h), gv + dv.base(h), strides, p.lq, p.lk, p.d, p.dv, p.scale, p.log2Scale,
          scratch, ldk)
      }
    }
  }
}
