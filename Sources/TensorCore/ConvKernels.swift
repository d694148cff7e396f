// ConvKernels: conv2d forward and backward passes — im2col + sgemm over column tiles, or Winograd where it fits.

extension Tensor {
  /// out [N, Cout, Ho, Wo] = conv(x, w) (+ bias): Winograd for 3x3 stride-1 convs, otherwise
  /// im2col + sgemm. Tasks are (sample, group, column tile) — and a share of the output channels
  /// when there are fewer of those than threads: each unfolds its tile into a per-thread buffer and
  /// runs one sgemm into its block of the output. A pointwise conv reads the input directly.
  /// `fusion` (Winograd geometries only) adds its terms while the outputs are written.
  static func convForward(
    _ geo: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    out: UnsafeMutablePointer<Float>, fusion: WinogradFusion = WinogradFusion()
  ) {
    if geo.fitsWinograd {
      let u = geo.winogradWeight(w)
      withExtendedLifetime(u) { winogradForward(geo, x: x, u: u.data, bias: bias, out: out, fusion: fusion) }
      return
    }
    let spatial = geo.spatialOut, tile = geo.isPointwise ? spatial : geo.columnTile
    let tiles = (spatial + tile - 1) / tile, perSample = geo.groups * tiles
    let inPlane = geo.c * geo.h * geo.w, outPlane = geo.co * spatial
    // Fewer (sample, group, tile) blocks than threads (a small batch of small images): each block's
    // output channels are split between threads too, each unfolding the block's columns itself.
    // (No blocks at all for empty tensors.)
    let blocks = geo.n * perSample
    let splits = blocks > 0 && blocks < Parallel.threads ? Swift.max(1, Swift.min(Parallel.threads / blocks, geo.cog / 32)) : 1
    let tasks = blocks * splits
    Parallel.balanced(tasks) { queue in
      let col = geo.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: geo.colRows * tile)
      let padded = geo.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, geo.paddedCount))
      defer {
        col?.deallocate()
        padded?.deallocate()
      }
      var paddedKey = -1
      while let t = queue.next() {
        let block = t / splits, part = t % splits
        let s = block / perSample, g = (block % perSample) / tiles, c0 = (block % tiles) * tile
        let count = Swift.min(tile, spatial - c0)
        let ch0 = part * geo.cog / splits, channels = (part + 1) * geo.cog / splits - ch0
        let o = out + s * outPlane + (g * geo.cog + ch0) * spatial + c0
        if let bias {
          for ch in 0..<channels { (o + ch * spatial).update(repeating: bias[g * geo.cog + ch0 + ch], count: count) }
        }
        let image = x + s * inPlane
        let b: MatrixOperand
        if let col, let padded {
          geo.unfold(image, sample: s, group: g, start: c0, count: count, padded: padded, paddedKey: &paddedKey, into: col)
          b = MatrixOperand(rowMajor: col, cols: count)
        } else {
          let first = UnsafeMutablePointer(mutating: image) + g * geo.cg * geo.h * geo.w + c0
          var direct = MatrixOperand(rowMajor: first, cols: count)
          direct.ld = spatial
          b = direct
        }
        let a = MatrixOperand(
          rowMajor: UnsafeMutablePointer(mutating: w) + (g * geo.cog + ch0) * geo.colRows, cols: geo.colRows)
        Gemm.serial(a, b, o, ldc: spatial, m: channels, n: count, k: geo.colRows, beta: bias == nil ? 0 : 1)
      }
    }
  }

  /// Input and weight gradients of conv2d for output gradient `g` (contiguous): Winograd for 3x3
  /// stride-1 convs (dX as the Winograd forward of dY with the flipped weight), else im2col + sgemm.
  static func convBackward(
    _ geo: ConvGeometry, x: Tensor, w: Tensor, g: Tensor, needInput: Bool, needWeight: Bool
  ) -> (Tensor?, Tensor?) {
    guard geo.fitsWinograd else {
      return convBackwardGemm(geo, x: x, w: w, g: g, needInput: needInput, needWeight: needWeight)
    }
    let gw = needWeight ? winogradWeightGradient(geo, x: x.data, g: g.data, shape: w.shape) : nil
    guard needInput else { return (nil, gw) }
    guard let tgeo = geo.winogradInputGradient else {
      return (convBackwardGemm(geo, x: x, w: w, g: g, needInput: true, needWeight: false).0, gw)
    }
    let gx = Tensor(shape: [geo.n, geo.c, geo.h, geo.w], zeroed: false)
    let flipped = geo.flippedTransposedWeight(w.data)
    let u = withExtendedLifetime(flipped) { tgeo.winogradWeight(flipped.data) }
    withExtendedLifetime(u) { winogradForward(tgeo, x: g.data, u: u.data, bias: nil, out: gx.data) }
    return (gx, gw)
  }

  /// The im2col + sgemm backward for any geometry. Tasks are (sample, group), so one thread owns
  /// each slice of dX; per column tile it unfolds x and adds col · dY_tileᵀ into its own dWᵀ
  /// [colRows, cog] (this orientation runs faster in sgemm than dY · colᵀ), then reuses the buffer
  /// for dcol = Wᵀ dY_tile and adds it back with col2im while dY_tile is still in cache. The
  /// per-thread dWᵀ are summed and transposed at the end.
  static func convBackwardGemm(
    _ geo: ConvGeometry, x: Tensor, w: Tensor, g: Tensor, needInput: Bool, needWeight: Bool
  ) -> (Tensor?, Tensor?) {
    let spatial = geo.spatialOut, tile = geo.isPointwise ? spatial : geo.columnTile
    let inPlane = geo.c * geo.h * geo.w, outPlane = geo.co * spatial
    let tasks = geo.n * geo.groups, perGroup = geo.colRows * geo.cog
    let workers = Swift.max(1, Swift.min(Parallel.threads, tasks))
    let partial = needWeight ? Tensor(shape: [workers, geo.groups * perGroup]) : nil  // dWᵀ per worker, group
    let gx = needInput ? Tensor(shape: [geo.n, geo.c, geo.h, geo.w]) : nil
    Parallel.perWorker(tasks) { worker, workers in
      let col = UnsafeMutablePointer<Float>.allocate(capacity: geo.colRows * tile)
      let padded = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, geo.paddedCount))
      defer {
        col.deallocate()
        padded.deallocate()
      }
      var paddedKey = -1
      var t = worker
      while t < tasks {
        let s = t / geo.groups, grp = t % geo.groups
        let image = x.data + s * inPlane
        for c0 in stride(from: 0, to: spatial, by: tile) {
          let count = Swift.min(tile, spatial - c0)
          let gyPointer = g.data + s * outPlane + grp * geo.cog * spatial + c0
          if let partial {
            let a: MatrixOperand
            if geo.isPointwise {
              var direct = MatrixOperand(rowMajor: image + grp * geo.cg * geo.h * geo.w + c0, cols: count)
              direct.ld = spatial
              a = direct
            } else {
              geo.unfold(image, sample: s, group: grp, start: c0, count: count, padded: padded, paddedKey: &paddedKey, into: col)
              a = MatrixOperand(rowMajor: col, cols: count)
            }
            // dWᵀ_g [colRows, cog] += col [colRows, count] · dY_gᵀ [count, cog]
            var gyT = MatrixOperand(rowMajor: gyPointer, cols: count)
            gyT.ld = spatial
            gyT.transposed = true
            Gemm.serial(
              a, gyT, partial.data + (worker * geo.groups + grp) * perGroup, ldc: Swift.max(geo.cog, 1),
              m: geo.colRows, n: geo.cog, k: count, beta: 1)
          }
          if let gx {
            // dcol = W_gᵀ [colRows, cog] · dY_g [cog, count]
            var wT = MatrixOperand(rowMajor: w.data + grp * geo.cog * geo.colRows, cols: geo.colRows)
            wT.transposed = true
            var gy = MatrixOperand(rowMajor: gyPointer, cols: count)
            gy.ld = spatial
            let image = gx.data + s * inPlane
            if geo.isPointwise {
              Gemm.serial(
                wT, gy, image + grp * geo.cg * geo.h * geo.w + c0, ldc: spatial, m: geo.colRows, n: count, k: geo.cog)
            } else {
              Gemm.serial(wT, gy, col, ldc: count, m: geo.colRows, n: count, k: geo.cog)
              geo.col2imTile(col, group: grp, start: c0, count: count, into: image)
            }
          }
        }
        t += workers
      }
    }
    guard let partial else { return (gx, nil) }
    let gw = Tensor(shape: w.shape, zeroed: false)
    for grp in 0..<geo.groups {
      for o in 0..<geo.cog {
        let dst = gw.data + (grp * geo.cog + o) * geo.colRows
        for r in 0..<geo.colRows {
          var total: Float = 0
          for wk in 0..<workers { total += partial.data[(wk * geo.groups + grp) * perGroup + r * geo.cog + o] }
          dst[r] = total
        }
      }
    }
    return (gx, gw)
  }

  /// db [Cout] = Σ over samples and positions of dY (contiguous): per-channel row sums, without the
  /// transposed copy a generic sum over axes [0, 2, 3] would make.
  static func convBiasGradient(_ geo: ConvGeometry, g: Tensor) -> Tensor {
    let out = Tensor(shape: [geo.co], zeroed: false)
    let spatial = geo.spatialOut, gp = g.data, op = out.data
    Parallel.forRange(geo.co, grain: Swift.max(1, 16384 / Swift.max(geo.n * spatial, 1))) { begin, end in
      for ch in begin..<end {
        var total: Double = 0
        for s in 0..<geo.n { total += Double(rowSum(gp + (s * geo.co + ch) * spatial, spatial)) }
        op[ch] = Float(total)
      }
    }
    return out
  }
}
