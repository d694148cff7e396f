// ConvWinogradPasses: the Winograd conv2d passes — weight transforms, forward (also used for dX) and dW.

extension ConvGeometry {
  /// The input gradient as a Winograd forward conv of dY with the flipped, transposed weight
  /// (stride 1, padding 2 - p), when padding is at most 2.
  var winogradInputGradient: ConvGeometry? {
    guard fitsWinograd, ph <= 2, pw <= 2 else { return nil }
    return try? ConvGeometry(
      input: [n, co, ho, wo], weight: [c, cog, 3, 3], stride: (1, 1), padding: (2 - ph, 2 - pw),
      dilation: (1, 1), groups: groups)
  }

  /// w'[g·cg + i][o][a][b] = w[g·cog + o][i][kh-1-a][kw-1-b]: the weight of the input gradient as
  /// a forward conv, [C, Cout/groups, kh, kw].
  func flippedTransposedWeight(_ wt: UnsafePointer<Float>) -> Tensor {
    let out = Tensor(shape: [c, cog, kh, kw], zeroed: false)
    let k2 = kh * kw
    for g in 0..<groups {
      for o in 0..<cog {
        for i in 0..<cg {
          let src = wt + ((g * cog + o) * cg + i) * k2, dst = out.data + ((g * cg + i) * cog + o) * k2
          for a in 0..<k2 { dst[a] = src[k2 - 1 - a] }
        }
      }
    }
    return out
  }

  /// U[g][ξ][o][i] = (G w Gᵀ)[ξ] for each 3x3 kernel of weight [Cout, cg, 3, 3], G = [1 0 0;
  /// ½ ½ ½; ½ -½ ½; 0 0 1].
  func winogradWeight(_ wt: UnsafePointer<Float>) -> Tensor {
    let u = Tensor(shape: [groups, 16, cog, cg], zeroed: false)
    let ud = u.data, step = cog * cg
    Parallel.forRange(groups * cog, grain: Swift.max(1, 2048 / Swift.max(cg, 1))) { begin, end in
      // The 9 taps of this output channel's kernels gathered tap-major, so the transform runs
      // 8 input channels at a time.
      let taps = UnsafeMutablePointer<Float>.allocate(capacity: 9 * cg)
      defer { taps.deallocate() }
      for go in begin..<end {
        let src = wt + go * cg * 9
        for i in 0..<cg { for a in 0..<9 { taps[a * cg + i] = src[i * 9 + a] } }
        let dst = ud + ((go / cog) * 16 * cog + go % cog) * cg
        // Rows of G w (4 x 3); each row (x0, x1, x2) then becomes (x0, ½(x0+x1+x2), ½(x0-x1+x2), x2).
        @inline(__always) func emit(_ r: Int, _ i: Int, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>) {
          store8(x0, dst + 4 * r * step + i)
          store8(0.5 * (x0 + x1 + x2), dst + (4 * r + 1) * step + i)
          store8(0.5 * (x0 - x1 + x2), dst + (4 * r + 2) * step + i)
          store8(x2, dst + (4 * r + 3) * step + i)
        }
        var i = 0
        while i < cg {
          if i + 8 > cg { i = cg - 8 }  // cg >= 8: redo a few channels rather than a scalar tail
          let k0 = load8(taps + i), k1 = load8(taps + cg + i), k2 = load8(taps + 2 * cg + i)
          let k3 = load8(taps + 3 * cg + i), k4 = load8(taps + 4 * cg + i), k5 = load8(taps + 5 * cg + i)
          let k6 = load8(taps + 6 * cg + i), k7 = load8(taps + 7 * cg + i), k8 = load8(taps + 8 * cg + i)
          emit(0, i, k0, k1, k2)
          emit(1, i, 0.5 * (k0 + k3 + k6), 0.5 * (k1 + k4 + k7), 0.5 * (k2 + k5 + k8))
          emit(2, i, 0.5 * (k0 - k3 + k6), 0.5 * (k1 - k4 + k7), 0.5 * (k2 - k5 + k8))
          emit(3, i, k6, k7, k8)
          i += 8
        }
      }
    }
    return u
  }
}

extension Tensor {
  /// out [N, Cout, Ho, Wo] = conv(x, w) (+ bias) for `fitsWinograd` geometries, with `u` from
  /// `winogradWeight`. Tasks are (group, band of tile rows across the batch): pad and transform the
  /// band's input rows channel by channel, 16 GEMMs, transform back (adding `fusion`'s terms).
  static func winogradForward(
    _ geo: ConvGeometry, x: UnsafePointer<Float>, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    out: UnsafeMutablePointer<Float>, fusion: WinogradFusion = WinogradFusion()
  ) {
    let plan = WinogradPlan(geo)
    let tasks = geo.groups * plan.bands
    let outPlane = geo.co * geo.ho * geo.wo
    Parallel.balanced(tasks) { queue in
      let padded = UnsafeMutablePointer<Float>.allocate(capacity: plan.paddedBandFloats)
      let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * geo.cg * plan.bandTiles)
      let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * geo.cog * plan.bandTiles)
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 4 * plan.tw)
      defer {
        padded.deallocate()
        v.deallocate()
        m.deallocate()
        scratch.deallocate()
      }
      while let t = queue.next() {
        let g = t / plan.bands, band = t % plan.bands, tiles = plan.rows(ofBand: band) * plan.tw
        let xiV = geo.cg * tiles, xiM = geo.cog * tiles
        plan.forEachPiece(ofBand: band) { s, ty0, rows, offset in
          plan.transformInput(
            geo, x, sample: s, group: g, ty0: ty0, rows: rows, padded: padded,
            into: v + offset * plan.tw, tiles: tiles)
        }
        for xi in 0..<16 {
          let a = MatrixOperand(rowMajor: UnsafeMutablePointer(mutating: u) + (g * 16 + xi) * geo.cog * geo.cg, cols: geo.cg)
          Gemm.serial(
            a, MatrixOperand(rowMajor: v + xi * xiV, cols: tiles), m + xi * xiM, ldc: tiles, m: geo.cog, n: tiles,
            k: geo.cg)
        }
        plan.forEachPiece(ofBand: band) { s, ty0, rows, offset in
          let o = out + s * outPlane, residual = fusion.residual.map { $0 + s * outPlane }
          for co in 0..<geo.cog {
            let ch = g * geo.cog + co, plane = ch * geo.ho * geo.wo
            plan.outputTransform(
              m + co * tiles + offset * plan.tw, xiStride: xiM, ty0: ty0, rows: rows, bias: bias?[ch] ?? 0,
              o + plane, shift: fusion.sampleBias?[s * geo.co + ch] ?? 0, adding: residual.map { $0 + plane },
              scratch: scratch)
          }
        }
      }
    }
  }

  /// dW [Cout, cg, 3, 3] for `fitsWinograd` geometries: per thread, dU[g][ξ] += dM[ξ] · V[ξ]ᵀ over
  /// its tiles (dM = A dY Aᵀ, V = Bᵀ x B), then summed and mapped back by dw = Gᵀ dU G.
  static func winogradWeightGradient(
    _ geo: ConvGeometry, x: UnsafePointer<Float>, g gy: UnsafePointer<Float>, shape: [Int]
  ) -> Tensor {
    let plan = WinogradPlan(geo)
    let tasks = geo.groups * plan.bands
    let outPlane = geo.co * geo.ho * geo.wo
    let perGroup = 16 * geo.cog * geo.cg
    let workers = Swift.max(1, Swift.min(Parallel.threads, tasks))
    let partial = Tensor(shape: [workers, geo.groups * perGroup])
    Parallel.perWorker(tasks) { worker, workers in
      let padded = UnsafeMutablePointer<Float>.allocate(capacity: plan.paddedBandFloats)
      let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * geo.cg * plan.bandTiles)
      let dm = UnsafeMutablePointer<Float>.allocate(capacity: 16 * geo.cog * plan.bandTiles)
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 4 * plan.tw)
      defer {
        padded.deallocate()
        v.deallocate()
        dm.deallocate()
        scratch.deallocate()
      }
      var t = worker
      while t < tasks {
        let g = t / plan.bands, band = t % plan.bands, tiles = plan.rows(ofBand: band) * plan.tw
        let xiV = geo.cg * tiles, xiM = geo.cog * tiles
        plan.forEachPiece(ofBand: band) { s, ty0, rows, offset in
          plan.transformInput(
            geo, x, sample: s, group: g, ty0: ty0, rows: rows, padded: padded,
            into: v + offset * plan.tw, tiles: tiles)
          for co in 0..<geo.cog {
            let plane = gy + s * outPlane + (g * geo.cog + co) * geo.ho * geo.wo
            plan.gradientTransform(
              plane, ty0: ty0, rows: rows, dm + co * tiles + offset * plan.tw, xiStride: xiM, scratch: scratch)
          }
        }
        let acc = partial.data + (worker * geo.groups + g) * perGroup
        for xi in 0..<16 {
          var vT = MatrixOperand(rowMajor: v + xi * xiV, cols: tiles)
          vT.transposed = true
          Gemm.serial(
            MatrixOperand(rowMajor: dm + xi * xiM, cols: tiles), vT, acc + xi * geo.cog * geo.cg, ldc: geo.cg,
            m: geo.cog, n: geo.cg, k: tiles, beta: 1)
        }
        t += workers
      }
    }
    // Per output channel (in parallel): the workers' dU planes summed in worker order, then
    // dw = Gᵀ dU G per kernel: each row (d0..d3) maps to (d0 + ½d1 + ½d2, ½d1 - ½d2, ½d1 + ½d2 + d3).
    let total = geo.groups * perGroup, step = geo.cog * geo.cg
    let gw = Tensor(shape: shape, zeroed: false)
    Parallel.forRange(geo.groups * geo.cog, grain: Swift.max(1, 256 / Swift.max(1, geo.cg))) { first, end in
      for go in first..<end {
        let g = go / geo.cog, o = go % geo.cog
        for xi in 0..<16 {
          let plane = partial.data + (g * 16 + xi) * step + o * geo.cg
          for wk in 1..<workers {
            let src = plane + wk * total
            for i in 0..<geo.cg { plane[i] += src[i] }
          }
        }
        for i in 0..<geo.cg {
          let base = partial.data + (g * 16 * geo.cog + o) * geo.cg + i
          func row(_ r: Int) -> SIMD4<Float> {
            SIMD4(base[4 * r * step], base[(4 * r + 1) * step], base[(4 * r + 2) * step], base[(4 * r + 3) * step])
          }
          let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3))
          let k = gw.data + ((g * geo.cog + o) * geo.cg + i) * 9
          func emit(_ r: Int, _ x: SIMD4<Float>) {
            k[3 * r] = x[0] + 0.5 * x[1] + 0.5 * x[2]
            k[3 * r + 1] = 0.5 * x[1] - 0.5 * x[2]
            k[3 * r + 2] = 0.5 * x[1] + 0.5 * x[2] + x[3]
          }
          emit(0, d0 + 0.5 * d1 + 0.5 * d2)
          emit(1, 0.5 * d1 - 0.5 * d2)
          emit(2, 0.5 * d1 + 0.5 * d2 + d3)
        }
      }
    }
    return gw
  }
}

/// Inference-only adds folded into a Winograd forward while it writes its outputs.
struct WinogradFusion {
  /// Added to the bias of each (sample, output channel), [N·Cout].
  var sampleBias: UnsafePointer<Float>? = nil
  /// Added to the output, [N, Cout, Ho, Wo].
  var residual: UnsafePointer<Float>? = nil
}

extension WinogradPlan {
  /// Writes the input transform of tile rows `ty0 ..< ty0 + rows` of sample `s` for every channel of
  /// group `g` into `v` (channel stride `tiles`, transform-element stride `cg · tiles`). Each channel's
  /// 2·rows + 2 padded input rows go through `padded` (one channel, so it stays in L1) just before
  /// their transform: the input is read once, and no thread pads rows that another one transforms.
  func transformInput(
    _ geo: ConvGeometry, _ x: UnsafePointer<Float>, sample s: Int, group g: Int, ty0: Int, rows: Int,
    padded: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>, tiles: Int
  ) {
    let inPlane = geo.c * geo.h * geo.w
    for cl in 0..<geo.cg {
      let ch = g * geo.cg + cl
      padRows(x + s * inPlane + ch * geo.h * geo.w, ty0: ty0, rows: rows, into: padded)
      inputTransform(padded, ty0: 0, rows: rows, v + cl * tiles, xiStride: geo.cg * tiles)
    }
  }

}
