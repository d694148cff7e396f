// Pool: average and max pooling and nearest / bilinear 2-D interpolation, with backward.

/// How `interpolate` samples.
public enum InterpolationMode: String, Sendable {
  case nearest, bilinear
}

/// Per output coordinate: two source indices and the weight of the second (bilinear) or one index (nearest).
struct AxisSampling {
  var i0: [Int], i1: [Int], w1: [Float]

  init(inSize: Int, outSize: Int, scale: Double?, mode: InterpolationMode, alignCorners: Bool) {
    i0 = []; i1 = []; w1 = []
    let ratio: Double
    if alignCorners && mode == .bilinear {
      ratio = outSize > 1 ? Double(inSize - 1) / Double(outSize - 1) : 0
    } else {
      ratio = scale.map { 1 / $0 } ?? Double(inSize) / Double(outSize)
    }
    for d in 0..<outSize {
      if mode == .nearest {
        let s = Swift.min(Int((Double(d) * ratio).rounded(.down)), inSize - 1)
        i0.append(s); i1.append(s); w1.append(0)
        continue
      }
      var src = alignCorners ? Double(d) * ratio : (Double(d) + 0.5) * ratio - 0.5
      if src < 0 { src = 0 }
      let a = Swift.min(Int(src.rounded(.down)), inSize - 1)
      i0.append(a)
      i1.append(Swift.min(a + 1, inSize - 1))
      w1.append(Float(src - Double(a)))
    }
  }
}

extension Tensor {
  /// Resizes the last two dimensions of [N, C, H, W] to `size`, or by `scale` (PyTorch semantics).
  public func interpolate(
    size: (Int, Int)? = nil, scale: Double? = nil, mode: InterpolationMode = .nearest, alignCorners: Bool = false
  ) throws -> Tensor {
    try requireFloat("interpolate")
    guard rank == 4 else { throw TensorError.shape("interpolate", "expected [N,C,H,W], got \(shapeString(shape))") }
    let (h, w) = (shape[2], shape[3])
    let out: (Int, Int)
    if let size {
      out = size
    } else if let scale, scale > 0, scale.isFinite, Double(Swift.max(h, w)) * scale < 0x1p40 {
      out = (Int((Double(h) * scale).rounded(.down)), Int((Double(w) * scale).rounded(.down)))
    } else {
      throw TensorError.argument("interpolate", "give either a size or a positive scale factor")
    }
    guard out.0 > 0, out.1 > 0, h > 0, w > 0 else {
      throw TensorError.argument("interpolate", "cannot resize \(shapeString(shape)) to \(out.0)x\(out.1)")
    }
    let ys = AxisSampling(inSize: h, outSize: out.0, scale: size == nil ? scale : nil, mode: mode, alignCorners: alignCorners)
    let xs = AxisSampling(inSize: w, outSize: out.1, scale: size == nil ? scale : nil, mode: mode, alignCorners: alignCorners)
    let planes = shape[0] * shape[1]
    let src = isContiguous ? detach() : contiguousCopy()
    let result = Tensor(shape: [shape[0], shape[1], out.0, out.1], zeroed: false)
    Parallel.forEach(planes) { p in
      let s = src.data + p * h * w, d = result.data + p * out.0 * out.1
      for oy in 0..<out.0 {
        let r0 = s + ys.i0[oy] * w, r1 = s + ys.i1[oy] * w, wy = ys.w1[oy]
        for ox in 0..<out.1 {
          let (a, b, wx) = (xs.i0[ox], xs.i1[ox], xs.w1[ox])
          let top = r0[a] + (r0[b] - r0[a]) * wx
          let bottom = r1[a] + (r1[b] - r1[a]) * wx
          d[oy * out.1 + ox] = top + (bottom - top) * wy
        }
      }
    }
    let inShape = shape
    return result.record("interpolate", [self]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gi = Tensor(shape: inShape)
      Parallel.forEach(planes) { p in
        let s = gc.data + p * out.0 * out.1, d = gi.data + p * h * w
        for oy in 0..<out.0 {
          let wy = ys.w1[oy]
          for ox in 0..<out.1 {
            let v = s[oy * out.1 + ox], wx = xs.w1[ox]
            d[ys.i0[oy] * w + xs.i0[ox]] += v * (1 - wy) * (1 - wx)
            d[ys.i0[oy] * w + xs.i1[ox]] += v * (1 - wy) * wx
            d[ys.i1[oy] * w + xs.i0[ox]] += v * wy * (1 - wx)
            d[ys.i1[oy] * w + xs.i1[ox]] += v * wy * wx
          }
        }
      }
      return [gi]
    }
  }

  /// Pooling geometry check shared by avg and max pooling.
  private func poolOutput(_ op: String, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) throws -> (Int, Int) {
    try requireFloat(op)
    guard rank == 4 else { throw TensorError.shape(op, "expected [N,C,H,W], got \(shapeString(shape))") }
    guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, padding.0 >= 0, padding.1 >= 0,
      padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1
    else {
      throw TensorError.argument(op, "kernel and stride must be positive and padding at most half the kernel")
    }
    let spanH = shape[2] + 2 * padding.0 - kernel.0, spanW = shape[3] + 2 * padding.1 - kernel.1
    let ho = spanH >= 0 ? spanH / stride.0 + 1 : 0
    let wo = spanW >= 0 ? spanW / stride.1 + 1 : 0
    guard ho > 0, wo > 0 else { throw TensorError.shape(op, "input \(shapeString(shape)) is smaller than the kernel") }
    return (ho, wo)
  }

  /// Average pooling; padded cells count in the divisor unless `countIncludePad` is false (PyTorch's
  /// `count_include_pad`, true by default).
  public func avgPool2d(
    kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), countIncludePad: Bool = true
  ) throws -> Tensor {
    let st = stride ?? kernel
    let (ho, wo) = try poolOutput("avg_pool2d", kernel: kernel, stride: st, padding: padding)
    let (h, w) = (shape[2], shape[3])
    let planes = shape[0] * shape[1]
    let src = isContiguous ? detach() : contiguousCopy()
    let out = Tensor(shape: [shape[0], shape[1], ho, wo], zeroed: false)
    let full = 1 / Float(kernel.0 * kernel.1)
    /// 1 / the divisor of output cell (oy, ox).
    @inline(__always) func norm(_ oy: Int, _ ox: Int) -> Float {
      if countIncludePad { return full }
      let y0 = Swift.max(oy * st.0 - padding.0, 0), y1 = Swift.min(oy * st.0 - padding.0 + kernel.0, h)
      let x0 = Swift.max(ox * st.1 - padding.1, 0), x1 = Swift.min(ox * st.1 - padding.1 + kernel.1, w)
      return 1 / Float(Swift.max((y1 - y0) * (x1 - x0), 1))
    }
    let window = PoolWindow(h: h, w: w, ho: ho, wo: wo, kernel: kernel, stride: st, padding: padding)
    Parallel.forEach(planes) { p in
      let s = src.data + p * h * w, d = out.data + p * ho * wo
      window.separable(s, d, start: 0, combine: +)
      for oy in 0..<ho { for ox in 0..<wo { d[oy * wo + ox] *= norm(oy, ox) } }
    }
    let inShape = shape
    return out.record("avg_pool2d", [self]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gi = Tensor(shape: inShape)
      Parallel.forEach(planes) { p in
        let s = gc.data + p * ho * wo, d = gi.data + p * h * w
        for oy in 0..<ho {
          for ox in 0..<wo {
            let v = s[oy * wo + ox] * norm(oy, ox)
            for ky in 0..<kernel.0 {
              let iy = oy * st.0 - padding.0 + ky
              if iy < 0 || iy >= h { continue }
              for kx in 0..<kernel.1 {
                let ix = ox * st.1 - padding.1 + kx
                if ix >= 0 && ix < w { d[iy * w + ix] += v }
              }
            }
          }
        }
      }
      return [gi]
    }
  }

  /// Max pooling; padded cells never win. The gradient goes to the first maximum of each window.
  public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
    let st = stride ?? kernel
    let (ho, wo) = try poolOutput("max_pool2d", kernel: kernel, stride: st, padding: padding)
    let (h, w) = (shape[2], shape[3])
    let planes = shape[0] * shape[1]
    let src = isContiguous ? detach() : contiguousCopy()
    let out = Tensor(shape: [shape[0], shape[1], ho, wo], zeroed: false)
    if !(GradMode.isEnabled && requiresGrad) {
      // Inference: a separable max (rows, then columns) without argmax bookkeeping; NaN propagates.
      let window = PoolWindow(h: h, w: w, ho: ho, wo: wo, kernel: kernel, stride: st, padding: padding)
      Parallel.forEach(planes) { p in
        window.separable(src.data + p * h * w, out.data + p * ho * wo, start: -Float.infinity) { a, b in a > b || a.isNaN ? a : b }
      }
      return out
    }
    let argmax = Tensor(shape: out.shape, dtype: .int64)
    let amp = argmax.intData
    Parallel.forEach(planes) { p in
        let s = src.data + p * h * w, d = out.data + p * ho * wo
        for oy in 0..<ho {
          for ox in 0..<wo {
            var best = -Float.infinity, at = -1
            for ky in 0..<kernel.0 {
              let iy = oy * st.0 - padding.0 + ky
              if iy < 0 || iy >= h { continue }
              for kx in 0..<kernel.1 {
                let ix = ox * st.1 - padding.1 + kx
                if ix >= 0 && ix < w, s[iy * w + ix] > best || at < 0 || s[iy * w + ix].isNaN {
                  best = s[iy * w + ix]
                  at = iy * w + ix
                }
              }
            }
            d[oy * wo + ox] = best
            amp[p * ho * wo + oy * wo + ox] = Int64(at)
          }
        }
      }
    let inShape = shape
    return out.record("max_pool2d", [self]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gi = Tensor(shape: inShape)
      let amp = argmax.intData
      for p in 0..<planes {
        for j in 0..<(ho * wo) where amp[p * ho * wo + j] >= 0 {
          gi.data[p * h * w + Int(amp[p * ho * wo + j])] += gc.data[p * ho * wo + j]
        }
      }
      return [gi]
    }
  }
}

/// The geometry of one pooling window over a [h, w] plane, applied separably: each output column's
/// window is first combined along input rows (kernel.1 values), then those row results along the
/// kernel.0 rows of each output row; out-of-bounds (padding) cells are skipped.
struct PoolWindow {
  let h: Int, w: Int, ho: Int, wo: Int
  let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)

  /// d[oy, ox] = combine over the valid window of s, starting from `start`.
  @inline(__always)
  func separable(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, start: Float, combine: (Float, Float) -> Float) {
    let rows = UnsafeMutablePointer<Float>.allocate(capacity: h * wo)
    defer { rows.deallocate() }
    // Output columns whose window lies fully inside the row: no bounds checks there.
    let firstFull = Swift.min(wo, Swift.max(0, (padding.1 + stride.1 - 1) / stride.1))
    let lastFull = Swift.max(firstFull, Swift.min(wo, (w + padding.1 - kernel.1) / stride.1 + 1))
    for y in 0..<h {
      let src = s + y * w, dst = rows + y * wo
      for ox in 0..<wo where ox < firstFull || ox >= lastFull {
        var acc = start
        for kx in 0..<kernel.1 {
          let ix = ox * stride.1 - padding.1 + kx
          if ix >= 0 && ix < w { acc = combine(acc, src[ix]) }
        }
        dst[ox] = acc
      }
      for ox in firstFull..<lastFull {
        let base = src + ox * stride.1 - padding.1
        var acc = start
        for kx in 0..<kernel.1 { acc = combine(acc, base[kx]) }
        dst[ox] = acc
      }
    }
    for oy in 0..<ho {
      let out = d + oy * wo
      for ox in 0..<wo { out[ox] = start }
      for ky in 0..<kernel.0 {
        let iy = oy * stride.0 - padding.0 + ky
        if iy < 0 || iy >= h { continue }
        let row = rows + iy * wo
        for ox in 0..<wo { out[ox] = combine(out[ox], row[ox]) }
      }
    }
  }
}
