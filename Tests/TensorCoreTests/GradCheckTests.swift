// Finite-difference gradient checks: every differentiable TensorCore op's backward against central differences.

import TensorCore
import XCTest

/// Checks the analytic gradients of `f` at `inputs` against central differences of
/// L = Σ f(x)·r, with r a fixed random tensor of the output's shape.
///
/// Step and tolerances: element j of an input is moved by ±h with h = 1e-2·max(1, |x_j|).
/// - Truncation: the central difference is off by h²/6·|∂³L| ≈ 2e-5·|∂³L| — the inputs used here are
///   O(1) and the ops smooth on the sampled domain, so this is ~1e-4 at worst.
/// - Rounding: L is accumulated in Double from float32 outputs, so each evaluation carries about
///   ε_f32·Σ|out·r| ≈ 6e-8·(a few tens) ≈ 1e-6 of noise; divided by 2h = 2e-2 that is ~1e-4.
///   (A smaller h would make this term dominate: at h = 1e-3 it is ~1e-3.)
/// Both stay an order below atol 2e-3 + rtol 2e-2·|g|, while a wrong backward (a missing factor, a
/// dropped broadcast sum, a transposed index) is off by O(|g|). The step actually taken is measured
/// as (x+h) − (x−h) in float32, so rounding of the perturbed input itself does not bias the quotient.
/// Kinks (abs, relu, clamp, max, pooling) are kept at least 0.05 > h away from every input.
func gradCheck(
  _ inputs: [Tensor], rtol: Float = 2e-2, atol: Float = 2e-3, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) throws -> Tensor
) throws {
  let xs = inputs.map { $0.contiguousCopy() }  // leaves this check owns and perturbs in place
  for x in xs { x.requiresGrad = true }
  let out = try f(xs)
  XCTAssertTrue(out.requiresGrad, "\(message): output does not require grad", file: file, line: line)
  let r = Tensor.randn(out.shape, generator: Generator(seed: 1234))
  try out.backward(r)  // the gradient of Σ out·r with respect to out is r
  let rv = r.toArray().map(Double.init)
  func loss() throws -> Double {
    let y = try GradMode.noGrad { try f(xs) }.toArray()
    return zip(y, rv).reduce(0) { $0 + Double($1.0) * $1.1 }
  }
  for (i, x) in xs.enumerated() {
    guard let g = x.grad else {
      XCTFail("\(message): no gradient for input \(i)", file: file, line: line)
      continue
    }
    XCTAssertEqual(g.shape, x.shape, "\(message): gradient shape of input \(i)", file: file, line: line)
    var numeric = [Float](repeating: 0, count: x.count)
    for j in 0..<x.count {
      let original = x.data[j]
      let h = 1e-2 * Swift.max(1, Swift.abs(original))
      let up = original + h, down = original - h
      x.data[j] = up
      let lossUp = try loss()
      x.data[j] = down
      let lossDown = try loss()
      x.data[j] = original
      numeric[j] = Float((lossUp - lossDown) / (Double(up) - Double(down)))
    }
    assertClose(g.toArray(), numeric, rtol: rtol, atol: atol, "\(message) input \(i)", file: file, line: line)
  }
}

/// Seeded input factories with domains that keep every op smooth around the sample.
struct Inputs {
  let gen: Generator
  init(seed: UInt64) { gen = Generator(seed: seed) }

  func normal(_ shape: [Int]) -> Tensor { Tensor.randn(shape, generator: gen) }

  /// Uniform in [0.5, 2): safe for log, sqrt, rsqrt, pow and division.
  func positive(_ shape: [Int]) -> Tensor { Tensor.rand(shape, low: 0.5, high: 2, generator: gen) }

  /// Normal values pushed at least 0.2 away from 0 (abs, relu, sign-dependent ops).
  func awayFromZero(_ shape: [Int]) -> Tensor {
    let t = normal(shape)
    for i in 0..<t.count { t.data[i] = t.data[i] < 0 ? t.data[i] - 0.2 : t.data[i] + 0.2 }
    return t
  }

  /// Distinct values spaced 0.1 apart in random order, so maxima/minima are unique by far more than 2h.
  func distinct(_ shape: [Int]) -> Tensor {
    let n = elementCount(shape)
    let perm = Tensor.randperm(n, generator: gen).toArray()
    return Tensor(perm.map { ($0 - Float(n) / 2) * 0.1 + 0.03 }, shape: shape)
  }

  /// Normal values moved at least `margin` away from each of `kinks`.
  func avoiding(_ kinks: [Float], _ shape: [Int], margin: Float = 0.05) -> Tensor {
    let t = normal(shape)
    for i in 0..<t.count {
      for k in kinks where Swift.abs(t.data[i] - k) < margin {
        t.data[i] = t.data[i] < k ? k - margin - 0.01 : k + margin + 0.01
      }
    }
    return t
  }

  /// Int64 indices uniform in 0..<high.
  func indices(_ high: Int, _ shape: [Int]) throws -> Tensor { try Tensor.randint(0, high, shape, generator: gen) }
}

final class GradCheckUnaryTests: XCTestCase {
  // [3, 5] = 15 elements: long enough to cover the 8-wide vector body and the scalar tail.
  let shape = [3, 5]

  func testNeg() throws { try gradCheck([Inputs(seed: 1).normal(shape)], "neg") { try $0[0].neg() } }
  func testAbs() throws { try gradCheck([Inputs(seed: 2).awayFromZero(shape)], "abs") { try $0[0].abs() } }
  func testExp() throws { try gradCheck([Inputs(seed: 3).normal(shape)], "exp") { try $0[0].exp() } }
  func testLog() throws { try gradCheck([Inputs(seed: 4).positive(shape)], "log") { try $0[0].log() } }
  func testLog1p() throws { try gradCheck([Inputs(seed: 5).positive(shape)], "log1p") { try $0[0].log1p() } }
  func testSqrt() throws { try gradCheck([Inputs(seed: 6).positive(shape)], "sqrt") { try $0[0].sqrt() } }
  func testRsqrt() throws { try gradCheck([Inputs(seed: 7).positive(shape)], "rsqrt") { try $0[0].rsqrt() } }
  func testSin() throws { try gradCheck([Inputs(seed: 8).normal(shape)], "sin") { try $0[0].sin() } }
  func testCos() throws { try gradCheck([Inputs(seed: 9).normal(shape)], "cos") { try $0[0].cos() } }
  func testTanh() throws { try gradCheck([Inputs(seed: 10).normal(shape)], "tanh") { try $0[0].tanh() } }
  func testSigmoid() throws { try gradCheck([Inputs(seed: 11).normal(shape)], "sigmoid") { try $0[0].sigmoid() } }
  func testRelu() throws { try gradCheck([Inputs(seed: 12).awayFromZero(shape)], "relu") { try $0[0].relu() } }
  func testSilu() throws { try gradCheck([Inputs(seed: 13).normal(shape)], "silu") { try $0[0].silu() } }
  func testQuickGelu() throws { try gradCheck([Inputs(seed: 14).normal(shape)], "quickGelu") { try $0[0].quickGelu() } }
  func testGeluExact() throws { try gradCheck([Inputs(seed: 15).normal(shape)], "gelu") { try $0[0].gelu() } }
  func testGeluTanh() throws { try gradCheck([Inputs(seed: 16).normal(shape)], "gelu tanh") { try $0[0].gelu(.tanh) } }
  func testGeglu() throws { try gradCheck([Inputs(seed: 40).normal([3, 6])], "geglu") { try $0[0].geglu() } }

  func testGegluEqualsChunkedGelu() throws {
    // The fused op must give the chunked form's values and gradients exactly (same float ops).
    let x = Tensor.randn([2, 3, 10], generator: Generator(seed: 41))
    let fused = x.contiguousCopy(), chunked = x.contiguousCopy()
    fused.requiresGrad = true
    chunked.requiresGrad = true
    let halves = try chunked.chunk(2, axis: -1)
    let expected = try halves[0] * halves[1].gelu(), out = try fused.geglu()
    XCTAssertEqual(out.shape, [2, 3, 5])
    XCTAssertEqual(out.toArray(), expected.toArray())
    let seed = Tensor.randn(out.shape, generator: Generator(seed: 42))
    try out.backward(seed)
    try expected.backward(seed)
    XCTAssertEqual(try XCTUnwrap(fused.grad).toArray(), try XCTUnwrap(chunked.grad).toArray())
    XCTAssertThrowsError(try Tensor(shape: [2, 3]).geglu()) { XCTAssertTrue("\($0)".contains("geglu"), "\($0)") }
  }

  func testClampBothSides() throws {
    try gradCheck([Inputs(seed: 17).avoiding([-0.5, 0.5], shape)], "clamp") { try $0[0].clamp(min: -0.5, max: 0.5) }
  }

  func testClampOneSided() throws {
    let x = Inputs(seed: 18).avoiding([-0.3, 0.4], shape)
    try gradCheck([x], "clamp min") { try $0[0].clamp(min: -0.3) }
    try gradCheck([x], "clamp max") { try $0[0].clamp(max: 0.4) }
  }

  func testPowScalar() throws {
    let inputs = Inputs(seed: 19)
    let x = inputs.normal(shape), p = inputs.positive(shape)
    try gradCheck([x], "pow 2 (squared fast path)") { try $0[0].pow(2) }
    try gradCheck([x], "pow 3") { try $0[0].pow(3) }
    try gradCheck([p], "pow 0.5") { try $0[0].pow(0.5) }
    try gradCheck([p], "pow -1.5") { try $0[0].pow(-1.5) }
    try gradCheck([x], "pow 0") { try $0[0].pow(0) }
  }

  func testScaled() throws { try gradCheck([Inputs(seed: 20).normal(shape)], "scaled") { try $0[0].scaled(-2.5) } }

  func testUnaryOnTransposedView() throws {
    // Non-contiguous inputs take the copy path of the elementwise kernels.
    let x = Inputs(seed: 21).normal([5, 3])
    try gradCheck([x], "exp of view") { try $0[0].transpose(0, 1).exp() }
    try gradCheck([x], "sigmoid of view") { try $0[0].transpose(0, 1).sigmoid() }
    try gradCheck([x], "silu of view") { try $0[0].transpose(0, 1).silu() }
    try gradCheck([x], "tanh of view") { try $0[0].transpose(0, 1).tanh() }
  }
}

final class GradCheckBinaryTests: XCTestCase {
  // a [2,1,4] and b [3,1] broadcast to [2,3,4]: both inputs get reduced (summed) gradients.
  func testAdd() throws {
    let i = Inputs(seed: 30)
    try gradCheck([i.normal([2, 1, 4]), i.normal([3, 1])], "add") { try $0[0] + $0[1] }
  }

  func testSub() throws {
    let i = Inputs(seed: 31)
    try gradCheck([i.normal([2, 1, 4]), i.normal([3, 1])], "sub") { try $0[0] - $0[1] }
  }

  func testMul() throws {
    let i = Inputs(seed: 32)
    try gradCheck([i.normal([2, 1, 4]), i.normal([3, 1])], "mul") { try $0[0] * $0[1] }
  }

  func testDiv() throws {
    let i = Inputs(seed: 33)
    try gradCheck([i.normal([2, 1, 4]), i.positive([3, 1])], "div") { try $0[0] / $0[1] }
  }

  func testPowTensor() throws {
    let i = Inputs(seed: 34)
    try gradCheck([i.positive([2, 1, 4]), i.normal([3, 1])], "pow") { try $0[0].pow($0[1]) }
  }

  func testScalarOperands() throws {
    let i = Inputs(seed: 35)
    try gradCheck([i.normal([2, 3])], "x - 2") { try $0[0] - 2 }
    try gradCheck([i.normal([2, 3])], "2 - x") { try 2 - $0[0] }
    try gradCheck([i.normal([2, 3])], "x * 3") { try $0[0] * 3 }
    try gradCheck([i.positive([2, 3])], "1.5 / x") { try 1.5 / $0[0] }
  }

  func testMaximumMinimum() throws {
    // 11 distinct values 0.1 apart split between the operands: every broadcast pair differs by >= 0.1.
    let values = Inputs(seed: 36).distinct([11]).toArray()
    let a = Tensor(Array(values[0..<8]), shape: [2, 1, 4]), b = Tensor(Array(values[8...]), shape: [3, 1])
    try gradCheck([a, b], "maximum") { try $0[0].maximum($0[1]) }
    try gradCheck([a, b], "minimum") { try $0[0].minimum($0[1]) }
  }

  func testMaximumTiesSplitLikeCentralDifference() throws {
    // At a tie, max(a±h, b) moves by h one way and 0 the other: the central difference is 1/2,
    // which is exactly the split the backward uses.
    let a = Tensor([0.3, -1.2, 2.0, 0.7]), b = Tensor([0.3, 0.5, 2.0, -0.7])
    try gradCheck([a, b], "maximum with ties") { try $0[0].maximum($0[1]) }
    try gradCheck([a, b], "minimum with ties") { try $0[0].minimum($0[1]) }
  }

  func testWhere() throws {
    let i = Inputs(seed: 37)
    let cond = Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
    try gradCheck([i.normal([2, 3]), i.normal([3])], "where") { try Tensor.where(cond, $0[0], $0[1]) }
    let rowCond = Tensor(ints: [0, 1], shape: [2, 1])  // int64 condition, broadcast across columns
    try gradCheck([i.normal([3]), i.normal([2, 3])], "where broadcast condition") { try Tensor.where(rowCond, $0[0], $0[1]) }
  }
}

final class GradCheckReduceTests: XCTestCase {
  let shape = [2, 3, 4]

  func testSum() throws {
    let x = Inputs(seed: 40).normal(shape)
    try gradCheck([x], "sum all") { try $0[0].sum() }
    try gradCheck([x], "sum axis 1") { try $0[0].sum(axes: [1]) }
    try gradCheck([x], "sum axes 0,2 keepdim") { try $0[0].sum(axes: [0, 2], keepdim: true) }
  }

  func testMean() throws {
    let x = Inputs(seed: 41).normal(shape)
    try gradCheck([x], "mean all") { try $0[0].mean() }
    try gradCheck([x], "mean axis -1") { try $0[0].mean(axes: [-1]) }
    try gradCheck([x], "mean axes 0,1 keepdim") { try $0[0].mean(axes: [0, 1], keepdim: true) }
  }

  func testVariance() throws {
    let x = Inputs(seed: 42).normal(shape)
    try gradCheck([x], "var all") { try $0[0].variance() }
    try gradCheck([x], "var axis 2 biased") { try $0[0].variance(axes: [2], unbiased: false) }
    try gradCheck([x], "var axes 0,1 keepdim") { try $0[0].variance(axes: [0, 1], keepdim: true) }
  }

  func testStd() throws {
    let x = Inputs(seed: 43).normal(shape)
    try gradCheck([x], "std all") { try $0[0].std() }
    try gradCheck([x], "std axis 1 keepdim") { try $0[0].std(axes: [1], keepdim: true) }
    try gradCheck([x], "std axis 2 biased") { try $0[0].std(axes: [2], unbiased: false) }
  }

  func testMaxMinOverAxes() throws {
    let x = Inputs(seed: 44).distinct(shape)
    try gradCheck([x], "max all") { try $0[0].max() }
    try gradCheck([x], "max axis 1") { try $0[0].max(axes: [1]) }
    try gradCheck([x], "min axes 0,2 keepdim") { try $0[0].min(axes: [0, 2], keepdim: true) }
  }

  func testMaxMinAlongAxisValues() throws {
    let x = Inputs(seed: 45).distinct(shape)
    try gradCheck([x], "max(axis: 1)") { try $0[0].max(axis: 1).values }
    try gradCheck([x], "min(axis: -1, keepdim)") { try $0[0].min(axis: -1, keepdim: true).values }
  }

  func testLogsumexp() throws {
    let x = Inputs(seed: 46).normal(shape)
    try gradCheck([x], "logsumexp axis 2") { try $0[0].logsumexp(axes: [2]) }
    try gradCheck([x], "logsumexp all") { try $0[0].logsumexp() }
    try gradCheck([x], "logsumexp axis 0 keepdim") { try $0[0].logsumexp(axes: [0], keepdim: true) }
  }

  func testCumsum() throws {
    let x = Inputs(seed: 47).normal(shape)
    try gradCheck([x], "cumsum axis 2") { try $0[0].cumsum(axis: 2) }
    try gradCheck([x], "cumsum axis 0") { try $0[0].cumsum(axis: 0) }
  }

  func testSoftmax() throws {
    let x = Inputs(seed: 48).normal(shape)
    try gradCheck([x], "softmax last") { try $0[0].softmax(axis: -1) }
    try gradCheck([x], "softmax axis 0") { try $0[0].softmax(axis: 0) }
  }

  func testLogSoftmax() throws {
    let x = Inputs(seed: 49).normal(shape)
    try gradCheck([x], "log_softmax last") { try $0[0].logSoftmax(axis: 2) }
    try gradCheck([x], "log_softmax axis 1") { try $0[0].logSoftmax(axis: 1) }
  }

  func testSumTo() throws {
    let x = Inputs(seed: 50).normal(shape)
    try gradCheck([x], "sumTo [3,1]") { try $0[0].sumTo([3, 1]) }
    try gradCheck([x], "sumTo [4]") { try $0[0].sumTo([4]) }
    try gradCheck([x], "sumTo [2,1,4]") { try $0[0].sumTo([2, 1, 4]) }
  }
}

final class GradCheckShapeTests: XCTestCase {
  let shape = [2, 3, 4]

  func testReshape() throws {
    let x = Inputs(seed: 60).normal(shape)
    try gradCheck([x], "reshape") { try $0[0].reshape([4, 6]) }
    try gradCheck([x], "reshape of a transposed view") { try $0[0].transpose(0, 2).reshape([-1]) }
    try gradCheck([x], "view") { try $0[0].view([6, -1]) }
  }

  func testPermuteTranspose() throws {
    let x = Inputs(seed: 61).normal(shape)
    try gradCheck([x], "permute") { try $0[0].permute([2, 0, 1]).exp() }
    try gradCheck([x], "transpose") { try $0[0].transpose(0, 2).sin() }
  }

  func testUnsqueezeSqueeze() throws {
    let x = Inputs(seed: 62).normal([2, 1, 3])
    try gradCheck([x], "unsqueeze") { try $0[0].unsqueeze(-1) }
    try gradCheck([x], "squeeze all") { try $0[0].squeeze() }
    try gradCheck([x], "squeeze axis") { try $0[0].squeeze(1) }
  }

  func testExpand() throws {
    let x = Inputs(seed: 63).normal([3, 1])
    try gradCheck([x], "expand") { try $0[0].expand([2, 3, 4]) }
    try gradCheck([x], "expand then contiguous") { try $0[0].expand([2, 3, 4]).contiguous() }
  }

  func testNarrow() throws {
    let x = Inputs(seed: 64).normal(shape)
    try gradCheck([x], "narrow") { try $0[0].narrow(2, start: 1, length: 2) }
    try gradCheck([x], "narrow negative start") { try $0[0].narrow(1, start: -2, length: 2) }
  }

  func testSliceWithStep() throws {
    let x = Inputs(seed: 65).normal(shape)
    try gradCheck([x], "slice step 2") { try $0[0].slice(2, start: 0, end: 4, step: 2) }
    try gradCheck([x], "slice 1::2") { try $0[0].slice(1, start: 1, step: 2) }
  }

  func testCat() throws {
    let i = Inputs(seed: 66)
    try gradCheck([i.normal([2, 1, 4]), i.normal([2, 3, 4]), i.normal([2, 2, 4])], "cat axis 1") {
      try Tensor.cat($0, axis: 1)
    }
  }

  func testStack() throws {
    let i = Inputs(seed: 67)
    try gradCheck([i.normal([2, 3]), i.normal([2, 3]), i.normal([2, 3])], "stack axis 1") {
      try Tensor.stack($0, axis: 1)
    }
  }

  func testSplit() throws {
    let x = Inputs(seed: 68).normal(shape)
    try gradCheck([x], "split sizes") {
      let p = try $0[0].split(sizes: [1, 2, 1], axis: 2)
      return try Tensor.cat([p[2], p[0].exp(), p[1].scaled(3)], axis: 2)
    }
    try gradCheck([x], "split size 2") {
      let p = try $0[0].split(2, axis: 1)
      return try Tensor.cat([p[1].sin(), p[0]], axis: 1)
    }
  }

  func testFlip() throws {
    let x = Inputs(seed: 69).normal(shape)
    try gradCheck([x], "flip") { try $0[0].flip([0, 2]) }
  }

  func testRepeat() throws {
    let x = Inputs(seed: 70).normal([2, 3])
    try gradCheck([x], "repeat") { try $0[0].repeat([2, 1, 3]) }
  }

  func testPad() throws {
    let x = Inputs(seed: 71).normal([2, 3])
    try gradCheck([x], "pad") { try $0[0].pad([1, 2, 0, 1], value: 0.5) }
  }

  func testContiguous() throws {
    let x = Inputs(seed: 72).normal(shape)
    try gradCheck([x], "contiguous") { try $0[0].transpose(1, 2).contiguous() }
  }
}

final class GradCheckIndexingTests: XCTestCase {
  func testIndexSelect() throws {
    let x = Inputs(seed: 80).normal([4, 3])
    let rows = Tensor(ints: [2, 0, 2])  // repeated index: its gradient rows add up
    try gradCheck([x], "index_select axis 0") { try $0[0].indexSelect(0, rows) }
    try gradCheck([x], "index_select axis 1") { try $0[0].indexSelect(1, Tensor(ints: [1, 1, 0, 2])) }
  }

  func testGather() throws {
    let i = Inputs(seed: 81)
    let x = i.normal([3, 4])
    let idx1 = try i.indices(4, [3, 5]), idx0 = try i.indices(3, [2, 4])
    try gradCheck([x], "gather axis 1") { try $0[0].gather(1, idx1) }
    try gradCheck([x], "gather axis 0") { try $0[0].gather(0, idx0) }
  }

  func testEmbedding() throws {
    let w = Inputs(seed: 82).normal([5, 3])
    let ids = Tensor(ints: [1, 4, 1, 0], shape: [2, 2])
    try gradCheck([w], "embedding") { try Tensor.embedding(ids, weight: $0[0]) }
  }
}
