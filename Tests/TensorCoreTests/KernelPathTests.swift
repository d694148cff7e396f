// Kernel-path tests: the specialised fast paths (vectorised group_norm, rational gelu, convolution,
// pooling, fused norms, batched transposes) against references written with the generic ops or in
// Double. The attention paths are in AttentionPathTests.swift.

import Foundation
@testable import TensorCore
import XCTest

final class NormAndActivationKernelTests: XCTestCase {
  func testGroupNormLongRowsMatchDoubleReference() throws {
    // Rows of 4·143 = 572 elements run the 32-wide, 8-wide and scalar tails of the vectorised
    // reductions; a large offset checks the two-pass variance does not cancel.
    let n = 2, c = 8, h = 13, w = 11, groups = 2
    let x = Tensor.randn([n, c, h, w], generator: Generator(seed: 350))
    for i in 0..<x.count { x.data[i] = x.data[i] * 3 + 100 }
    let weight = Tensor.randn([c], generator: Generator(seed: 351)), bias = Tensor.randn([c], generator: Generator(seed: 352))
    let out = try Tensor.groupNorm(x, groups: groups, weight: weight, bias: bias)
    let xs = x.toArray().map(Double.init), ws = weight.toArray(), bs = bias.toArray()
    let m = (c / groups) * h * w
    var expected = [Float](repeating: 0, count: x.count)
    for r in 0..<(n * groups) {
      let row = xs[(r * m)..<((r + 1) * m)]
      let mean = row.reduce(0, +) / Double(m)
      let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(m)
      for i in 0..<m {
        let ch = (r % groups) * (c / groups) + i / (h * w)
        let xhat = (xs[r * m + i] - mean) / (variance + 1e-5).squareRoot()
        expected[r * m + i] = Float(xhat * Double(ws[ch]) + Double(bs[ch]))
      }
    }
    assertClose(out.toArray(), expected, rtol: 1e-4, atol: 1e-4, "group_norm long rows")
  }

  func testGroupNormLongRowsGradient() throws {
    let i = Inputs(seed: 353)
    try gradCheck([i.normal([1, 4, 9, 9]), i.normal([4]), i.normal([4])], "group_norm 162-element rows") {
      try Tensor.groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2])
    }
  }

  func testGeluMatchesErfInDoubleOverAWideRange() throws {
    // Every 1/64 on [-12, 12] plus the infinities: the rational erfc keeps |gelu - x·Φ(x)| within
    // float rounding of x (the erf behind it is good to 1.6e-7 absolute).
    var xs: [Float] = stride(from: -12.0, through: 12.0, by: 1.0 / 64).map { Float($0) }
    xs += [1e-8, -1e-8, 30, -30]
    let x = Tensor(xs)
    let y = try x.gelu().toArray()
    for (j, v) in xs.enumerated() {
      let exact = Double(v) * 0.5 * (1 + erf(Double(v) / 2.0.squareRoot()))
      XCTAssertEqual(Double(y[j]), exact, accuracy: 2e-7 * Swift.max(1, Double(Swift.abs(v))), "gelu(\(v))")
    }
    XCTAssertEqual(try Tensor([Float.infinity]).gelu().toArray(), [.infinity])
    XCTAssertTrue(try Tensor([Float.nan]).gelu().toArray()[0].isNaN)
  }

  func testGeluGradientMatchesDoubleDerivative() throws {
    let xs: [Float] = stride(from: -8.0, through: 8.0, by: 1.0 / 16).map { Float($0) }
    let x = Tensor(xs)
    x.requiresGrad = true
    try x.gelu().backward(Tensor.ones([xs.count]))
    let g = try XCTUnwrap(x.grad).toArray()
    for (j, v) in xs.enumerated() {
      let t = Double(v)
      let exact = 0.5 * (1 + erf(t / 2.0.squareRoot())) + t * exp(-0.5 * t * t) / (2 * Double.pi).squareRoot()
      XCTAssertEqual(Double(g[j]), exact, accuracy: 1e-6, "gelu'(\(v))")
    }
  }

  func testGegluKernelsGiveTheSameFloats() throws {
    // The AVX-512 GEGLU forward and backward run the Swift GELU's operations in the same order:
    // every value and gradient, the erfc cutoff, the infinities and NaN included, is the same float
    // (with a masked tail of 5).
    var gates: [Float] = stride(from: -9.0, through: 9.0, by: 1.0 / 32).map { Float($0) }
    gates += [Float(3.92 * 2.0.squareRoot()), 30, -30, .infinity, -.infinity, .nan, 0, -0.0, 1e-30]
    let n = 21, rows = (gates.count + n - 1) / n
    let x = Tensor(shape: [rows, 2 * n])
    for i in 0..<(rows * n) {
      x.data[(i / n) * 2 * n + i % n] = Float(i % 7) - 2.5
      x.data[(i / n) * 2 * n + n + i % n] = gates[i % gates.count]
    }
    let up = Tensor.randn([rows, n], generator: Generator(seed: 367))
    func run() throws -> (out: [Float], grad: [Float]) {
      let leaf = x.contiguousCopy()
      leaf.requiresGrad = true
      let out = try leaf.geglu()
      try out.backward(up)
      return (out.toArray(), try XCTUnwrap(leaf.grad).toArray())
    }
    let wide = try run()
    let swift = try VectorDispatch.$allowAVX512.withValue(false) { try run() }
    XCTAssertEqual(wide.out.map(\.bitPattern), swift.out.map(\.bitPattern))
    XCTAssertEqual(wide.grad.map(\.bitPattern), swift.grad.map(\.bitPattern))
  }

  func testLeadingAxesSumMatchesTheTransposedRowPath() throws {
    // Column sums over a leading prefix: more rows than one 1024-row block, a column count with a
    // scalar tail, two workers; the reference is the same values transposed (the row-sum path).
    for (shape, axes) in [([2_100, 37], [0]), ([3, 700, 16], [0, 1]), ([5, 9, 8], [0])] {
      let x = Tensor.randn(shape, generator: Generator(seed: 360))
      let kept = Array(shape[axes.count...]), rows = axes.reduce(1) { $0 * shape[$1] }
      let moved = try x.reshape([rows, kept.reduce(1, *)]).transpose(0, 1).contiguous()
      let expected = try moved.sum(axes: [1]).reshape(kept).toArray()
      assertClose(try x.sum(axes: axes).toArray(), expected, rtol: 1e-5, atol: 1e-4, "sum \(shape) over \(axes)")
      let mean = try x.mean(axes: axes, keepdim: true)
      XCTAssertEqual(mean.shape, shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element })
      assertClose(mean.toArray(), expected.map { $0 / Float(rows) }, rtol: 1e-5, atol: 1e-6, "mean \(shape) over \(axes)")
    }
    try gradCheck([Inputs(seed: 361).normal([3, 2, 8])], "sum over leading axes") { try $0[0].sum(axes: [0, 1]) }
    try gradCheck([Inputs(seed: 362).normal([4, 9])], "mean over axis 0 keepdim") { try $0[0].mean(axes: [0], keepdim: true) }
  }

  func testLayerNormBackwardMatchesDoubleReference() throws {
    // 1000 rows of 44 (5 vectors and a scalar tail) split over the workers, with and without weight.
    let rows = 1000, d = 44
    let x = Tensor.randn([rows, d], generator: Generator(seed: 363)), up = Tensor.randn([rows, d], generator: Generator(seed: 364))
    for useWeight in [true, false] {
      let weight = useWeight ? Tensor.randn([d], generator: Generator(seed: 365)) : nil
      let bias = Tensor.randn([d], generator: Generator(seed: 366))
      for t in [x, bias] + (weight.map { [$0] } ?? []) {
        t.grad = nil
        t.requiresGrad = true
      }
      try Tensor.layerNorm(x, normalizedShape: [d], weight: weight, bias: bias).backward(up)
      let xs = x.toArray().map(Double.init), gs = up.toArray().map(Double.init)
      let ws = weight?.toArray().map(Double.init) ?? [Double](repeating: 1, count: d)
      var dx = [Float](repeating: 0, count: rows * d), dw = [Double](repeating: 0, count: d), db = dw
      for r in 0..<rows {
        let row = xs[(r * d)..<((r + 1) * d)], g = Array(gs[(r * d)..<((r + 1) * d)])
        let mean = row.reduce(0, +) / Double(d)
        let rstd = 1 / (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d) + 1e-5).squareRoot()
        let xhat = row.map { ($0 - mean) * rstd }
        let ghat = (0..<d).map { g[$0] * ws[$0] }
        let ma = ghat.reduce(0, +) / Double(d), mb = zip(ghat, xhat).reduce(0) { $0 + $1.0 * $1.1 } / Double(d)
        for i in 0..<d {
          dx[r * d + i] = Float(rstd * (ghat[i] - ma - xhat[i] * mb))
          dw[i] += g[i] * xhat[i]
          db[i] += g[i]
        }
      }
      assertClose(try XCTUnwrap(x.grad).toArray(), dx, rtol: 1e-4, atol: 1e-4, "layer_norm dx (weight: \(useWeight))")
      assertClose(try XCTUnwrap(bias.grad).toArray(), db.map(Float.init), rtol: 1e-4, atol: 1e-3, "layer_norm db")
      if let weight { assertClose(try XCTUnwrap(weight.grad).toArray(), dw.map(Float.init), rtol: 1e-4, atol: 1e-3, "layer_norm dw") }
    }
  }
}

final class ConvKernelPathTests: XCTestCase {
  struct Setup {
    let n: Int, c: Int, h: Int, w: Int, co: Int, kh: Int, kw: Int
    let stride: (Int, Int), pad: (Int, Int), dil: (Int, Int), groups: Int
    var ho: Int { (h + 2 * pad.0 - dil.0 * (kh - 1) - 1) / stride.0 + 1 }
    var wo: Int { (w + 2 * pad.1 - dil.1 * (kw - 1) - 1) / stride.1 + 1 }
  }

  /// Direct loops in Double: forward output, and dX, dW for output gradient `gy`.
  func naive(_ s: Setup, _ x: [Float], _ wt: [Float], _ gy: [Float]) -> ([Double], [Double], [Double]) {
    let cg = s.c / s.groups, cog = s.co / s.groups
    var out = [Double](repeating: 0, count: s.n * s.co * s.ho * s.wo)
    var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: wt.count)
    for b in 0..<s.n {
      for o in 0..<s.co {
        let g = o / cog
        for oy in 0..<s.ho {
          for ox in 0..<s.wo {
            let oi = ((b * s.co + o) * s.ho + oy) * s.wo + ox
            for i in 0..<cg {
              for a in 0..<s.kh {
                for e in 0..<s.kw {
                  let iy = oy * s.stride.0 - s.pad.0 + a * s.dil.0, ix = ox * s.stride.1 - s.pad.1 + e * s.dil.1
                  if iy < 0 || iy >= s.h || ix < 0 || ix >= s.w { continue }
                  let xi = ((b * s.c + g * cg + i) * s.h + iy) * s.w + ix
                  let wi = ((o * cg + i) * s.kh + a) * s.kw + e
                  out[oi] += Double(x[xi]) * Double(wt[wi])
                  gx[xi] += Double(gy[oi]) * Double(wt[wi])
                  gw[wi] += Double(gy[oi]) * Double(x[xi])
                }
              }
            }
          }
        }
      }
    }
    return (out, gx, gw)
  }

  func check(_ s: Setup, seed: UInt64, _ name: String) throws {
    let gen = Generator(seed: seed)
    let x = Tensor.randn([s.n, s.c, s.h, s.w], generator: gen)
    let wt = Tensor.randn([s.co, s.c / s.groups, s.kh, s.kw], generator: gen)
    let gy = Tensor.randn([s.n, s.co, s.ho, s.wo], generator: gen)
    x.requiresGrad = true
    wt.requiresGrad = true
    let out = try Tensor.conv2d(x, weight: wt, stride: s.stride, padding: s.pad, dilation: s.dil, groups: s.groups)
    try out.backward(gy)
    let (eo, egx, egw) = naive(s, x.toArray(), wt.toArray(), gy.toArray())
    assertClose(out.toArray(), eo.map(Float.init), rtol: 1e-4, atol: 1e-4, "\(name) forward")
    assertClose(try XCTUnwrap(x.grad).toArray(), egx.map(Float.init), rtol: 1e-4, atol: 1e-4, "\(name) dx")
    assertClose(try XCTUnwrap(wt.grad).toArray(), egw.map(Float.init), rtol: 1e-4, atol: 2e-3, "\(name) dw")
  }

  /// One sample with one column tile but many output channels: the channels are split between
  /// threads (four here, whatever the machine has), each unfolding the columns itself.
  func testSmallBatchSplitsOutputChannelsBetweenThreads() throws {
    try Parallel.$threadOverride.withValue(4) {
      try check(
        Setup(n: 1, c: 8, h: 6, w: 5, co: 70, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 1),
        seed: 362, "3x3, 70 output channels in 2 shares")
      let g = Generator(seed: 363)
      let x = Tensor.randn([1, 4, 5, 5], generator: g), w = Tensor.randn([130, 4, 3, 3], generator: g)
      let bias = Tensor.randn([130], generator: g)
      let withBias = try Tensor.conv2d(x, weight: w, bias: bias, padding: (1, 1))
      let separate = try Tensor.conv2d(x, weight: w, padding: (1, 1)) + bias.reshape([1, 130, 1, 1])
      assertClose(withBias.toArray(), separate.toArray(), rtol: 1e-5, atol: 1e-5, "bias over 4 shares")
    }
  }

  func testSeveralColumnTilesStrideOne() throws {
    // colRows = 36 gives ~3600-column tiles: 70x70 = 4900 output columns run as two tiles, and the
    // input gradient goes through the flipped-weight forward kernel.
    try check(
      Setup(n: 2, c: 4, h: 70, w: 70, co: 3, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 1),
      seed: 360, "3x3 pad 1, two tiles")
  }

  func testSeveralColumnTilesStrideTwoWithGroups() throws {
    // Stride 2 takes the col2im path for dX; colRows = 18 gives ~7300-column tiles: 90x90 = 8100.
    try check(
      Setup(n: 2, c: 4, h: 180, w: 179, co: 4, kh: 3, kw: 3, stride: (2, 2), pad: (1, 1), dil: (1, 1), groups: 2),
      seed: 361, "3x3 stride 2 groups 2")
  }

  func testTransposedInputGradientVariants() throws {
    // Dilation with asymmetric kernels and padding, groups, a pointwise conv, and padding beyond
    // dilation·(k-1) (which falls back to col2im).
    let cases: [(Setup, String)] = [
      (Setup(n: 2, c: 6, h: 11, w: 9, co: 4, kh: 3, kw: 2, stride: (1, 1), pad: (2, 0), dil: (2, 3), groups: 2), "dilated"),
      (Setup(n: 3, c: 5, h: 6, w: 7, co: 2, kh: 1, kw: 1, stride: (1, 1), pad: (0, 0), dil: (1, 1), groups: 1), "pointwise"),
      (Setup(n: 1, c: 3, h: 5, w: 6, co: 2, kh: 1, kw: 3, stride: (1, 1), pad: (1, 2), dil: (1, 1), groups: 1), "wide padding"),
      (Setup(n: 2, c: 3, h: 9, w: 8, co: 6, kh: 3, kw: 3, stride: (1, 2), pad: (1, 1), dil: (1, 1), groups: 3), "mixed stride"),
    ]
    for (i, (s, name)) in cases.enumerated() { try check(s, seed: 370 + UInt64(i), name) }
  }

  func testWinogradPath() throws {
    // 3x3 stride 1 with >= 8 channels per group takes Winograd F(2x2, 3x3): odd output sizes (edge
    // tiles), padding 0...2 (dX as a Winograd conv of dY), padding 3 (dX falls back to col2im),
    // groups, an image tall enough to be split into two bands of tile rows, and rows of tiles that
    // take the 8-wide, 4-wide and scalar transform loops. Every case has >= 256 output positions
    // (fewer go to im2col); the last checks that choice.
    let cases: [(Setup, String)] = [
      (Setup(n: 4, c: 8, h: 9, w: 9, co: 12, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 1), "odd sizes"),
      (Setup(n: 6, c: 9, h: 8, w: 6, co: 8, kh: 3, kw: 3, stride: (1, 1), pad: (0, 2), dil: (1, 1), groups: 1), "padding 0 and 2"),
      (Setup(n: 5, c: 8, h: 5, w: 6, co: 8, kh: 3, kw: 3, stride: (1, 1), pad: (3, 1), dil: (1, 1), groups: 1), "padding 3"),
      (Setup(n: 5, c: 16, h: 8, w: 7, co: 16, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 2), "groups"),
      (Setup(n: 1, c: 64, h: 70, w: 32, co: 8, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 1), "two bands"),
      (Setup(n: 4, c: 8, h: 8, w: 8, co: 8, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 1), "four tiles per row"),
      (Setup(n: 2, c: 8, h: 6, w: 26, co: 8, kh: 3, kw: 3, stride: (1, 1), pad: (1, 1), dil: (1, 1), groups: 1), "8 + 4 + 1 tiles per row"),
    ]
    for (i, (s, name)) in cases.enumerated() {
      let geo = try ConvGeometry(
        input: [s.n, s.c, s.h, s.w], weight: [s.co, s.c / s.groups, s.kh, s.kw], stride: s.stride, padding: s.pad,
        dilation: s.dil, groups: s.groups)
      XCTAssertTrue(geo.fitsWinograd, name)
      try check(s, seed: 380 + UInt64(i), "winograd " + name)
    }
    let few = try ConvGeometry(input: [1, 8, 8, 8], weight: [8, 8, 3, 3], stride: (1, 1), padding: (1, 1), dilation: (1, 1), groups: 1)
    XCTAssertFalse(few.fitsWinograd, "64 output positions go to im2col")
  }

  func testWinogradInputTransformBuildsGiveTheSameFloats() throws {
    // Rows of 27 tiles run the AVX-512 transform's 16- and 8-tile steps and the Swift loops for the
    // last 3; rows of 8 only its 8-tile step. Forward and both gradients must match bit for bit.
    for (i, (h, w)) in [(10, 54), (16, 16)].enumerated() {
      func run(_ wide: Bool) throws -> [[Float]] {
        try VectorDispatch.$allowAVX512.withValue(wide) {
          let g = Generator(seed: 395 + UInt64(i))
          let x = Tensor.randn([2, 8, h, w], generator: g), weight = Tensor.randn([8, 8, 3, 3], generator: g)
          x.requiresGrad = true
          weight.requiresGrad = true
          let out = try Tensor.conv2d(x, weight: weight, bias: nil, stride: (1, 1), padding: (1, 1))
          try out.backward(Tensor.randn(out.shape, generator: g))
          return [out.toArray(), x.grad?.toArray() ?? [], weight.grad?.toArray() ?? []]
        }
      }
      XCTAssertEqual(try run(true), try run(false), "\(h)x\(w)")
    }
  }

  /// conv2d with a per-sample bias and a residual folded into the Winograd output pass equals the
  /// conv followed by the two adds bit for bit; other geometries, broadcast shapes and autograd
  /// take the separate ops, whose gradients reach every operand.
  func testConvAddingSampleBiasAndResidualEqualsSeparateAdds() throws {
    let g = Generator(seed: 390)
    // Winograd geometries (>= 256 output positions), then ones that take the separate ops.
    for (n, c, h, w, co, k, pad) in [(4, 8, 7, 10, 12, 3, 1), (4, 16, 8, 8, 8, 3, 1), (2, 4, 6, 5, 8, 3, 1), (2, 8, 6, 6, 8, 1, 0), (1, 8, 8, 8, 8, 3, 1)] {
      let x = Tensor.randn([n, c, h, w], generator: g), weight = Tensor.randn([co, c, k, k], generator: g)
      let bias = Tensor.randn([co], generator: g), sampleBias = Tensor.randn([n, co], generator: g)
      let residual = Tensor.randn([n, co, h, w], generator: g)
      let fused = try GradMode.noGrad {
        try Tensor.conv2d(x, weight: weight, bias: bias, padding: (pad, pad), sampleBias: sampleBias, residual: residual)
      }
      let separate = try GradMode.noGrad {
        try residual + (Tensor.conv2d(x, weight: weight, bias: bias, padding: (pad, pad)) + sampleBias.reshape([n, co, 1, 1]))
      }
      XCTAssertEqual(fused.toArray(), separate.toArray(), "n \(n) c \(c) \(h)x\(w) -> \(co), kernel \(k)")
      let onlyResidual = try GradMode.noGrad {
        try Tensor.conv2d(x, weight: weight, bias: nil, padding: (pad, pad), sampleBias: nil, residual: residual)
      }
      let separateResidual = try GradMode.noGrad { try residual + Tensor.conv2d(x, weight: weight, padding: (pad, pad)) }
      XCTAssertEqual(onlyResidual.toArray(), separateResidual.toArray())
    }
    let x = Tensor.randn([2, 8, 5, 5], generator: g), weight = Tensor.randn([8, 8, 3, 3], generator: g)
    let sampleBias = Tensor.randn([2, 8], generator: g), residual = Tensor.randn([2, 8, 5, 5], generator: g)
    for t in [x, weight, sampleBias, residual] { t.requiresGrad = true }
    let y = try Tensor.conv2d(x, weight: weight, bias: nil, padding: (1, 1), sampleBias: sampleBias, residual: residual)
    try y.sum().backward()
    XCTAssertEqual(residual.grad?.toArray(), [Float](repeating: 1, count: residual.count))
    XCTAssertEqual(sampleBias.grad?.toArray(), [Float](repeating: 25, count: sampleBias.count))
    XCTAssertNotNil(x.grad)
    XCTAssertNotNil(weight.grad)
    // A Winograd geometry with autograd: one fused node, the separate ops' gradients.
    let (n, c, h, w, co) = (4, 8, 7, 10, 12)
    func leaves() -> [Tensor] {
      let g2 = Generator(seed: 390)
      let t = [
        Tensor.randn([n, c, h, w], generator: g2), Tensor.randn([co, c, 3, 3], generator: g2), Tensor.randn([co], generator: g2),
        Tensor.randn([n, co], generator: g2), Tensor.randn([n, co, h, w], generator: g2),
      ]
      for leaf in t { leaf.requiresGrad = true }
      return t
    }
    let up = Tensor.randn([n, co, h, w], generator: Generator(seed: 391))
    let f = leaves(), r = leaves()
    let fusedOut = try Tensor.conv2d(f[0], weight: f[1], bias: f[2], padding: (1, 1), sampleBias: f[3], residual: f[4])
    let separateOut = try r[4] + (Tensor.conv2d(r[0], weight: r[1], bias: r[2], padding: (1, 1)) + r[3].reshape([n, co, 1, 1]))
    XCTAssertEqual(fusedOut.toArray(), separateOut.toArray())
    try fusedOut.backward(up)
    try separateOut.backward(up)
    for (i, name) in ["x", "weight", "bias", "sample bias", "residual"].enumerated() {
      assertClose(try XCTUnwrap(f[i].grad), try XCTUnwrap(r[i].grad), rtol: 1e-5, atol: 1e-4, "fused conv grad of \(name)")
    }
  }
}


/// The separable pooling paths (inference max pool, every avg pool) equal a direct window loop.
final class SeparablePoolTests: XCTestCase {
  func direct(_ x: [Float], h: Int, w: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int), max: Bool, includePad: Bool) -> [Float] {
    let ho = (h + 2 * p.0 - k.0) / s.0 + 1, wo = (w + 2 * p.1 - k.1) / s.1 + 1
    var out: [Float] = []
    for oy in 0..<ho {
      for ox in 0..<wo {
        var acc: Float = max ? -.infinity : 0
        var n = 0
        for ky in 0..<k.0 {
          for kx in 0..<k.1 {
            let iy = oy * s.0 - p.0 + ky, ix = ox * s.1 - p.1 + kx
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            let v = x[iy * w + ix]
            acc = max ? (v > acc || v.isNaN || acc.isNaN ? (acc.isNaN ? acc : v) : acc) : acc + v
            n += 1
          }
        }
        out.append(max ? acc : acc / Float(includePad ? k.0 * k.1 : n))
      }
    }
    return out
  }

  func testSeparablePoolingMatchesTheDirectWindow() throws {
    let g = Generator(seed: 3)
    for (h, w, k, s, p) in [(7, 9, (3, 3), (1, 1), (1, 1)), (8, 8, (3, 3), (2, 2), (0, 0)), (5, 6, (2, 3), (2, 1), (1, 1)), (4, 4, (4, 4), (1, 1), (0, 0))] {
      var values = Tensor.randn([1, 1, h, w], generator: g).toArray()
      let x = try Tensor.from(values, shape: [1, 1, h, w])
      let maxed = try GradMode.noGrad { try x.maxPool2d(kernel: k, stride: s, padding: p) }
      XCTAssertEqual(maxed.toArray(), direct(values, h: h, w: w, k: k, s: s, p: p, max: true, includePad: true), "max \(h)x\(w) \(k) \(s) \(p)")
      for include in [true, false] {
        let avg = try x.avgPool2d(kernel: k, stride: s, padding: p, countIncludePad: include).toArray()
        let want = direct(values, h: h, w: w, k: k, s: s, p: p, max: false, includePad: include)
        for (a, b) in zip(avg, want) { XCTAssertEqual(a, b, accuracy: 1e-5, "avg \(h)x\(w) \(k) \(s) \(p) \(include)") }
      }
      values[0] = .nan
      let withNaN = try GradMode.noGrad { try Tensor.from(values, shape: [1, 1, h, w]).maxPool2d(kernel: k, stride: s, padding: p) }
      XCTAssertTrue(withNaN.toArray()[0].isNaN, "NaN propagates through max pooling")
    }
  }
}

/// silu(groupNorm(x)) fused at inference equals the two ops; with autograd the gradients are the two ops'.
final class FusedGroupNormSiLUTests: XCTestCase {
  func testFusedEqualsGroupNormThenSiLU() throws {
    let x = Tensor.randn([2, 8, 5, 7], generator: Generator(seed: 9))
    let weight = Tensor.randn([8], generator: Generator(seed: 10)), bias = Tensor.randn([8], generator: Generator(seed: 11))
    let fused = try GradMode.noGrad { try Tensor.groupNormSiLU(x, groups: 4, weight: weight, bias: bias) }
    let separate = try GradMode.noGrad { try Tensor.groupNorm(x, groups: 4, weight: weight, bias: bias).silu() }
    XCTAssertEqual(fused.toArray(), separate.toArray())
    x.requiresGrad = true
    let y = try Tensor.groupNormSiLU(x, groups: 4, weight: weight, bias: bias)
    try y.pow(2).sum().backward()
    let g1 = try XCTUnwrap(x.grad).toArray()
    x.grad = nil
    try Tensor.groupNorm(x, groups: 4, weight: weight, bias: bias).silu().pow(2).sum().backward()
    XCTAssertEqual(g1, try XCTUnwrap(x.grad).toArray())
  }
}

/// The tiled batched-transpose copy gives the same values as indexing the view directly.
final class BatchedTransposeCopyTests: XCTestCase {
  func testPermutedViewsCopyExactly() throws {
    for (b, c, h, w) in [(2, 24, 5, 7), (1, 96, 16, 16), (3, 9, 1, 17), (2, 33, 4, 4)] {
      let x = try Tensor.arange(0, Double(b * c * h * w)).reshape([b, c, h, w])
      let tokens = try x.permute([0, 2, 3, 1])
      XCTAssertNotNil(tokens.batchedTransposeShape, "\(b) \(c) \(h) \(w)")
      let copied = tokens.contiguousCopy().toArray()
      var k = 0
      for ib in 0..<b { for ih in 0..<h { for iw in 0..<w { for ic in 0..<c {
        XCTAssertEqual(copied[k], Float(((ib * c + ic) * h + ih) * w + iw))
        k += 1
      } } } }
      // And back: tokens [b, hw, c] contiguous -> channels-first view.
      let back = try Tensor.from(copied, shape: [b, h, w, c]).permute([0, 3, 1, 2]).contiguousCopy()
      XCTAssertEqual(back.toArray(), x.toArray())
    }
    // A view that is not a batched transpose keeps the generic path.
    let y = try Tensor.arange(0, 60).reshape([3, 4, 5]).permute([2, 0, 1])
    XCTAssertNil(y.batchedTransposeShape)
    XCTAssertEqual(y.contiguousCopy().toArray()[0..<4].map { $0 }, [0, 5, 10, 15])
  }
}

final class GemmPathTests: XCTestCase {
  func testReductionSplitMatchesDoubleReference() throws {
    // Small m, n and a long k (weight gradients) run split along k across the workers; an odd k and
    // a transposed operand check the block edges and offsets.
    for (m, n, k) in [(32, 24, 8_193), (20, 32, 9_000)] {
      let a = try Tensor.randn([k, m], generator: Generator(seed: 370)).transpose(0, 1)
      let b = Tensor.randn([k, n], generator: Generator(seed: 371))
      let product = try a.matmul(b)
      let av = a.contiguousCopy().toArray(), bv = b.toArray()
      var expected = [Float](repeating: 0, count: m * n)
      for i in 0..<m {
        for j in 0..<n {
          var sum = 0.0
          for p in 0..<k { sum += Double(av[i * k + p]) * Double(bv[p * n + j]) }
          expected[i * n + j] = Float(sum)
        }
      }
      assertClose(product.toArray(), expected, rtol: 1e-4, atol: 1e-3, "\(m)x\(n)x\(k)")
    }
  }
}

final class CombinePathTests: XCTestCase {
  func testCatCopiesBlocksInPlaceOnEveryAxis() throws {
    // Block copies per outer row, a non-contiguous input among them, against element-wise indexing.
    let a = Tensor.randn([2, 3, 4], generator: Generator(seed: 380))
    let b = try Tensor.randn([2, 4, 2], generator: Generator(seed: 381)).transpose(1, 2)  // [2, 2, 4], strided
    let joined = try Tensor.cat([a, b], axis: 1)
    XCTAssertEqual(joined.shape, [2, 5, 4])
    let av = a.toArray(), bv = b.contiguousCopy().toArray(), out = joined.toArray()
    for i in 0..<2 {
      for j in 0..<5 {
        for k in 0..<4 {
          let expected = j < 3 ? av[(i * 3 + j) * 4 + k] : bv[(i * 2 + j - 3) * 4 + k]
          XCTAssertEqual(out[(i * 5 + j) * 4 + k], expected, "[\(i), \(j), \(k)]")
        }
      }
    }
    XCTAssertEqual(try Tensor.cat([a, a], axis: 0).toArray(), av + av)
    let last = try Tensor.cat([a, b.transpose(1, 2).contiguous().transpose(1, 2)], axis: 1).toArray()
    XCTAssertEqual(last, out)
    try gradCheck([Inputs(seed: 382).normal([2, 3]), Inputs(seed: 383).normal([2, 2])], "cat last axis") {
      try Tensor.cat([$0[0], $0[1]], axis: -1)
    }
  }
}
