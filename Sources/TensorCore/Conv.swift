// Conv: 2-D convolution (stride, padding, dilation, groups, bias) through im2col + sgemm, with backward.

/// Geometry of one conv2d call, validated once.
struct ConvGeometry {
  let n: Int, c: Int, h: Int, w: Int
  let co: Int, kh: Int, kw: Int
  let sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
  let groups: Int
  let ho: Int, wo: Int
  var cg: Int { c / groups }
  var cog: Int { co / groups }
  /// Rows of the im2col matrix for one group.
  var colRows: Int { cg * kh * kw }
  var spatialOut: Int { ho * wo }
  /// A 1x1, stride-1, unpadded conv reads its input directly as the column matrix.
  var isPointwise: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 }

  init(input: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int) throws {
    guard input.count == 4, weight.count == 4 else {
      throw TensorError.shape("conv2d", "expected input [N,C,H,W] and weight [Cout,Cin/groups,kH,kW], got \(shapeString(input)) and \(shapeString(weight))")
    }
    guard groups > 0, stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
      throw TensorError.argument("conv2d", "stride and dilation must be positive, padding non-negative and groups positive")
    }
    (n, c, h, w) = (input[0], input[1], input[2], input[3])
    (co, kh, kw) = (weight[0], weight[2], weight[3])
    (sh, sw, ph, pw, dh, dw) = (stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1)
    self.groups = groups
    guard c % groups == 0, co % groups == 0, weight[1] == c / groups else {
      throw TensorError.shape(
        "conv2d", "input \(shapeString(input)) with groups=\(groups) needs weight [\(co),\(c / Swift.max(groups, 1)),kH,kW], got \(shapeString(weight))")
    }
    let spanH = h + 2 * ph - dh * (kh - 1) - 1, spanW = w + 2 * pw - dw * (kw - 1) - 1
    ho = spanH >= 0 ? spanH / sh + 1 : 0
    wo = spanW >= 0 ? spanW / sw + 1 : 0
    guard ho > 0, wo > 0 else {
      throw TensorError.shape("conv2d", "input \(shapeString(input)) is smaller than the kernel \(kh)x\(kw) (dilation \(dh)x\(dw), padding \(ph)x\(pw))")
    }
  }

  /// Unfolds group `g` of one sample's image [C,H,W] into col [cg*kh*kw, ho*wo].
  func im2col(_ image: UnsafePointer<Float>, group g: Int, into col: UnsafeMutablePointer<Float>) {
    let plane = h * w
    for cl in 0..<cg {
      let src = image + (g * cg + cl) * plane
      for ki in 0..<kh {
        for kj in 0..<kw {
          let row = col + ((cl * kh + ki) * kw + kj) * spatialOut
          let xoff = kj * dw - pw
          // Output columns whose input x = ox*sw + xoff lies inside [0, w).
          let oxLo = xoff >= 0 ? 0 : Swift.min(wo, (-xoff + sw - 1) / sw)
          let oxHi = Swift.max(oxLo, Swift.min(wo, w - xoff > 0 ? (w - xoff + sw - 1) / sw : 0))
          for oy in 0..<ho {
            let iy = oy * sh - ph + ki * dh
            let dst = row + oy * wo
            if iy < 0 || iy >= h {
              dst.update(repeating: 0, count: wo)
              continue
            }
            let line = src + iy * w + xoff
            for ox in 0..<oxLo { dst[ox] = 0 }
            if sw == 1 {
              (dst + oxLo).update(from: line + oxLo, count: oxHi - oxLo)
            } else {
              for ox in oxLo..<oxHi { dst[ox] = line[ox * sw] }
            }
            for ox in oxHi..<wo { dst[ox] = 0 }
          }
        }
      }
    }
  }

  /// Adds col [cg*kh*kw, ho*wo] back into group `g` of one sample's image gradient [C,H,W].
  func col2im(_ col: UnsafePointer<Float>, group g: Int, into image: UnsafeMutablePointer<Float>) {
    let plane = h * w
    for cl in 0..<cg {
      let dst = image + (g * cg + cl) * plane
      for ki in 0..<kh {
        for kj in 0..<kw {
          let row = col + ((cl * kh + ki) * kw + kj) * spatialOut
          let xoff = kj * dw - pw
          let oxLo = xoff >= 0 ? 0 : Swift.min(wo, (-xoff + sw - 1) / sw)
          let oxHi = Swift.max(oxLo, Swift.min(wo, w - xoff > 0 ? (w - xoff + sw - 1) / sw : 0))
          for oy in 0..<ho {
            let iy = oy * sh - ph + ki * dh
            if iy < 0 || iy >= h { continue }
            let line = dst + iy * w + xoff
            let src = row + oy * wo
            for ox in oxLo..<oxHi { line[ox * sw] += src[ox] }
          }
        }
      }
    }
  }
}

extension Tensor {
  /// 2-D convolution of input [N,C,H,W] with weight [Cout, C/groups, kH, kW] (cross-correlation,
  /// like PyTorch), optional bias [Cout].
  public static func conv2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
  ) throws -> Tensor {
    try input.requireFloat("conv2d")
    try weight.requireFloat("conv2d")
    try bias?.requireFloat("conv2d")
    let geo = try ConvGeometry(
      input: input.shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups)
    if let bias, bias.shape != [geo.co] {
      throw TensorError.shape("conv2d", "bias \(shapeString(bias.shape)) does not match \(geo.co) output channels")
    }
    let x = input.isContiguous ? input.detach() : input.contiguousCopy()
    let wt = weight.isContiguous ? weight.detach() : weight.contiguousCopy()
    let out = Tensor(shape: [geo.n, geo.co, geo.ho, geo.wo], zeroed: false)
    convForward(geo, x: x.data, w: wt.data, bias: bias.map { $0.isContiguous ? $0 : $0.contiguousCopy() }, out: out.data)
    let inputs = [input, weight] + (bias.map { [$0] } ?? [])
    return out.record("conv2d", inputs) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let (gx, gw) = convBackward(
        geo, x: x, w: wt, g: gc, needInput: input.requiresGrad, needWeight: weight.requiresGrad)
      var grads: [Tensor?] = [gx, gw]
      if let bias { grads.append(bias.requiresGrad ? try gc.sum(axes: [0, 2, 3]) : nil) }
      return grads
    }
  }

  static func convForward(
    _ geo: ConvGeometry, x: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>, bias: Tensor?,
    out: UnsafeMutablePointer<Float>
  ) {
    let inPlane = geo.c * geo.h * geo.w, outPlane = geo.co * geo.spatialOut
    let perSampleThreads = geo.n >= Parallel.threads
    let sample: (Int) -> Void = { s in
      let col = geo.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: geo.colRows * geo.spatialOut)
      defer { col?.deallocate() }
      let o = out + s * outPlane
      if let bias {
        for ch in 0..<geo.co { (o + ch * geo.spatialOut).update(repeating: bias.data[ch], count: geo.spatialOut) }
      }
      for g in 0..<geo.groups {
        let image = x + s * inPlane
        let colPtr: UnsafeMutablePointer<Float>
        if let col {
          geo.im2col(image, group: g, into: col)
          colPtr = col
        } else {
          colPtr = image + g * geo.cg * geo.h * geo.w
        }
        let a = MatrixOperand(rowMajor: w + g * geo.cog * geo.colRows, cols: geo.colRows)
        let b = MatrixOperand(rowMajor: colPtr, cols: geo.spatialOut)
        let c = o + g * geo.cog * geo.spatialOut
        let beta: Float = bias == nil ? 0 : 1
        if perSampleThreads {
          Gemm.serial(a, b, c, ldc: geo.spatialOut, m: geo.cog, n: geo.spatialOut, k: geo.colRows, beta: beta)
        } else {
          Gemm.parallel(a, b, c, ldc: geo.spatialOut, m: geo.cog, n: geo.spatialOut, k: geo.colRows, beta: beta)
        }
      }
    }
    if perSampleThreads {
      Parallel.forEach(geo.n, sample)
    } else {
      for s in 0..<geo.n { sample(s) }
    }
  }

  /// Input and weight gradients of conv2d for output gradient `g` (contiguous).
  static func convBackward(
    _ geo: ConvGeometry, x: Tensor, w: Tensor, g: Tensor, needInput: Bool, needWeight: Bool
  ) -> (Tensor?, Tensor?) {
    let gx = needInput ? Tensor(shape: [geo.n, geo.c, geo.h, geo.w]) : nil
    let workers = Swift.max(1, Swift.min(Parallel.threads, geo.n))
    let wCount = geo.co * geo.colRows
    let partialW = needWeight ? [Tensor](repeating: Tensor(shape: []), count: workers).map { _ in Tensor(shape: [wCount]) } : []
    let inPlane = geo.c * geo.h * geo.w, outPlane = geo.co * geo.spatialOut
    Parallel.forEach(workers) { worker in
      let colCount = geo.colRows * geo.spatialOut
      let col = UnsafeMutablePointer<Float>.allocate(capacity: colCount)
      defer { col.deallocate() }
      var s = worker
      while s < geo.n {
        for grp in 0..<geo.groups {
          let gy = g.data + s * outPlane + grp * geo.cog * geo.spatialOut
          let gyOp = MatrixOperand(rowMajor: gy, cols: geo.spatialOut)
          if needWeight {
            let colPtr: UnsafeMutablePointer<Float>
            if geo.isPointwise {
              colPtr = x.data + s * inPlane + grp * geo.cg * geo.h * geo.w
            } else {
              geo.im2col(x.data + s * inPlane, group: grp, into: col)
              colPtr = col
            }
            // dW_g += dY_g [cog, L] · colᵀ [L, colRows]
            var colT = MatrixOperand(rowMajor: colPtr, cols: geo.spatialOut)
            colT.transposed = true
            Gemm.serial(
              gyOp, colT, partialW[worker].data + grp * geo.cog * geo.colRows, ldc: geo.colRows,
              m: geo.cog, n: geo.colRows, k: geo.spatialOut, beta: 1)
          }
          if let gx {
            // dcol = W_gᵀ [colRows, cog] · dY_g [cog, L]
            var wT = MatrixOperand(rowMajor: w.data + grp * geo.cog * geo.colRows, cols: geo.colRows)
            wT.transposed = true
            let image = gx.data + s * inPlane
            if geo.isPointwise {
              Gemm.serial(wT, gyOp, image + grp * geo.cg * geo.h * geo.w, ldc: geo.spatialOut,
                m: geo.colRows, n: geo.spatialOut, k: geo.cog, beta: 1)
            } else {
              Gemm.serial(wT, gyOp, col, ldc: geo.spatialOut, m: geo.colRows, n: geo.spatialOut, k: geo.cog)
              geo.col2im(col, group: grp, into: image)
            }
          }
        }
        s += workers
      }
    }
    var gw: Tensor? = nil
    if needWeight {
      let total = partialW[0]
      for p in partialW.dropFirst() { for i in 0..<wCount { total.data[i] += p.data[i] } }
      gw = Tensor(storage: total.storage, shape: w.shape, strides: contiguousStrides(w.shape), offset: 0)
    }
    return (gx, gw)
  }
}
