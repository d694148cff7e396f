// Norm: group_norm and layer_norm, fused forward and backward kernels.

extension Tensor {
  /// Mean and reciprocal std (biased variance + eps) of one contiguous row: two vectorised passes
  /// (sum, then squared deviations), both with float lanes inside blocks and Double across them.
  @inline(__always)
  static func rowStats(_ p: UnsafePointer<Float>, _ n: Int, eps: Float) -> (Float, Float) {
    let mean = Float(Double(rowSum(p, n)) / Double(n))
    let variance = rowSquaredDeviation(p, n, from: mean) / Double(n)
    return (mean, Float(1 / (variance + Double(eps)).squareRoot()))
  }

  /// o[i] = (p[i] − mean)·rstd·w[i] + b[i] (w = 1, b = 0 when absent), 8 floats at a time.
  @inline(__always)
  static func affineNormalizeRow(
    _ p: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ n: Int, mean: Float, rstd: Float,
    weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?
  ) {
    let scale = SIMD8<Float>(repeating: rstd), center = SIMD8<Float>(repeating: mean)
    var i = 0
    if let weight, let bias {
      while i + 8 <= n {
        store8(load8(bias + i).addingProduct((load8(p + i) - center) * scale, load8(weight + i)), o + i)
        i += 8
      }
    } else {
      while i + 8 <= n {
        var y = (load8(p + i) - center) * scale
        if let weight { y *= load8(weight + i) }
        if let bias { y += load8(bias + i) }
        store8(y, o + i)
        i += 8
      }
    }
    while i < n {
      o[i] = (p[i] - mean) * rstd * (weight?[i] ?? 1) + (bias?[i] ?? 0)
      i += 1
    }
  }

  /// o[i] = p[i]·scale + shift for `n` floats, returning Σ next[i] over the same range (0 without
  /// `next`), both in 8-float vectors with the sum's blocks of 1024 added in Double.
  @inline(__always)
  static func normalizeSegment(
    _ p: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ n: Int, scale: Float, shift: Float,
    summing next: UnsafePointer<Float>?
  ) -> Double {
    let a = SIMD8<Float>(repeating: scale), b = SIMD8<Float>(repeating: shift)
    var total: Double = 0
    var i = 0
    while i < n {
      let end = Swift.min(n, i + 1024)
      var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
      if let next {
        while i + 16 <= end {
          store8(b.addingProduct(load8(p + i), a), o + i)
          store8(b.addingProduct(load8(p + i + 8), a), o + i + 8)
          acc0 += load8(next + i)
          acc1 += load8(next + i + 8)
          i += 16
        }
      } else {
        while i + 16 <= end {
          store8(b.addingProduct(load8(p + i), a), o + i)
          store8(b.addingProduct(load8(p + i + 8), a), o + i + 8)
          i += 16
        }
      }
      var block = laneTotal(acc0, acc1, SIMD8<Float>(), SIMD8<Float>())
      while i < end {
        o[i] = shift.addingProduct(p[i], scale)
        if let next { block += Double(next[i]) }
        i += 1
      }
      total += block
    }
    return total
  }

  /// silu(groupNorm(x)): at inference one pass (the SiLU runs on each normalised segment while it
  /// is in cache, no second tensor); with autograd, the two recorded ops.
  public static func groupNormSiLU(
    _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5
  ) throws -> Tensor {
    let recording = GradMode.isEnabled && (x.requiresGrad || (weight?.requiresGrad ?? false) || (bias?.requiresGrad ?? false))
    if recording { return try groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps).silu() }
    return try groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps, fusedSiLU: true)
  }

  /// Group normalisation of [N, C, *] over C/groups channels and all spatial positions,
  /// with optional per-channel affine weight and bias [C].
  public static func groupNorm(
    _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5
  ) throws -> Tensor {
    try groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps, fusedSiLU: false)
  }

  /// The group-norm kernel; `fusedSiLU` (inference only: no backward for it) applies SiLU to each
  /// normalised segment right after writing it.
  static func groupNorm(
    _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float, fusedSiLU: Bool
  ) throws -> Tensor {
    try x.requireFloat("group_norm")
    guard x.rank >= 2, groups > 0, x.shape[1] % groups == 0 else {
      throw TensorError.shape("group_norm", "input \(shapeString(x.shape)) cannot be split into \(groups) groups of channels")
    }
    let n = x.shape[0], c = x.shape[1], spatial = x.count / Swift.max(n * c, 1)
    for (name, t) in [("weight", weight), ("bias", bias)] {
      try t?.requireFloat("group_norm")
      if let t, t.shape != [c] {
        throw TensorError.shape("group_norm", "\(name) \(shapeString(t.shape)) does not match \(c) channels")
      }
    }
    let cpg = c / groups, m = cpg * spatial
    let src = x.isContiguous ? x.detach() : x.contiguousCopy()
    let out = Tensor(shape: x.shape, zeroed: false)
    let stats = Tensor(shape: [n * groups, 2], zeroed: false)
    let wc = weight.map { $0.isContiguous ? $0.detach() : $0.contiguousCopy() }
    let bc = bias.map { $0.isContiguous ? $0.detach() : $0.contiguousCopy() }
    // Contiguous runs of (sample, group) rows per thread. The sum of row r+1 is taken in the same
    // loop that writes row r, so its (cache-missing) loads overlap the normalisation work.
    Parallel.forRange(n * groups, grain: Swift.max(1, 16384 / Swift.max(m, 1))) { begin, end in
      var sum = Double(rowSum(src.data + begin * m, m))
      for r in begin..<end {
        let p = src.data + r * m, o = out.data + r * m
        let mean = Float(sum / Double(m))
        let rstd = Float(1 / (rowSquaredDeviation(p, m, from: mean) / Double(m) + Double(eps)).squareRoot())
        stats.data[2 * r] = mean
        stats.data[2 * r + 1] = rstd
        let next = r + 1 < end ? p + m : nil
        sum = 0
        for cl in 0..<cpg {
          let ch = (r % groups) * cpg + cl
          let a = rstd * (wc?.data[ch] ?? 1)
          let b = (bc?.data[ch] ?? 0) - mean * a
          let segment = cl * spatial
          sum += normalizeSegment(p + segment, o + segment, spatial, scale: a, shift: b, summing: next.map { $0 + segment })
          if fusedSiLU {
            let seg = o + segment, silu = SiluOp()
            for i in 0..<spatial { seg[i] = silu(seg[i]) }
          }
        }
      }
    }
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    return out.record("group_norm", inputs) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gx = Tensor(shape: x.shape, zeroed: false)
      // Per (sample, channel): sum(dy * xhat) and sum(dy), reduced over samples for the affine grads.
      let partial = Tensor(shape: [n, c, 2])
      Parallel.forEach(n * groups) { r in
        let p = src.data + r * m, dy = gc.data + r * m, dx = gx.data + r * m
        let mean = stats.data[2 * r], rstd = stats.data[2 * r + 1]
        var sumDxhat: Double = 0, sumDxhatXhat: Double = 0
        for cl in 0..<cpg {
          let ch = (r % groups) * cpg + cl
          let wv = wc?.data[ch] ?? 1
          let (sdy, centered) = rowSumAndCenteredDot(dy + cl * spatial, p + cl * spatial, spatial, center: mean)
          let sdyx = centered * Double(rstd)
          partial.data[((r / groups) * c + ch) * 2] = Float(sdyx)
          partial.data[((r / groups) * c + ch) * 2 + 1] = Float(sdy)
          sumDxhat += sdy * Double(wv)
          sumDxhatXhat += sdyx * Double(wv)
        }
        let meanA = Float(sumDxhat / Double(m)), meanB = Float(sumDxhatXhat / Double(m))
        for cl in 0..<cpg {
          let ch = (r % groups) * cpg + cl
          let wv = wc?.data[ch] ?? 1
          for i in cl * spatial..<(cl + 1) * spatial {
            let xhat = (p[i] - mean) * rstd
            dx[i] = rstd * (dy[i] * wv - meanA - xhat * meanB)
          }
        }
      }
      let sums = try partial.sum(axes: [0])
      var grads: [Tensor?] = [x.requiresGrad ? gx : nil]
      if weight != nil { grads.append(try sums.narrow(1, start: 0, length: 1).reshape([c]).contiguousCopy()) }
      if bias != nil { grads.append(try sums.narrow(1, start: 1, length: 1).reshape([c]).contiguousCopy()) }
      return grads
    }
  }

  /// Layer normalisation over the trailing `normalizedShape` dimensions with optional affine
  /// weight and bias of that shape.
  public static func layerNorm(
    _ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Float = 1e-5
  ) throws -> Tensor {
    try x.requireFloat("layer_norm")
    guard x.rank >= normalizedShape.count, Array(x.shape.suffix(normalizedShape.count)) == normalizedShape else {
      throw TensorError.shape("layer_norm", "input \(shapeString(x.shape)) does not end with normalized shape \(shapeString(normalizedShape))")
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
      try t?.requireFloat("layer_norm")
      if let t, t.shape != normalizedShape {
        throw TensorError.shape("layer_norm", "\(name) \(shapeString(t.shape)) does not match \(shapeString(normalizedShape))")
      }
    }
    let d = Swift.max(elementCount(normalizedShape), 1), rows = x.count / d
    let src = x.isContiguous ? x.detach() : x.contiguousCopy()
    let out = Tensor(shape: x.shape, zeroed: false)
    let stats = Tensor(shape: [rows, 2], zeroed: false)
    let wc = weight.map { $0.isContiguous ? $0.detach() : $0.contiguousCopy() }
    let bc = bias.map { $0.isContiguous ? $0.detach() : $0.contiguousCopy() }
    Parallel.forRange(rows, grain: Swift.max(1, 8192 / d)) { b, e in
      for r in b..<e {
        let p = src.data + r * d, o = out.data + r * d
        let (mean, rstd) = rowStats(p, d, eps: eps)
        stats.data[2 * r] = mean
        stats.data[2 * r + 1] = rstd
        affineNormalizeRow(p, o, d, mean: mean, rstd: rstd, weight: wc?.data, bias: bc?.data)
      }
    }
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    return out.record("layer_norm", inputs) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gx = Tensor(shape: x.shape, zeroed: false)
      let gw = Tensor(shape: [d], zeroed: false), gb = Tensor(shape: [d], zeroed: false)
      withExtendedLifetime((src, gc, stats, wc)) {
        layerNormBackward(
          x: src.data, dy: gc.data, stats: stats.data, weight: wc?.data, rows: rows, d: d, gx: gx.data, gw: gw.data, gb: gb.data)
      }
      var grads: [Tensor?] = [x.requiresGrad ? gx : nil]
      if weight != nil { grads.append(try gw.reshape(normalizedShape)) }
      if bias != nil { grads.append(try gb.reshape(normalizedShape)) }
      return grads
    }
  }
}
