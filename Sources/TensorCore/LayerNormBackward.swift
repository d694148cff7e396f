// LayerNormBackward: the layer_norm gradient over row blocks in parallel, 8 floats at a time.

extension Tensor {
  /// Gradients of `layerNorm` for `rows` rows of `d` floats: dx into `gx`, and the weight and bias
  /// gradients summed over all rows into `gw`, `gb` (length d, written, not accumulated). `stats`
  /// holds each row's (mean, rstd) from the forward. Workers take contiguous row blocks, each with its
  /// own weight/bias partial sums, added in worker order at the end.
  static func layerNormBackward(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>, stats: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
    rows: Int, d: Int, gx: UnsafeMutablePointer<Float>, gw: UnsafeMutablePointer<Float>, gb: UnsafeMutablePointer<Float>
  ) {
    let tasks = Swift.min(Parallel.threads, Swift.max(1, rows * d / 16_384))
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: tasks * 2 * d)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0, count: tasks * 2 * d)
    let chunk = (rows + tasks - 1) / tasks
    Parallel.forEach(tasks) { t in
      let pw = partials + t * 2 * d, pb = pw + d
      for r in (t * chunk)..<Swift.min(rows, (t + 1) * chunk) {
        layerNormBackwardRow(
          x + r * d, dy + r * d, gx + r * d, d, mean: stats[2 * r], rstd: stats[2 * r + 1], weight: weight, gw: pw, gb: pb)
      }
    }
    for i in 0..<d {
      var w: Float = 0, b: Float = 0
      for t in 0..<tasks {
        w += partials[t * 2 * d + i]
        b += partials[t * 2 * d + d + i]
      }
      gw[i] = w
      gb[i] = b
    }
  }
}

/// One row: x̂ = (x − mean)·rstd, ĝ = dy·w; dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)); gw += dy·x̂, gb += dy.
@inline(__always)
private func layerNormBackwardRow(
  _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ d: Int,
  mean: Float, rstd: Float, weight: UnsafePointer<Float>?, gw: UnsafeMutablePointer<Float>, gb: UnsafeMutablePointer<Float>
) {
  let center = SIMD8<Float>(repeating: mean), scale = SIMD8<Float>(repeating: rstd)
  let vectorEnd = d / 8 * 8
  var sumG = SIMD8<Float>(), sumGX = SIMD8<Float>()
  var i = 0
  while i < vectorEnd {
    let g = load8(dy + i), xhat = (load8(x + i) - center) * scale
    let ghat = weight.map { g * load8($0 + i) } ?? g
    sumG += ghat
    sumGX = sumGX.addingProduct(ghat, xhat)
    store8(load8(gw + i).addingProduct(g, xhat), gw + i)
    store8(load8(gb + i) + g, gb + i)
    i += 8
  }
  var a = Double(sumG.sum()), b = Double(sumGX.sum())
  while i < d {
    let xhat = (x[i] - mean) * rstd, ghat = dy[i] * (weight?[i] ?? 1)
    a += Double(ghat)
    b += Double(ghat * xhat)
    gw[i] += dy[i] * xhat
    gb[i] += dy[i]
    i += 1
  }
  let ma = SIMD8<Float>(repeating: Float(a / Double(d))), mb = SIMD8<Float>(repeating: Float(b / Double(d)))
  i = 0
  while i < vectorEnd {
    let xhat = (load8(x + i) - center) * scale
    let ghat = weight.map { load8(dy + i) * load8($0 + i) } ?? load8(dy + i)
    store8(scale * (ghat - ma - xhat * mb), dx + i)
    i += 8
  }
  while i < d {
    let xhat = (x[i] - mean) * rstd
    dx[i] = rstd * (dy[i] * (weight?[i] ?? 1) - ma[0] - xhat * mb[0])
    i += 1
  }
}
