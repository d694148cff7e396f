// Kernel-path tests: the specialised fast paths (small-head and multi-block attention, vectorised
// group_norm, rational gelu) against references written with the generic ops or in Double.

import CKernels
import Foundation
@testable import TensorCore
import XCTest

final class AttentionKernelPathTests: XCTestCase {
  /// softmax(q kᵀ · scale + mask) v from matmul and softmax (both checked against torch elsewhere).
  func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, causal: Bool, scale: Float) throws -> Tensor {
    var scores = try q.matmul(k.transpose(-1, -2)).scaled(scale)
    if let mask { scores = try scores + mask }
    if causal {
      let lq = q.shape[q.rank - 2], lk = k.shape[k.rank - 2]
      let m = Tensor(shape: [lq, lk])
      for r in 0..<lq { for c in (r + 1)..<Swift.max(r + 1, lk) { m.data[r * lk + c] = -.infinity } }
      scores = try scores + m
    }
    return try scores.softmax(axis: -1).matmul(v)
  }

  /// Runs the fused op and the reference on the same inputs and compares outputs and q/k/v grads.
  func check(
    batch: [Int], lq: Int, lk: Int, d: Int, dv: Int, causal: Bool, masked: Bool, seed: UInt64, _ name: String
  ) throws {
    let g = Generator(seed: seed)
    let inputs = [
      Tensor.randn(batch + [lq, d], generator: g), Tensor.randn(batch + [lk, d], generator: g),
      Tensor.randn(batch + [lk, dv], generator: g),
    ]
    var mask: Tensor? = nil
    if masked {
      let m = Tensor.randn([lq, lk], generator: g)
      for r in 0..<lq {
        // One -inf per row among its visible keys, never the row's only visible key.
        let visible = causal ? Swift.min(lk, r + 1) : lk
        if visible > 1 { m.data[r * lk + (r * 7) % visible] = -.infinity }
      }
      mask = m
    }
    let scale: Float = 0.9 / Float(d).squareRoot()
    let fused = inputs.map { $0.contiguousCopy() }, ref = inputs.map { $0.contiguousCopy() }
    for t in fused + ref { t.requiresGrad = true }
    let out = try Tensor.scaledDotProductAttention(fused[0], fused[1], fused[2], mask: mask, causal: causal, scale: scale)
    let expected = try reference(ref[0], ref[1], ref[2], mask: mask, causal: causal, scale: scale)
    assertClose(out, expected, rtol: 1e-4, atol: 2e-5, "\(name) forward")
    let seedGrad = Tensor.randn(out.shape, generator: g)
    try out.backward(seedGrad)
    try expected.backward(seedGrad)
    for (n, label) in ["q", "k", "v"].enumerated() {
      assertClose(try XCTUnwrap(fused[n].grad), try XCTUnwrap(ref[n].grad), rtol: 1e-3, atol: 5e-5, "\(name) d\(label)")
    }
  }

  func testSmallHeadKernelShapes() throws {
    // d <= 16 with dv 8 or 16 takes the register-tiled kernel: 4-row tiles (70 and 5 rows leave
    // remainders), 64-row tasks (70 rows make two), 16-key chunks (37 and 3 keys are padded).
    var seed: UInt64 = 300
    for (lq, lk, d, dv) in [(70, 37, 8, 8), (5, 3, 5, 16), (130, 100, 16, 8), (9, 64, 1, 16)] {
      for causal in [false, true] {
        for masked in [false, true] {
          seed += 1
          try check(
            batch: [2], lq: lq, lk: lk, d: d, dv: dv, causal: causal, masked: masked, seed: seed,
            "small head lq=\(lq) lk=\(lk) d=\(d) dv=\(dv) causal=\(causal) masked=\(masked)")
        }
      }
    }
  }

  func testNarrowHeadBackwardShapes() throws {
    // d, dv <= 4 without a mask take the one-sweep AVX-512 backward (where available): 4-row tiles
    // with remainders (70, 5, 9, 33 rows), 16-key chunks with padding (37, 3, 17 keys), channels
    // below 4 (1, 2, 3). Masked and causal runs of the same shapes take the sgemm backward.
    var seed: UInt64 = 360
    for (lq, lk, d, dv) in [(70, 37, 4, 4), (5, 3, 2, 3), (9, 64, 1, 1), (33, 17, 3, 2)] {
      for masked in [false, true] {
        seed += 1
        try check(
          batch: [3], lq: lq, lk: lk, d: d, dv: dv, causal: false, masked: masked, seed: seed,
          "narrow head lq=\(lq) lk=\(lk) d=\(d) dv=\(dv) masked=\(masked)")
      }
    }
  }

  /// The same shapes through the portable Swift kernels, which an AVX-512 machine would otherwise
  /// never run (`VectorDispatch.allowAVX512` off for this task).
  func testSmallHeadShapesOnTheSwiftKernels() throws {
    try VectorDispatch.$allowAVX512.withValue(false) {
      try testSmallHeadKernelShapes()
      try testNarrowHeadBackwardShapes()
      try testFullyMaskedRowGivesZerosOnBothPaths()
    }
  }

  func testLooseScoreBoundFallsBackToTheExactMaximum() throws {
    // The one-sweep kernel shifts scores by an upper bound built from each key channel's range.
    // Keys (80, -80) and (-80, 80) put that bound 160 · scale · log2(e) ≈ 163 above every real
    // score, past the float range, so every weight would be 0: the rows must be redone with the
    // exact maximum.
    for (d, dv) in [(2, 4), (2, 8)] {
      let lk = 37
      let k = Tensor(shape: [1, lk, d]), q = Tensor(shape: [1, 6, d]), v = Tensor.randn([1, lk, dv], generator: Generator(seed: 370))
      for j in 0..<lk {
        let sign: Float = j % 2 == 0 ? 1 : -1
        k.data[j * d] = sign * 80 - Float(j) * 0.01
        k.data[j * d + 1] = -sign * 80
      }
      for r in 0..<6 { (q.data[r * d], q.data[r * d + 1]) = (1, 1 + Float(r) * 0.001) }
      for t in [q, k, v] { t.requiresGrad = true }
      let scale = 1 / Float(d).squareRoot()
      let out = try Tensor.scaledDotProductAttention(q, k, v, scale: scale)
      let expected = try reference(q.detach(), k.detach(), v.detach(), mask: nil, causal: false, scale: scale)
      XCTAssertFalse(out.toArray().contains { !$0.isFinite }, "d=\(d) dv=\(dv): finite")
      assertClose(out, expected, rtol: 1e-4, atol: 2e-5, "d=\(d) dv=\(dv) loose bound")
      try out.backward(Tensor.ones(out.shape))
      XCTAssertFalse(try XCTUnwrap(q.grad).toArray().contains { !$0.isFinite }, "d=\(d) dv=\(dv): finite dq")
    }
  }

  func testBlockedPathInSeveralBlocks() throws {
    // Score blocks hold 262144 floats: Lk = 4096 gives 64-row blocks, so Lq = 130 runs as blocks
    // of 64, 64 and 2 rows (and with causal, each block sees a different number of keys).
    var seed: UInt64 = 320
    for causal in [false, true] {
      for masked in [false, true] {
        seed += 1
        try check(
          batch: [1], lq: 130, lk: 4096, d: 24, dv: 12, causal: causal, masked: masked, seed: seed,
          "blocked causal=\(causal) masked=\(masked)")
      }
    }
    try check(batch: [2, 3], lq: 33, lk: 20, d: 32, dv: 32, causal: true, masked: false, seed: 330, "blocked batch")
  }

  func testFullyMaskedRowGivesZerosOnBothPaths() throws {
    for (d, dv) in [(8, 8), (4, 4)] {
      let g = Generator(seed: 340)
      let q = Tensor.randn([1, 3, d], generator: g), k = Tensor.randn([1, 5, d], generator: g)
      let v = Tensor.randn([1, 5, dv], generator: g)
      q.requiresGrad = true
      let mask = Tensor(shape: [3, 5])
      for j in 0..<5 { mask.data[5 + j] = -.infinity }
      let out = try Tensor.scaledDotProductAttention(q, k, v, mask: mask)
      let values = out.toArray()
      XCTAssertEqual(Array(values[dv..<(2 * dv)]), [Float](repeating: 0, count: dv), "d=\(d): masked row")
      XCTAssertFalse(values.contains { !$0.isFinite }, "d=\(d): other rows finite")
      try out.backward(Tensor.ones(out.shape))
      XCTAssertFalse(try XCTUnwrap(q.grad).toArray().contains { !$0.isFinite }, "d=\(d): finite dq")
    }
  }
}

final class VectorDispatchTests: XCTestCase {
  /// The AVX-512 exponent pass equals the Swift one element by element (same polynomial, same
  /// operation order) and in its sum, for lengths with and without a masked tail, large negative
  /// shifts (clamped at 2^-127), -inf (masked keys) and NaN.
  func testExp2ShiftSumBuildsAgree() throws {
    try XCTSkipUnless(avx512Kernels, "this CPU has no AVX-512; only the Swift build runs here")
    let g = Generator(seed: 77)
    for n in [1, 15, 16, 17, 31, 33, 1024, 1025, 2500] {
      var values = Tensor.randn([n], generator: g).toArray().map { $0 * 20 }
      if n > 3 {
        values[1] = -.infinity
        values[2] = -300
      }

      let m = values.max() ?? 0
      var swiftRow = values, vectorRow = values
      let swiftSum = exp2ShiftSum(&swiftRow, n, max: m, avx512: false)
      let vectorSum = exp2ShiftSum(&vectorRow, n, max: m, avx512: true)
      XCTAssertEqual(swiftRow, vectorRow, "n=\(n): elements")
      XCTAssertEqual(swiftSum, vectorSum, accuracy: swiftSum * 1e-6, "n=\(n): sum")
    }
    // Around the smallest exponent: 2^-126.4 is kept; from round(t) = -127 on the result is 0.
    let edge: [Float] = [-126.4, -126.5, -126.6, -127, -127.5, -128.5, -1e30, 0, -0.5, -125.9, -149, -90]
    var swiftEdge = edge, vectorEdge = edge
    _ = exp2ShiftSum(&swiftEdge, edge.count, max: 0, avx512: false)
    _ = exp2ShiftSum(&vectorEdge, edge.count, max: 0, avx512: true)
    XCTAssertEqual(swiftEdge, vectorEdge, "near the smallest exponent")
    XCTAssertEqual(vectorEdge[3], 0)
    XCTAssertGreaterThan(vectorEdge[0], 0)
    var withNaN: [Float] = [0, .nan, -1]
    _ = exp2ShiftSum(&withNaN, 3, max: 0, avx512: true)
    XCTAssertTrue(withNaN[1].isNaN)
    XCTAssertEqual(withNaN[0], fastExp2(0))
  }

  func testRowMaxBuildsAgree() throws {
    try XCTSkipUnless(avx512Kernels, "this CPU has no AVX-512; only the Swift build runs here")
    let g = Generator(seed: 78)
    for n in [0, 1, 7, 16, 17, 40, 1000] {
      var values = Tensor.randn([n], generator: g).toArray().map { $0 - 5 }
      XCTAssertEqual(fastRowMax(values, n, avx512: true), fastRowMax(values, n, avx512: false), "n=\(n)")
      if n > 2 {
        values[n / 2] = -.infinity
        values[n - 1] = .infinity
        XCTAssertEqual(fastRowMax(values, n, avx512: true), .infinity, "n=\(n) with inf")
        values[1] = .nan
        XCTAssertTrue(fastRowMax(values, n, avx512: true).isNaN, "n=\(n) with NaN")
      }
    }
    XCTAssertEqual(fastRowMax([-Float.infinity, -.infinity], 2, avx512: true), -.infinity)
  }

  /// The AVX-512 score and value passes of the small-head kernel against the Swift ones: scores
  /// equal (same per-element FMA order), values within float rounding of a 16-lane split.
  func testSmallHeadPassesBuildsAgree() throws {
    try XCTSkipUnless(avx512Kernels, "this CPU has no AVX-512; only the Swift build runs here")
    let g = Generator(seed: 79)
    for (d, keys) in [(4, 48), (3, 16), (16, 64)] {
      let ldk = keys + 16
      let qs = Tensor.randn([64], generator: g).toArray(), kt = Tensor.randn([d * ldk], generator: g).toArray()
      var swiftScores = [Float](repeating: 0, count: 4 * ldk), wideScores = swiftScores
      smallHeadTileScores(qs, kt, ldk: ldk, d: d, &swiftScores, keys: keys)
      var maxes = [Float](repeating: 0, count: 4)
      let visible = keys - 5
      aptp_small_head_scores_avx512(qs, kt, ldk, d, &wideScores, keys, visible, &maxes)
      XCTAssertEqual(swiftScores, wideScores, "scores d=\(d) keys=\(keys)")
      for r in 0..<4 {
        XCTAssertEqual(maxes[r], swiftScores[(r * ldk)..<(r * ldk + visible)].max(), "max of row \(r) over visible keys")
      }
    }
    for (channels, keys8, rows) in [(4, 40, 4), (3, 16, 2), (8, 1024, 3), (1, 8, 1)] {
      let lds = keys8 + 16
      let s = Tensor.randn([4 * lds], generator: g).toArray(), vt = Tensor.randn([channels * lds], generator: g).toArray()
      let scale = SIMD4<Float>(0.5, 2, 1, 0.25)
      for c0 in stride(from: 0, to: channels, by: 4) {
        var swiftOut = [Float](repeating: 0, count: 4 * 8), wideOut = swiftOut
        smallHeadTileValuesDot(
          s, lds: lds, vt, ldv: lds, firstChannel: c0, channels: channels, keys8: keys8, &swiftOut, ldo: 8, scale,
          rows: rows)
        withUnsafePointer(to: scale) { sp in
          sp.withMemoryRebound(to: Float.self, capacity: 4) {
            aptp_small_head_values_dot_avx512(s, lds, vt, lds, c0, channels, keys8, &wideOut, 8, $0, rows)
          }
        }
        for i in 0..<swiftOut.count {
          XCTAssertEqual(swiftOut[i], wideOut[i], accuracy: 1e-4 * Swift.max(1, Swift.abs(swiftOut[i])), "values \(i)")
        }
      }
    }
  }
}

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
  }
}

final class MultiHeadAttentionPathTests: XCTestCase {
  /// The in-place path (strided slices of one fused projection) equals heads split +
  /// `scaledDotProductAttention` + heads merged, forward and backward, with and without autograd.
  func testInPlacePathOnFusedSlicesMatchesSplitHeads() throws {
    let g = Generator(seed: 11)
    let shapes = [
      (2, 5, 3, 8, false, true), (3, 19, 4, 32, true, true), (1, 1, 2, 4, false, true), (2, 37, 2, 12, true, false),
      (1, 70, 5, 2, false, true), (2, 9, 1, 16, true, true),
      // d <= 4 without a mask: the one-sweep forward and the AVX-512 backward on strided rows.
      (2, 37, 4, 4, false, false), (1, 70, 5, 2, false, false), (2, 33, 2, 3, false, false), (2, 40, 2, 8, false, false),
    ]
    for (b, l, heads, d, causal, masked) in shapes {
      let name = "b \(b) l \(l) heads \(heads) d \(d) causal \(causal) masked \(masked)"
      let width = heads * d
      let fused = Tensor.randn([b, l, 3 * width], generator: g)
      let reference = fused.contiguousCopy()
      fused.requiresGrad = true
      reference.requiresGrad = true
      var mask: Tensor? = nil
      if masked {
        let keep = Tensor(shape: [b, 1, 1, l])
        for i in 0..<b { for j in 0..<l where j > 0 && (i + j) % 4 == 0 { keep.data[i * l + j] = -.infinity } }
        mask = keep
      }
      let slices = { (t: Tensor) in try (0..<3).map { try t.narrow(2, start: $0 * width, length: width) } }
      let parts = try slices(fused)
      let out = try Tensor.multiHeadAttention(parts[0], parts[1], parts[2], heads: heads, mask: mask, causal: causal)
      let inference = try GradMode.noGrad {
        try Tensor.multiHeadAttention(parts[0], parts[1], parts[2], heads: heads, mask: mask, causal: causal)
      }
      let split = { (t: Tensor) in try t.reshape([b, l, heads, d]).permute([0, 2, 1, 3]) }
      let refParts = try slices(reference)
      let expected = try Tensor.scaledDotProductAttention(
        split(refParts[0]), split(refParts[1]), split(refParts[2]), mask: mask, causal: causal
      ).permute([0, 2, 1, 3]).contiguous().reshape([b, l, width])
      XCTAssertEqual(out.shape, [b, l, width])
      assertClose(out, expected, rtol: 1e-5, atol: 1e-5, "\(name) forward")
      assertClose(inference, out, rtol: 1e-6, atol: 1e-6, "\(name) inference")
      let seed = Tensor.randn(out.shape, generator: g)
      try out.backward(seed)
      try expected.backward(seed)
      assertClose(try XCTUnwrap(fused.grad), try XCTUnwrap(reference.grad), rtol: 1e-3, atol: 5e-5, "\(name) grad")
    }
  }

  func testShapeErrorsNameTheOp() {
    let q = Tensor(shape: [1, 2, 6])
    XCTAssertThrowsError(try Tensor.multiHeadAttention(q, q, q, heads: 4)) { e in
      XCTAssertTrue("\(e)".contains("multi_head_attention"), "\(e)")
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
