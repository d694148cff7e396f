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
