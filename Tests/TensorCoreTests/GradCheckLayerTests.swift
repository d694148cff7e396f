// Finite-difference gradient checks for layer kernels: matmul, linear, conv2d, pooling, norms, attention, dropout.

import TensorCore
import XCTest

final class GradCheckMatmulTests: XCTestCase {
  func testMatmul2D() throws {
    let i = Inputs(seed: 90)
    try gradCheck([i.normal([3, 4]), i.normal([4, 2])], "matmul 2-D") { try $0[0].matmul($0[1]) }
  }

  func testMatmulBatchedBroadcast() throws {
    let i = Inputs(seed: 91)
    try gradCheck([i.normal([2, 1, 3, 4]), i.normal([3, 4, 2])], "matmul broadcast batch") { try $0[0].matmul($0[1]) }
    try gradCheck([i.normal([2, 3, 4]), i.normal([4, 2])], "matmul batch x matrix") { try $0[0].matmul($0[1]) }
  }

  func testMatmulOneDimensional() throws {
    let i = Inputs(seed: 92)
    try gradCheck([i.normal([4]), i.normal([4, 2])], "vector x matrix") { try $0[0].matmul($0[1]) }
    try gradCheck([i.normal([3, 4]), i.normal([4])], "matrix x vector") { try $0[0].matmul($0[1]) }
    try gradCheck([i.normal([4]), i.normal([4])], "dot") { try $0[0].matmul($0[1]) }
    try gradCheck([i.normal([4]), i.normal([2, 4, 3])], "vector x batch") { try $0[0].matmul($0[1]) }
  }

  func testMatmulTransposedOperands() throws {
    let i = Inputs(seed: 93)
    try gradCheck([i.normal([4, 3]), i.normal([2, 4])], "aᵀ bᵀ") {
      try $0[0].transpose(0, 1).matmul($0[1].transpose(0, 1))
    }
  }

  func testBmm() throws {
    let i = Inputs(seed: 94)
    try gradCheck([i.normal([2, 3, 4]), i.normal([2, 4, 2])], "bmm") { try $0[0].bmm($0[1]) }
  }

  func testLinear() throws {
    let i = Inputs(seed: 95)
    try gradCheck([i.normal([2, 3, 4]), i.normal([5, 4]), i.normal([5])], "linear with bias") {
      try Tensor.linear($0[0], weight: $0[1], bias: $0[2])
    }
    try gradCheck([i.normal([3, 4]), i.normal([2, 4])], "linear without bias") {
      try Tensor.linear($0[0], weight: $0[1], bias: nil)
    }
    try gradCheck([i.normal([4]), i.normal([2, 4]), i.normal([2])], "linear 1-D input") {
      try Tensor.linear($0[0], weight: $0[1], bias: $0[2])
    }
  }

  func testLinearAddingResidual() throws {
    let i = Inputs(seed: 96)
    try gradCheck([i.normal([2, 3, 4]), i.normal([5, 4]), i.normal([5]), i.normal([2, 3, 5])], "linear + residual") {
      try Tensor.linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3])
    }
    try gradCheck([i.normal([3, 4]), i.normal([2, 4]), i.normal([3, 2])], "linear without bias + residual") {
      try Tensor.linear($0[0], weight: $0[1], bias: nil, residual: $0[2])
    }
    let x = i.normal([3, 4]), w = i.normal([2, 4]), b = i.normal([2]), r = i.normal([3, 2])
    assertClose(try Tensor.linear(x, weight: w, bias: b, residual: r), try Tensor.linear(x, weight: w, bias: b) + r, rtol: 1e-6, atol: 1e-6)
    XCTAssertThrowsError(try Tensor.linear(x, weight: w, bias: b, residual: i.normal([3, 3]))) {
      XCTAssertTrue("\($0)".contains("residual [3,3] does not match the output [3,2]"), "\($0)")
    }
  }
}

final class GradCheckConvTests: XCTestCase {
  func testConvWithBiasAndPadding() throws {
    let i = Inputs(seed: 100)
    try gradCheck([i.normal([1, 2, 4, 4]), i.normal([3, 2, 3, 3]), i.normal([3])], "conv pad 1") {
      try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1))
    }
  }

  func testConvStrideAndAsymmetricPadding() throws {
    let i = Inputs(seed: 101)
    try gradCheck([i.normal([1, 2, 5, 4]), i.normal([2, 2, 3, 2]), i.normal([2])], "conv stride (2,1) pad (1,0)") {
      try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 0))
    }
  }

  func testConvDilation() throws {
    let i = Inputs(seed: 102)
    try gradCheck([i.normal([1, 1, 5, 5]), i.normal([2, 1, 2, 2]), i.normal([2])], "conv dilation 2") {
      try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 0), dilation: (2, 2))
    }
  }

  func testConvGroups() throws {
    let i = Inputs(seed: 103)
    try gradCheck([i.normal([1, 4, 3, 3]), i.normal([4, 2, 2, 2]), i.normal([4])], "conv groups 2") {
      try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], groups: 2)
    }
  }

  func testConvNoBiasBatch() throws {
    let i = Inputs(seed: 104)
    try gradCheck([i.normal([2, 2, 3, 3]), i.normal([2, 2, 2, 2])], "conv no bias, batch 2") {
      try Tensor.conv2d($0[0], weight: $0[1])
    }
  }

  func testConvPointwise() throws {
    let i = Inputs(seed: 105)
    try gradCheck([i.normal([2, 3, 2, 2]), i.normal([2, 3, 1, 1]), i.normal([2])], "1x1 conv") {
      try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2])
    }
  }
}

final class GradCheckPoolTests: XCTestCase {
  func testInterpolateNearest() throws {
    let x = Inputs(seed: 110).normal([1, 2, 3, 3])
    try gradCheck([x], "nearest size") { try $0[0].interpolate(size: (5, 4), mode: .nearest) }
    try gradCheck([x], "nearest scale 2") { try $0[0].interpolate(scale: 2, mode: .nearest) }
  }

  func testInterpolateBilinear() throws {
    let x = Inputs(seed: 111).normal([1, 2, 3, 3])
    try gradCheck([x], "bilinear up") { try $0[0].interpolate(size: (5, 7), mode: .bilinear) }
    try gradCheck([x], "bilinear align corners") {
      try $0[0].interpolate(size: (4, 5), mode: .bilinear, alignCorners: true)
    }
    try gradCheck([x], "bilinear down") { try $0[0].interpolate(size: (2, 2), mode: .bilinear) }
  }

  func testAvgPool() throws {
    let x = Inputs(seed: 112).normal([1, 2, 4, 4])
    try gradCheck([x], "avg pool 2") { try $0[0].avgPool2d(kernel: (2, 2)) }
    try gradCheck([x], "avg pool 3 stride 2 pad 1") { try $0[0].avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
  }

  func testMaxPool() throws {
    let x = Inputs(seed: 113).distinct([1, 2, 4, 4])
    try gradCheck([x], "max pool 2") { try $0[0].maxPool2d(kernel: (2, 2)) }
    try gradCheck([x], "max pool 3 stride 2 pad 1") { try $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
  }
}

final class GradCheckNormTests: XCTestCase {
  func testGroupNormAffine() throws {
    let i = Inputs(seed: 120)
    try gradCheck([i.normal([2, 4, 3]), i.normal([4]), i.normal([4])], "group_norm affine") {
      try Tensor.groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2])
    }
  }

  func testGroupNormPlain() throws {
    let x = Inputs(seed: 121).normal([2, 4, 2, 2])
    try gradCheck([x], "group_norm no affine") { try Tensor.groupNorm($0[0], groups: 4, weight: nil, bias: nil) }
    try gradCheck([x], "group_norm 1 group") { try Tensor.groupNorm($0[0], groups: 1, weight: nil, bias: nil) }
  }

  func testLayerNormAffine() throws {
    let i = Inputs(seed: 122)
    try gradCheck([i.normal([2, 3, 4]), i.normal([4]), i.normal([4])], "layer_norm affine") {
      try Tensor.layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2])
    }
  }

  func testLayerNormPlain() throws {
    let x = Inputs(seed: 123).normal([2, 3, 4])
    try gradCheck([x], "layer_norm no affine over [3,4]") {
      try Tensor.layerNorm($0[0], normalizedShape: [3, 4], weight: nil, bias: nil)
    }
  }
}

final class GradCheckAttentionTests: XCTestCase {
  func testAttention() throws {
    let i = Inputs(seed: 130)
    try gradCheck([i.normal([2, 3, 4]), i.normal([2, 5, 4]), i.normal([2, 5, 3])], "attention") {
      try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2])
    }
  }

  func testAttentionCausalAndScale() throws {
    let i = Inputs(seed: 131)
    try gradCheck([i.normal([1, 2, 4, 3]), i.normal([1, 2, 4, 3]), i.normal([1, 2, 4, 2])], "causal attention") {
      try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], causal: true, scale: 0.7)
    }
  }

  func testAttentionAdditiveMask() throws {
    let i = Inputs(seed: 132)
    // A [3,5] mask broadcast over the batch, with one -inf entry per row (no row fully masked).
    let mask = i.normal([3, 5])
    for r in 0..<3 { mask.data[r * 5 + (r + 1)] = -.infinity }
    try gradCheck([i.normal([2, 3, 4]), i.normal([2, 5, 4]), i.normal([2, 5, 3])], "attention with mask") {
      try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], mask: mask)
    }
  }

  /// softmax(q kᵀ · scale + mask) v from matmul and softmax, whose gradients are checked above.
  func referenceAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool) throws -> Tensor {
    var scores = try q.matmul(k.transpose(-1, -2)).scaled(1 / Float(q.shape[q.rank - 1]).squareRoot())
    if causal {
      let lq = q.shape[q.rank - 2], lk = k.shape[k.rank - 2]
      let mask = Tensor(shape: [lq, lk])
      for r in 0..<lq { for c in (r + 1)..<Swift.max(r + 1, lk) { mask.data[r * lk + c] = -.infinity } }
      scores = try scores + mask
    }
    return try scores.softmax(axis: -1).matmul(v)
  }

  func testAttentionInSeveralQueryBlocks() throws {
    // Query blocks hold blockRows = min(Lq, 262144 / Lk) rows: Lk = 4096 gives 64-row blocks, so
    // Lq = 65 runs as a block of 64 and a block of 1. Finite differences over all 8k key/value
    // elements would take ~16k attention calls, so q is checked by finite differences and the k / v
    // gradients (accumulated across blocks) against the same computation written with matmul + softmax.
    let i = Inputs(seed: 133)
    let q = i.normal([1, 65, 2]), k = i.normal([1, 4096, 2]), v = i.normal([1, 4096, 2])
    for causal in [false, true] {
      try gradCheck([q], "blocked attention dq causal=\(causal)") {
        try Tensor.scaledDotProductAttention($0[0], k, v, causal: causal)
      }
      let fused = [q, k, v].map { $0.contiguousCopy() }, ref = [q, k, v].map { $0.contiguousCopy() }
      for t in fused + ref { t.requiresGrad = true }
      let seed = Inputs(seed: 134).normal([1, 65, 2])
      let out = try Tensor.scaledDotProductAttention(fused[0], fused[1], fused[2], causal: causal)
      let expected = try referenceAttention(ref[0], ref[1], ref[2], causal: causal)
      assertClose(out, expected, rtol: 1e-4, atol: 1e-5, "blocked forward causal=\(causal)")
      try out.backward(seed)
      try expected.backward(seed)
      for (n, name) in ["q", "k", "v"].enumerated() {
        assertClose(try XCTUnwrap(fused[n].grad), try XCTUnwrap(ref[n].grad), rtol: 1e-3, atol: 1e-5, "d\(name) causal=\(causal)")
      }
    }
  }
}

final class GradCheckDropoutTests: XCTestCase {
  func testDropoutGradientIsTheForwardMask() throws {
    let p: Float = 0.3
    let x = Inputs(seed: 140).awayFromZero([4, 5])
    x.requiresGrad = true
    let y = try x.dropout(p, training: true, generator: Generator(seed: 9))
    try y.backward(Tensor.ones([4, 5]))
    let g = try XCTUnwrap(x.grad).toArray(), xs = x.toArray(), ys = y.toArray()
    var kept = 0
    for j in 0..<g.count {
      // The same mask scales the forward and the gradient: 0 where dropped, 1/(1-p) where kept.
      if ys[j] == 0 {
        XCTAssertEqual(g[j], 0, "element \(j)")
      } else {
        kept += 1
        XCTAssertEqual(g[j], 1 / (1 - p), accuracy: 1e-6, "element \(j)")
        XCTAssertEqual(ys[j], xs[j] * g[j], accuracy: 1e-6, "element \(j)")
      }
    }
    XCTAssertGreaterThan(kept, 5)
    XCTAssertLessThan(kept, 20)
  }

  func testDropoutFiniteDifferencesWithFixedMask() throws {
    // Reseeding inside f makes every evaluation draw the same mask, so dropout is a fixed linear map.
    let gen = Generator(seed: 3)
    try gradCheck([Inputs(seed: 141).normal([3, 4])], "dropout") {
      gen.reseed(11)
      return try $0[0].dropout(0.4, training: true, generator: gen)
    }
  }

  func testDropoutEvaluationAndExtremes() throws {
    let x = Inputs(seed: 142).normal([6])
    x.requiresGrad = true
    XCTAssertTrue(try x.dropout(0.5, training: false, generator: Generator(seed: 1)) === x)
    let all = try x.dropout(1, training: true, generator: Generator(seed: 1))
    XCTAssertEqual(all.toArray(), [Float](repeating: 0, count: 6))
    try all.backward(Tensor.ones([6]))
    XCTAssertEqual(try XCTUnwrap(x.grad).toArray(), [Float](repeating: 0, count: 6))
  }
}
