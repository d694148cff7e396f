// Error reporting: bad shapes, dtypes and arguments throw a TensorError naming the op and shapes, never crash.

import Foundation
import TensorCore
import XCTest

/// Asserts that `body` throws a TensorError whose `op: message` text is exactly `expected`.
func assertTensorError(
  _ expected: String, kind: TensorError.Kind? = nil, file: StaticString = #filePath, line: UInt = #line,
  _ body: () throws -> Any
) {
  do {
    let result = try body()
    XCTFail("expected error \"\(expected)\", got \(result)", file: file, line: line)
  } catch let error as TensorError {
    XCTAssertEqual(error.description, expected, file: file, line: line)
    if let kind { XCTAssertEqual(error.kind, kind, "kind of \"\(error)\"", file: file, line: line) }
  } catch {
    XCTFail("expected a TensorError, got \(type(of: error)): \(error)", file: file, line: line)
  }
}

func zeros(_ shape: [Int]) -> Tensor { Tensor.zeros(shape) }

final class ErrorMessageTests: XCTestCase {
  func testMatmulShapes() {
    assertTensorError("matmul: [2,5] x [3,5]: inner dimensions 5 and 3 differ", kind: .shape) {
      try zeros([2, 5]).matmul(zeros([3, 5]))
    }
    assertTensorError("matmul: both operands need at least one dimension, got [] and [3]") {
      try Tensor.scalar(1).matmul(zeros([3]))
    }
    assertTensorError("matmul: [2] and [3] cannot be broadcast (dimension 0: 2 vs 3)") {
      try zeros([2, 3, 4]).matmul(zeros([3, 4, 5]))
    }
    assertTensorError("bmm: expected [B,M,K] and [B,K,N], got [2,3,4] and [3,4,5]") {
      try zeros([2, 3, 4]).bmm(zeros([3, 4, 5]))
    }
  }

  func testLinearShapes() {
    assertTensorError("linear: input [2,3] does not match weight [4,5] (expected [..., 5])") {
      try Tensor.linear(zeros([2, 3]), weight: zeros([4, 5]), bias: nil)
    }
    assertTensorError("linear: bias [5] does not match 4 output features") {
      try Tensor.linear(zeros([2, 3]), weight: zeros([4, 3]), bias: zeros([5]))
    }
  }

  func testBroadcastFailure() {
    assertTensorError("add: [2,3] and [4] cannot be broadcast (dimension 1: 3 vs 4)", kind: .shape) {
      try zeros([2, 3]) + zeros([4])
    }
    assertTensorError("mul: [2,3,2] and [4,1] cannot be broadcast (dimension 1: 3 vs 4)") {
      try zeros([2, 3, 2]) * zeros([4, 1])
    }
    assertTensorError("where: [2] and [3] cannot be broadcast (dimension 0: 2 vs 3)") {
      try Tensor.where(zeros([2]), zeros([3]), zeros([3]))
    }
  }

  func testReshapeCount() {
    assertTensorError("reshape: cannot reshape [2,3] (6 elements) into [4]", kind: .shape) { try zeros([2, 3]).reshape([4]) }
    assertTensorError("reshape: cannot reshape [2,3] (6 elements) into [-1,4]") { try zeros([2, 3]).reshape([-1, 4]) }
    assertTensorError("reshape: invalid target shape [-1,-1]") { try zeros([2, 3]).reshape([-1, -1]) }
    assertTensorError("reshape: invalid target shape [-2,-3]") { try zeros([2, 3]).reshape([-2, -3]) }
  }

  func testConvWeightAndGroups() {
    assertTensorError("conv2d: input [1,4,5,5] with groups=2 needs weight [2,2,kH,kW], got [2,3,3,3]", kind: .shape) {
      try Tensor.conv2d(zeros([1, 4, 5, 5]), weight: zeros([2, 3, 3, 3]), groups: 2)
    }
    assertTensorError("conv2d: input [1,4,5,5] with groups=3 needs weight [3,1,kH,kW], got [3,1,3,3]") {
      try Tensor.conv2d(zeros([1, 4, 5, 5]), weight: zeros([3, 1, 3, 3]), groups: 3)
    }
    assertTensorError("conv2d: expected input [N,C,H,W] and weight [Cout,Cin/groups,kH,kW], got [1,5,5] and [1,1,3,3]") {
      try Tensor.conv2d(zeros([1, 5, 5]), weight: zeros([1, 1, 3, 3]))
    }
    assertTensorError("conv2d: stride and dilation must be positive, padding non-negative and groups positive", kind: .argument) {
      try Tensor.conv2d(zeros([1, 1, 5, 5]), weight: zeros([1, 1, 3, 3]), stride: (0, 1))
    }
    assertTensorError("conv2d: bias [3] does not match 2 output channels") {
      try Tensor.conv2d(zeros([1, 1, 5, 5]), weight: zeros([2, 1, 3, 3]), bias: zeros([3]))
    }
  }

  func testConvInputTooSmall() {
    assertTensorError("conv2d: input [1,1,2,2] is smaller than the kernel 3x3 (dilation 1x1, padding 0x0)") {
      try Tensor.conv2d(zeros([1, 1, 2, 2]), weight: zeros([1, 1, 3, 3]))
    }
    // With stride 2 the output-size formula truncates (2 - 3) / 2 to 0 (fixed: used to give a 1x1 output).
    assertTensorError("conv2d: input [1,1,2,2] is smaller than the kernel 3x3 (dilation 1x1, padding 0x0)") {
      try Tensor.conv2d(zeros([1, 1, 2, 2]), weight: zeros([1, 1, 3, 3]), stride: (2, 2))
    }
    assertTensorError("conv2d: input [1,1,4,4] is smaller than the kernel 3x3 (dilation 2x2, padding 0x0)") {
      try Tensor.conv2d(zeros([1, 1, 4, 4]), weight: zeros([1, 1, 3, 3]), dilation: (2, 2))
    }
  }

  func testIndexOutOfRange() {
    assertTensorError("index_select: index 3 is out of bounds for a dimension of size 3", kind: .index) {
      try zeros([3, 2]).indexSelect(0, Tensor(ints: [0, 3]))
    }
    assertTensorError("index_select: index -1 is out of bounds for a dimension of size 2") {
      try zeros([3, 2]).indexSelect(1, Tensor(ints: [-1]))
    }
    assertTensorError("gather: index 3 is out of bounds for a dimension of size 3", kind: .index) {
      try zeros([2, 3]).gather(1, Tensor(ints: [0, 3], shape: [1, 2]))
    }
    assertTensorError("gather: index [3,1] does not fit input [2,3] along dimension 1", kind: .shape) {
      try zeros([2, 3]).gather(1, Tensor(ints: [0, 0, 0], shape: [3, 1]))
    }
    assertTensorError("embedding: index 5 is out of bounds for a dimension of size 5", kind: .index) {
      try Tensor.embedding(Tensor(ints: [1, 5]), weight: zeros([5, 2]))
    }
    assertTensorError("embedding: weight must be [num_embeddings, dim], got [5]") {
      try Tensor.embedding(Tensor(ints: [1]), weight: zeros([5]))
    }
  }

  func testFloatIndicesThatCannotBeIntegers() {
    // NaN / inf / huge float indices used to reach Int64(_:) and trap.
    assertTensorError("index_select: index nan is out of bounds for a dimension of size 3", kind: .index) {
      try zeros([3]).indexSelect(0, Tensor([Float.nan]))
    }
    assertTensorError("gather: index inf is out of bounds for a dimension of size 3") {
      try zeros([3]).gather(0, Tensor([Float.infinity]))
    }
    assertTensorError("index_select: index 1e+30 is out of bounds for a dimension of size 3") {
      try zeros([3]).indexSelect(0, Tensor([1e30]))
    }
    XCTAssertEqual(Tensor([Float.nan, .infinity, -2.7, 3.9]).toInts(), [0, 0, -2, 3])
  }

  func testNarrowAndSlice() {
    assertTensorError("narrow: range 2..<5 out of bounds for dimension 0 of size 4", kind: .index) {
      try zeros([4]).narrow(0, start: 2, length: 3)
    }
    assertTensorError("narrow: range 0..<-1 out of bounds for dimension 0 of size 4") {
      try zeros([4]).narrow(0, start: 0, length: -1)
    }
    assertTensorError("narrow: dimension 2 out of range for a tensor of rank 2", kind: .argument) {
      try zeros([2, 3]).narrow(2, start: 0, length: 1)
    }
    assertTensorError("slice: step must be positive (got 0)") { try zeros([4]).slice(0, step: 0) }
  }

  func testPermuteAndExpand() {
    assertTensorError("permute: dimensions [0, 0] repeat", kind: .argument) { try zeros([2, 3]).permute([0, 0]) }
    assertTensorError("permute: dimensions [1, -1] repeat") { try zeros([2, 3]).permute([1, -1]) }
    assertTensorError("permute: expected 2 dimensions, got 3") { try zeros([2, 3]).permute([0, 1, 2]) }
    assertTensorError("expand: cannot expand [2] to [3]") { try zeros([2]).expand([3]) }
    assertTensorError("expand: cannot expand [2,3] to fewer dimensions [3]") { try zeros([2, 3]).expand([3]) }
    // Negative sizes other than -1 on an existing dimension (fixed: used to build a tensor of shape [-5]).
    assertTensorError("expand: cannot expand [1] to [-5]") { try zeros([1]).expand([-5]) }
    assertTensorError("expand: cannot expand [2] to [-1,2]") { try zeros([2]).expand([-1, 2]) }
    assertTensorError("unsqueeze: dimension 3 out of range for rank 1") { try zeros([2]).unsqueeze(3) }
  }

  func testCatStackSplit() {
    assertTensorError("cat: shapes [2,3], [2,4] differ outside dimension 0", kind: .shape) {
      try Tensor.cat([zeros([2, 3]), zeros([2, 4])], axis: 0)
    }
    assertTensorError("cat: shapes [2,3], [3] differ outside dimension 1") {
      try Tensor.cat([zeros([2, 3]), zeros([3])], axis: 1)
    }
    assertTensorError("cat: expected at least one tensor") { try Tensor.cat([], axis: 0) }
    assertTensorError("stack: all tensors must have the same shape, got [2] and [3]") {
      try Tensor.stack([zeros([2]), zeros([3])], axis: 0)
    }
    assertTensorError("split: sizes [2, 2] do not add up to dimension 0 of size 5", kind: .argument) {
      try zeros([5]).split(sizes: [2, 2], axis: 0)
    }
    assertTensorError("split: sizes [6, -1] do not add up to dimension 0 of size 5") {
      try zeros([5]).split(sizes: [6, -1], axis: 0)
    }
    assertTensorError("split: split size must be positive (got 0)") { try zeros([5]).split(0, axis: 0) }
    assertTensorError("chunk: chunks must be positive (got 0)") { try zeros([5]).chunk(0, axis: 0) }
  }

  func testPadRepeatSumTo() {
    assertTensorError("pad: negative padding [-1, 0] is not supported") { try zeros([3]).pad([-1, 0]) }
    assertTensorError("pad: padding [1] must hold (before, after) pairs for at most 1 dimensions") { try zeros([3]).pad([1]) }
    assertTensorError("repeat: need at least 2 non-negative repeat counts, got [2]") { try zeros([2, 3]).repeat([2]) }
    // sumTo used to reshape [2,3] into [3,2] silently.
    assertTensorError("sum_to: cannot reduce [2,3] to [3,2]") { try zeros([2, 3]).sumTo([3, 2]) }
    assertTensorError("sum_to: cannot reduce [2] to [3,2]") { try zeros([2]).sumTo([3, 2]) }
  }

  func testZeroDimensionalTensorsHaveNoDimensionToIndex() {
    // Each of these read shape[0] of a 0-d tensor (out of bounds) before the fix.
    let s = Tensor.scalar(1)
    assertTensorError("narrow: a 0-d tensor has no dimension 0", kind: .argument) { try s.narrow(0, start: 0, length: 1) }
    assertTensorError("slice: a 0-d tensor has no dimension -1") { try s.slice(-1, start: 0) }
    assertTensorError("split: a 0-d tensor has no dimension 0") { try s.split(1, axis: 0) }
    assertTensorError("split: a 0-d tensor has no dimension 0") { try s.split(sizes: [1], axis: 0) }
    assertTensorError("chunk: a 0-d tensor has no dimension 0") { try s.chunk(2, axis: 0) }
    assertTensorError("cat: a 0-d tensor has no dimension 0") { try Tensor.cat([s, s], axis: 0) }
    assertTensorError("index_select: a 0-d tensor has no dimension 0") { try s.indexSelect(0, Tensor(ints: [0])) }
    assertTensorError("gather: a 0-d tensor has no dimension 0") { try s.gather(0, Tensor(ints: [0], shape: [])) }
    assertTensorError("scatter_add: a 0-d tensor has no dimension 0") {
      try s.scatterAdd(axis: 0, index: Tensor(ints: [0], shape: []), source: Tensor.scalar(2))
    }
  }

  func testZeroDimensionalFlipAndSqueezeAreIdentity() throws {
    let s = Tensor.scalar(4)
    XCTAssertEqual(try s.flip([0]).toArray(), [4])
    XCTAssertEqual(try s.flip([0]).shape, [])
    XCTAssertEqual(try s.squeeze(0).shape, [])
    XCTAssertEqual(try s.squeeze(-1).toArray(), [4])
    assertTensorError("flip: dimension 1 out of range for a tensor of rank 0") { try s.flip([1]) }
  }

  func testItemOnNonScalar() {
    assertTensorError("item: only one-element tensors convert to a number, got [2]", kind: .argument) { try zeros([2]).item() }
    assertTensorError("item: only one-element tensors convert to a number, got [0]") { try zeros([0]).item() }
  }

  func testBackwardErrors() throws {
    let x = Tensor([1, 2])
    x.requiresGrad = true
    assertTensorError("backward: a gradient is needed for a non-scalar tensor [2]", kind: .argument) {
      try (x * 2).backward()
    }
    assertTensorError("backward: gradient [3] does not match tensor [2]", kind: .shape) {
      try (x * 2).backward(Tensor([1, 1, 1]))
    }
    assertTensorError("backward: expected a float tensor, got i64 [2]", kind: .dtype) {
      try (x * 2).backward(Tensor(ints: [1, 1]))
    }
    assertTensorError("backward: tensor does not require grad and has no grad_fn", kind: .state) {
      try Tensor.scalar(3).backward()
    }
  }

  func testBackwardTwiceNeedsRetainGraph() throws {
    let x = Tensor([1, 2])
    x.requiresGrad = true
    let y = try (x * x).sum()
    try y.backward()
    assertTensorError("backward: the graph through 'sum' was already freed; pass retainGraph to backward twice", kind: .state) {
      try y.backward()
    }
  }

  func testInt64IntoFloatOps() {
    let ids = Tensor(ints: [1, 2])
    assertTensorError("exp: expected a float tensor, got i64 [2]", kind: .dtype) { try ids.exp() }
    assertTensorError("add: expected a float tensor, got i64 [2]", kind: .dtype) { try zeros([2]) + ids }
    assertTensorError("matmul: expected a float tensor, got i64 [2]") { try zeros([2]).matmul(ids) }
    assertTensorError("sum: expected a float tensor, got i64 [2]") { try ids.sum() }
    assertTensorError("softmax: expected a float tensor, got i64 [2]") { try ids.softmax(axis: 0) }
    assertTensorError("cat: expected a float tensor, got i64 [2]") { try Tensor.cat([zeros([2]), ids], axis: 0) }
    assertTensorError("assign: expected a float tensor, got i64 [2]") { try ids.fill(1) }
    // Weights and biases are checked too (fixed: an int64 weight or bias used to be read as floats).
    assertTensorError("linear: expected a float tensor, got i64 [2]") {
      try Tensor.linear(zeros([3, 2]), weight: zeros([2, 2]), bias: ids)
    }
    assertTensorError("conv2d: expected a float tensor, got i64 [2]") {
      try Tensor.conv2d(zeros([1, 1, 3, 3]), weight: zeros([2, 1, 1, 1]), bias: ids)
    }
    assertTensorError("group_norm: expected a float tensor, got i64 [2]") {
      try Tensor.groupNorm(zeros([1, 2, 3]), groups: 1, weight: ids, bias: nil)
    }
    assertTensorError("layer_norm: expected a float tensor, got i64 [2]") {
      try Tensor.layerNorm(zeros([3, 2]), normalizedShape: [2], weight: nil, bias: ids)
    }
    assertTensorError("scatter_add: expected a float tensor, got i64 [2]") {
      try zeros([3]).scatterAdd(axis: 0, index: Tensor(ints: [0, 1]), source: ids)
    }
  }

  func testAttentionShapes() {
    assertTensorError(
      "attention: q [1,3,4], k [1,5,3], v [1,5,2] do not fit [..., Lq, d], [..., Lk, d], [..., Lk, dv]", kind: .shape
    ) {
      try Tensor.scaledDotProductAttention(zeros([1, 3, 4]), zeros([1, 5, 3]), zeros([1, 5, 2]))
    }
    assertTensorError("attention: q [2,3,4], k [1,5,4], v [1,5,2] do not fit [..., Lq, d], [..., Lk, d], [..., Lk, dv]") {
      try Tensor.scaledDotProductAttention(zeros([2, 3, 4]), zeros([1, 5, 4]), zeros([1, 5, 2]))
    }
    assertTensorError("attention: mask [3,4] cannot be broadcast to [1,3,5]") {
      try Tensor.scaledDotProductAttention(zeros([1, 3, 4]), zeros([1, 5, 4]), zeros([1, 5, 2]), mask: zeros([3, 4]))
    }
  }

  func testNormShapes() {
    assertTensorError("group_norm: input [2,6,3] cannot be split into 4 groups of channels", kind: .shape) {
      try Tensor.groupNorm(zeros([2, 6, 3]), groups: 4, weight: nil, bias: nil)
    }
    assertTensorError("group_norm: weight [4] does not match 6 channels") {
      try Tensor.groupNorm(zeros([2, 6, 3]), groups: 3, weight: zeros([4]), bias: nil)
    }
    assertTensorError("layer_norm: input [2,3] does not end with normalized shape [4]", kind: .shape) {
      try Tensor.layerNorm(zeros([2, 3]), normalizedShape: [4], weight: nil, bias: nil)
    }
    assertTensorError("layer_norm: bias [3] does not match [4]") {
      try Tensor.layerNorm(zeros([2, 4]), normalizedShape: [4], weight: nil, bias: zeros([3]))
    }
  }

  func testPoolingKernelLargerThanInput() {
    assertTensorError("avg_pool2d: input [1,1,2,2] is smaller than the kernel", kind: .shape) {
      try zeros([1, 1, 2, 2]).avgPool2d(kernel: (3, 3), stride: (1, 1))
    }
    // Default stride = kernel = 3: (2 - 3) / 3 truncates to 0 (fixed: used to give a 1x1 output).
    assertTensorError("max_pool2d: input [1,1,2,2] is smaller than the kernel") {
      try zeros([1, 1, 2, 2]).maxPool2d(kernel: (3, 3))
    }
    assertTensorError("max_pool2d: kernel and stride must be positive and padding at most half the kernel", kind: .argument) {
      try zeros([1, 1, 4, 4]).maxPool2d(kernel: (2, 2), padding: (2, 0))
    }
    assertTensorError("avg_pool2d: expected [N,C,H,W], got [2,2]") { try zeros([2, 2]).avgPool2d(kernel: (1, 1)) }
  }

  func testInterpolateSizes() {
    assertTensorError("interpolate: cannot resize [1,1,2,2] to 0x3", kind: .argument) {
      try zeros([1, 1, 2, 2]).interpolate(size: (0, 3))
    }
    assertTensorError("interpolate: cannot resize [1,1,2,2] to 2x-1") { try zeros([1, 1, 2, 2]).interpolate(size: (2, -1)) }
    assertTensorError("interpolate: give either a size or a positive scale factor") { try zeros([1, 1, 2, 2]).interpolate() }
    assertTensorError("interpolate: cannot resize [1,1,2,2] to 0x0") { try zeros([1, 1, 2, 2]).interpolate(scale: 0.25) }
    // A huge scale used to overflow Int(_:) (a trap).
    assertTensorError("interpolate: give either a size or a positive scale factor") {
      try zeros([1, 1, 2, 2]).interpolate(scale: 1e300)
    }
    assertTensorError("interpolate: expected [N,C,H,W], got [2,2]") { try zeros([2, 2]).interpolate(size: (1, 1)) }
  }

  func testReductionAxes() {
    assertTensorError("sum: dimension 3 out of range for a tensor of rank 2", kind: .argument) { try zeros([2, 3]).sum(axes: [3]) }
    assertTensorError("mean: dimension -3 out of range for a tensor of rank 2") { try zeros([2, 3]).mean(axes: [-3]) }
    assertTensorError("sum: dimension -1 repeated") { try zeros([2, 3]).sum(axes: [1, -1]) }
    assertTensorError("max: cannot reduce an empty tensor") { try zeros([0, 3]).max() }
    assertTensorError("min: cannot reduce an empty dimension") { try zeros([0, 3]).min(axis: 0) }
    assertTensorError("softmax: dimension 2 out of range for a tensor of rank 2") { try zeros([2, 3]).softmax(axis: 2) }
    assertTensorError("cumsum: dimension -3 out of range for a tensor of rank 2") { try zeros([2, 3]).cumsum(axis: -3) }
  }

  func testCreationAndRandomArguments() {
    assertTensorError("randint: high (3) must be greater than low (3)", kind: .argument) {
      try Tensor.randint(3, 3, [2], generator: Generator(seed: 0))
    }
    assertTensorError("randint: invalid shape [2,-1]", kind: .shape) {
      try Tensor.randint(0, 3, [2, -1], generator: Generator(seed: 0))
    }
    assertTensorError("dropout: probability must be in [0, 1], got 1.5") {
      try zeros([2]).dropout(1.5, training: true, generator: Generator(seed: 0))
    }
    assertTensorError("arange: step must be finite and non-zero (got 0.0)") { try Tensor.arange(0, 1, step: 0) }
    // A span of ~1e608 elements used to overflow Int(_:) (a trap).
    assertTensorError("arange: -1e+308..<1e+308 step 1e-300 has too many elements") {
      try Tensor.arange(-1e308, 1e308, step: 1e-300)
    }
    assertTensorError("linspace: count must be >= 0 (got -1)") { try Tensor.linspace(0, 1, count: -1) }
    assertTensorError("tensor: 5 values cannot fill shape [2,3]") { try Tensor.from([1, 2, 3, 4, 5], shape: [2, 3]) }
    assertTensorError("tensor: 0 values cannot fill shape [-1]") { try Tensor.from([], shape: [-1]) }
  }

  func testOptimizerState() {
    let p = Tensor([1, 2, 3])
    p.grad = Tensor([1, 2])
    let sgd = SGD(groups: [ParamGroup(params: [p], lr: 0.1)], momentum: 0.9)
    assertTensorError("optimizer: parameter 0.0 [3] must be a contiguous float tensor with a matching gradient", kind: .state) {
      try sgd.step()
    }
    assertTensorError("optimizer: state entry '0.0.momentum' [2] does not match any parameter") {
      try sgd.loadStateTensors(["0.0.momentum": zeros([2])], stepCount: 1)
    }
    assertTensorError("optimizer: state entry '1.0.momentum' [3] does not match any parameter") {
      try sgd.loadStateTensors(["1.0.momentum": zeros([3])], stepCount: 1)
    }
  }
}

final class ErrorFixRegressionTests: XCTestCase {
  func testLinearWithZeroInputFeaturesIsTheBias() throws {
    // rows used to be x.count / inFeatures = 0, leaving the bias-initialised output unwritten.
    let out = try Tensor.linear(zeros([2, 0]), weight: zeros([3, 0]), bias: Tensor([1, 2, 3]))
    XCTAssertEqual(out.shape, [2, 3])
    XCTAssertEqual(out.toArray(), [1, 2, 3, 1, 2, 3])
  }

  func testArangeWithTinyStepIsEmptyOrAnError() throws {
    // Int(_:) of ±1e300 trapped before the fix.
    XCTAssertEqual(try Tensor.arange(5, 0, step: 1e-300).shape, [0])
    XCTAssertThrowsError(try Tensor.arange(0, 5, step: 1e-300))
    XCTAssertEqual(try Tensor.arange(0, 2, step: 0.5).toArray(), [0, 0.5, 1, 1.5])
  }

  func testZeroSizeTensorsFlowThroughOps() throws {
    let e = zeros([0, 3])
    e.requiresGrad = true
    XCTAssertEqual(try (e + zeros([3])).shape, [0, 3])
    XCTAssertEqual(try e.sum(axes: [0]).toArray(), [0, 0, 0])
    XCTAssertEqual(try e.matmul(zeros([3, 2])).shape, [0, 2])
    XCTAssertEqual(try zeros([2, 0]).matmul(zeros([0, 3])).toArray(), [Float](repeating: 0, count: 6))
    XCTAssertEqual(try e.softmax(axis: 1).shape, [0, 3])
    XCTAssertEqual(try Tensor.cat([e, zeros([1, 3])], axis: 0).shape, [1, 3])
    let y = try e.exp().sum()
    try y.backward()
    XCTAssertEqual(e.grad?.shape, [0, 3])
  }
}

extension Tensor {
  /// Int64 indices folded into 0..<size (size 0 leaves them, so they stay out of bounds).
  fileprivate func clampedForGather(_ size: Int) -> Tensor {
    guard size > 0 else { return self }
    return Tensor(ints: toInts().map { (($0 % Int64(size)) + Int64(size)) % Int64(size) }, shape: shape)
  }
}

/// Random calls with random — often invalid — shapes and arguments: each must return or throw a
/// TensorError. A trap would kill the test process, so reaching the end is the assertion that matters.
final class ErrorRobustnessTests: XCTestCase {
  final class Fuzzer {
    let gen: Generator
    init(seed: UInt64) { gen = Generator(seed: seed) }

    func int(_ lo: Int, _ hi: Int) -> Int { Int(gen.nextInt(Int64(lo), Int64(hi + 1))) }
    func bool() -> Bool { int(0, 1) == 1 }
    func pick<T>(_ xs: [T]) -> T { xs[int(0, xs.count - 1)] }
    /// A small argument, often negative or out of range.
    func arg() -> Int { int(-3, 4) }
    /// A non-negative shape of rank 0...4 with sizes 0...3.
    func shape(maxRank: Int = 4) -> [Int] { (0..<int(0, maxRank)).map { _ in int(0, 3) } }
    /// A shape argument for reshape/expand/sumTo, including -1, negative and zero sizes.
    func shapeArg() -> [Int] { (0..<int(0, 4)).map { _ in int(-2, 4) } }

    /// A float tensor (sometimes a transposed view, sometimes requiring grad) or, rarely, an int64 one.
    func tensor(_ s: [Int]? = nil) -> Tensor {
      let sh = s ?? shape()
      if int(0, 15) == 0 { return Tensor(ints: (0..<elementCount(sh)).map { _ in Int64(int(-1, 3)) }, shape: sh) }
      var t = Tensor.randn(sh, generator: gen)
      if sh.count >= 2 && int(0, 3) == 0, let v = try? t.transpose(0, sh.count - 1).contiguousCopy().transpose(0, sh.count - 1) {
        t = v  // same shape, non-contiguous strides
      }
      if int(0, 2) > 0 { t.requiresGrad = true }
      return t
    }

    /// An index tensor: int64 in -1...3 or, sometimes, floats (including NaN).
    func index(_ s: [Int]? = nil) -> Tensor {
      let sh = s ?? shape(maxRank: 2)
      if int(0, 4) == 0 {
        return Tensor((0..<elementCount(sh)).map { _ in pick([0, 1, 2.5, -1, .nan, 1e20]) }, shape: sh)
      }
      return Tensor(ints: (0..<elementCount(sh)).map { _ in Int64(int(-1, 3)) }, shape: sh)
    }

    func axesArg() -> [Int]? { bool() ? nil : (0..<int(0, 3)).map { _ in arg() } }
    func pair(_ lo: Int, _ hi: Int) -> (Int, Int) { (int(lo, hi), int(lo, hi)) }
    func float() -> Float { pick([0, 1, -1, 0.5, 2, 1.5, -0.25, .nan, .infinity]) }

    static let cases = 57
    /// The case `call()` picked last.
    var lastCase = 0

    /// One random call; returns its tensor result (if any) so the caller can also run backward.
    func call() throws -> Tensor? {
      lastCase = int(0, Self.cases - 1)
      switch lastCase {
      case 0: return try tensor().exp()
      case 1: return try tensor().log()
      case 2: return try tensor().gelu(bool() ? .none : .tanh)
      case 3: return try tensor().clamp(min: bool() ? float() : nil, max: bool() ? float() : nil)
      case 4: return try tensor().pow(float())
      case 5: return try tensor() + tensor()
      case 6: return try tensor() * tensor()
      case 7: return try tensor() / tensor()
      case 8: return try tensor().pow(tensor())
      case 9: return try tensor().maximum(tensor())
      case 10: return try Tensor.where(tensor(), tensor(), tensor())
      case 11: return try tensor().compare(tensor(), pick(ComparisonOp.allCases))
      case 12: return try tensor().sum(axes: axesArg(), keepdim: bool())
      case 13: return try tensor().mean(axes: axesArg(), keepdim: bool())
      case 14: return try tensor().std(axes: axesArg(), unbiased: bool(), keepdim: bool())
      case 15: return try tensor().max(axes: axesArg(), keepdim: bool())
      case 16: return try tensor().min(axis: arg(), keepdim: bool()).values
      case 17: return try tensor().argmax(axis: bool() ? nil : arg(), keepdim: bool())
      case 18: return try tensor().logsumexp(axes: axesArg(), keepdim: bool())
      case 19: return try tensor().cumsum(axis: arg())
      case 20: return try tensor().softmax(axis: arg())
      case 21: return try tensor().logSoftmax(axis: arg())
      case 22: return try tensor().sumTo(shapeArg())
      case 23: return try tensor().reshape(shapeArg())
      case 24:
        let x = tensor()
        if bool() { return try x.permute(Tensor.randperm(x.rank, generator: gen).toInts().map { Int($0) - (bool() ? x.rank : 0) }) }
        return try x.permute((0..<int(0, 4)).map { _ in arg() })
      case 25: return try tensor().transpose(arg(), arg())
      case 26: return try bool() ? tensor().unsqueeze(arg()) : tensor().squeeze(bool() ? nil : arg())
      case 27: return try tensor().expand(shapeArg())
      case 28: return try tensor().narrow(arg(), start: arg(), length: arg())
      case 29: return try tensor().slice(arg(), start: bool() ? arg() : nil, end: bool() ? arg() : nil, step: arg())
      case 30: return try Tensor.cat((0..<int(0, 3)).map { _ in tensor() }, axis: arg())
      case 31: return try Tensor.stack((0..<int(0, 3)).map { _ in tensor() }, axis: arg())
      case 32: return try tensor().split(arg(), axis: arg()).first
      case 33:
        let x = tensor()
        let axis = x.rank > 0 && bool() ? int(0, x.rank - 1) : arg()
        var sizes = (0..<int(0, 3)).map { _ in arg() }
        if bool(), x.rank > 0, axis >= 0, axis < x.rank {  // sizes that add up, plus an occasional 0
          let n = x.shape[axis], cut = int(0, n)
          sizes = bool() ? [cut, n - cut] : [n, 0]
        }
        return try x.split(sizes: sizes, axis: axis).last
      case 34: return try tensor().chunk(arg(), axis: arg()).first
      case 35: return try tensor().flip((0..<int(0, 2)).map { _ in arg() })
      case 36: return try tensor().repeat((0..<int(0, 4)).map { _ in arg() })
      case 37: return try tensor().pad((0..<int(0, 4)).map { _ in arg() }, value: float())
      case 38: return try tensor().indexSelect(arg(), index())
      case 39:
        let x = tensor()
        if bool(), x.rank > 0 {  // an index of the same rank, within bounds except by chance
          let axis = int(0, x.rank - 1)
          let shape = x.shape.map { int(0, $0) }
          return try x.gather(axis, index(shape).clampedForGather(x.shape[axis]))
        }
        return try x.gather(arg(), index())
      case 40:
        let x = tensor()
        if bool(), x.rank > 0 {  // a fitting index and source, as gather's backward builds them
          let axis = int(0, x.rank - 1)
          let shape = x.shape.map { int(0, $0) }
          return try x.scatterAdd(axis: axis, index: index(shape).clampedForGather(x.shape[axis]), source: tensor(shape))
        }
        return try x.scatterAdd(axis: arg(), index: index(), source: tensor())
      case 41: return try Tensor.embedding(index(), weight: tensor())
      case 42: return try tensor().matmul(tensor())
      case 43:
        let b = int(0, 2), k = int(0, 3)
        return try tensor(bool() ? [b, int(0, 3), k] : shape()).bmm(tensor(bool() ? [b, k, int(0, 3)] : shape()))
      case 44: return try Tensor.linear(tensor(), weight: tensor(shape(maxRank: 2)), bias: bool() ? tensor(shape(maxRank: 1)) : nil)
      case 45:
        let g = bool() ? int(1, 2) : int(-1, 3), c = int(0, 2) * Swift.max(g, 1)
        let co = bool() ? int(0, 2) * Swift.max(g, 1) : int(0, 4)
        let w = [co, bool() ? c / Swift.max(g, 1) : int(0, 3), int(1, 3), int(0, 3)]
        let valid = bool()
        return try Tensor.conv2d(
          tensor([int(0, 2), c, int(0, 5), int(0, 5)]), weight: tensor(w), bias: bool() ? tensor([w[0]]) : nil,
          stride: valid ? pair(1, 2) : pair(-1, 3), padding: valid ? pair(0, 1) : pair(-1, 2),
          dilation: valid ? pair(1, 2) : pair(-1, 3), groups: g)
      case 46:
        let x = tensor(bool() ? [int(0, 2), int(0, 2), int(0, 4), int(0, 4)] : shape())
        if bool() { return try x.interpolate(size: pair(-1, 5), mode: bool() ? .nearest : .bilinear, alignCorners: bool()) }
        return try x.interpolate(scale: pick([0, -1, 0.5, 1.5, 2, .nan, .infinity, 1e30]), mode: bool() ? .nearest : .bilinear)
      case 47:
        let x = tensor(bool() ? [int(0, 2), int(0, 2), int(0, 5), int(0, 5)] : shape())
        if bool() { return try x.avgPool2d(kernel: pair(1, 3), stride: bool() ? nil : pair(1, 2), padding: pair(0, 1)) }
        return try x.avgPool2d(kernel: pair(-1, 4), stride: bool() ? nil : pair(-1, 3), padding: pair(-1, 2))
      case 48:
        let x = tensor(bool() ? [int(0, 2), int(0, 2), int(0, 5), int(0, 5)] : shape())
        if bool() { return try x.maxPool2d(kernel: pair(1, 3), stride: bool() ? nil : pair(1, 2), padding: pair(0, 1)) }
        return try x.maxPool2d(kernel: pair(-1, 4), stride: bool() ? nil : pair(-1, 3), padding: pair(-1, 2))
      case 49:
        return try Tensor.groupNorm(
          tensor(), groups: arg(), weight: bool() ? tensor(shape(maxRank: 1)) : nil, bias: bool() ? tensor(shape(maxRank: 1)) : nil)
      case 50:
        let x = tensor()
        let ns = bool() ? Array(x.shape.suffix(int(0, x.rank))) : shape(maxRank: 2)
        return try Tensor.layerNorm(x, normalizedShape: ns, weight: bool() ? tensor(ns) : nil, bias: bool() ? tensor() : nil)
      case 51:
        let b = int(0, 2), lq = int(0, 3), lk = int(0, 3), d = int(0, 3)
        let q = tensor(bool() ? [b, lq, d] : shape()), k = tensor(bool() ? [b, lk, d] : shape())
        let v = tensor(bool() ? [b, lk, int(0, 3)] : shape())
        return try Tensor.scaledDotProductAttention(q, k, v, mask: bool() ? tensor(shape(maxRank: 3)) : nil, causal: bool())
      case 52: return try tensor().dropout(float(), training: bool(), generator: gen)
      case 53:
        let t = tensor()
        _ = try t.item()
        _ = t.toInts()
        return t.to(pick([.float32, .int64])).contiguous()
      case 54: return try Tensor.randint(arg(), arg(), shapeArg(), generator: gen)
      case 55:
        let n = int(-2, 5)
        _ = Tensor.randperm(n, generator: gen)
        _ = try Tensor.linspace(Double(arg()), Double(arg()), count: n)
        return try Tensor.from((0..<int(0, 6)).map { Float($0) }, shape: shapeArg())
      default:
        let t = tensor()
        try t.detach().fill(float())
        try t.detach().assign(tensor())
        return try Tensor.arange(Double(arg()), Double(arg()), step: Double(pick([0, 1, -1, 0.5, 1e-300])))
      }
    }
  }

  func testRandomCallsReturnOrThrowTensorError() throws {
    // TENSORCORE_FUZZ_SEED / TENSORCORE_FUZZ_ITERATIONS allow longer runs by hand.
    let env = ProcessInfo.processInfo.environment
    let fuzz = Fuzzer(seed: env["TENSORCORE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 2024)
    let iterations = env["TENSORCORE_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 4000
    var succeeded = 0, threw = 0, backwardRuns = 0
    var succeededByCase = [Int](repeating: 0, count: Fuzzer.cases)
    for iteration in 0..<iterations {
      do {
        guard let out = try fuzz.call() else { continue }
        succeeded += 1
        succeededByCase[fuzz.lastCase] += 1
        guard out.requiresGrad, out.dtype == .float32 else { continue }
        backwardRuns += 1
        // Backward with a matching seed, or (sometimes) a wrong-shaped one.
        let seedShape = fuzz.int(0, 4) == 0 ? fuzz.shape() : out.shape
        try out.backward(Tensor.randn(seedShape, generator: fuzz.gen))
      } catch is TensorError {
        threw += 1
      } catch {
        XCTFail("iteration \(iteration): non-TensorError \(type(of: error)): \(error)")
      }
    }
    // Both outcomes must be well represented, or the generator is not exercising the ops.
    XCTAssertGreaterThan(succeeded, iterations / 5)
    XCTAssertGreaterThan(threw, iterations / 5)
    XCTAssertGreaterThan(backwardRuns, iterations / 12)
    // Every kind of call also gets through with valid arguments sometimes, so valid paths are exercised too.
    XCTAssertEqual(succeededByCase.indices.filter { succeededByCase[$0] == 0 }, [], "cases that never succeeded")
  }
}
