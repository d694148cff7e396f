// UnpackedGemm tests: the AVX-512 linear-layer products (forward with bias and residual, input and
// weight gradients) against the portable sgemm path and a Double reference, across row and column tails.

import Foundation
@testable import TensorCore
import XCTest

final class UnpackedGemmTests: XCTestCase {
  /// Forward and all gradients of a linear layer, run once with the given AVX-512 setting.
  private func linearRun(
    _ m: Int, _ k: Int, _ n: Int, bias: Bool, residual: Bool, avx512: Bool
  ) throws -> [[Float]] {
    try VectorDispatch.$allowAVX512.withValue(avx512) {
      let x = Tensor.randn([m, k], generator: Generator(seed: 910))
      let w = Tensor.randn([n, k], generator: Generator(seed: 911))
      let b = bias ? Tensor.randn([n], generator: Generator(seed: 912)) : nil
      let r = residual ? Tensor.randn([m, n], generator: Generator(seed: 913)) : nil
      for t in [x, w] + [b, r].compactMap({ $0 }) { t.requiresGrad = true }
      let out = try Tensor.linear(x, weight: w, bias: b, residual: r)
      try out.backward(Tensor.randn([m, n], generator: Generator(seed: 914)))
      return [out.toArray()] + ([x, w] + [b, r].compactMap { $0 }).map { $0.grad?.toArray() ?? [] }
    }
  }

  func testLinearMatchesTheSgemmPathAcrossTails() throws {
    // Row counts around the 8-row blocks, column counts around the 16/32-lane blocks, and inner
    // dimensions up to the 256 limit; every bias/residual combination on some shape.
    let shapes = [(1, 1, 1), (7, 3, 5), (9, 32, 33), (17, 64, 100), (64, 128, 16), (13, 256, 48), (300, 32, 96)]
    for (i, (m, k, n)) in shapes.enumerated() {
      let bias = i % 2 == 0, residual = i % 3 != 1
      let fast = try linearRun(m, k, n, bias: bias, residual: residual, avx512: true)
      let portable = try linearRun(m, k, n, bias: bias, residual: residual, avx512: false)
      XCTAssertEqual(fast.count, portable.count)
      for (j, (a, b)) in zip(fast, portable).enumerated() {
        assertClose(a, b, rtol: 1e-4, atol: 1e-4, "linear \(m)x\(k)x\(n) output/gradient \(j)")
      }
    }
  }

  func testTransposedProductSplitsTheReductionExactlyOnce() throws {
    // 1030 rows give four parts (partials added after); m = 192 is the largest result height taken.
    guard VectorDispatch.useAVX512 else { throw XCTSkip("needs AVX-512") }
    for (r, m, n) in [(1030, 5, 3), (1030, 192, 40), (7, 9, 17)] {
      let a = Tensor.randn([r, m], generator: Generator(seed: 920))
      let b = Tensor.randn([r, n], generator: Generator(seed: 921))
      let product = try XCTUnwrap(UnpackedGemm.transposedProduct(a, b))
      let av = a.toArray(), bv = b.toArray()
      var expected = [Float](repeating: 0, count: m * n)
      for i in 0..<m {
        for j in 0..<n {
          var s = 0.0
          for t in 0..<r { s += Double(av[t * m + i]) * Double(bv[t * n + j]) }
          expected[i * n + j] = Float(s)
        }
      }
      XCTAssertEqual(product.shape, [m, n])
      assertClose(product.toArray(), expected, rtol: 1e-4, atol: 1e-4, "aᵀb \(r)x\(m)x\(n)")
    }
    XCTAssertNil(UnpackedGemm.transposedProduct(Tensor.zeros([4, 193]), Tensor.zeros([4, 2])), "m > 192 stays on sgemm")
  }
}
