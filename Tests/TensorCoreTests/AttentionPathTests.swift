// Attention kernel-path tests: the small-head, one-sweep and multi-block attention paths, their
// AVX-512 and Swift builds, and multi-head attention on fused projections, against references
// written with the generic ops.

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
      guard !masked else { continue }
      // The fused self-attention op: the same values, and one gradient for the whole projection.
      let whole = fused.detach().contiguousCopy()
      whole.requiresGrad = true
      let selfOut = try Tensor.multiHeadSelfAttention(whole, heads: heads, causal: causal)
      assertClose(selfOut, out, rtol: 1e-6, atol: 1e-6, "\(name) fused self-attention forward")
      try selfOut.backward(seed)
      assertClose(try XCTUnwrap(whole.grad), try XCTUnwrap(fused.grad), rtol: 1e-5, atol: 1e-6, "\(name) fused self-attention grad")
    }
    XCTAssertThrowsError(try Tensor.multiHeadSelfAttention(Tensor(shape: [2, 3, 10]), heads: 2)) {
      XCTAssertTrue("\($0)".contains("3·H·d"), "\($0)")
    }
  }

  func testShapeErrorsNameTheOp() {
    let q = Tensor(shape: [1, 2, 6])
    XCTAssertThrowsError(try Tensor.multiHeadAttention(q, q, q, heads: 4)) { e in
      XCTAssertTrue("\(e)".contains("multi_head_attention"), "\(e)")
    }
  }
}
