// Autograd mechanics: accumulation, zeroGrad, detach, no-grad mode, retained graphs, diamonds, freeing, views.

import TensorCore
import XCTest

final class AutogradTests: XCTestCase {
  func leaf(_ values: [Float], shape: [Int]? = nil) -> Tensor {
    let t = Tensor(values, shape: shape)
    t.requiresGrad = true
    return t
  }

  func testGradientsAccumulateAcrossBackwardCalls() throws {
    let x = leaf([1, -2, 3])
    try (x * x).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [2, -4, 6])
    try (x * 3).sum().backward()  // a second, independent graph adds into the same grad
    XCTAssertEqual(x.grad?.toArray(), [5, -1, 9])
  }

  func testZeroGradClearsTheAccumulator() throws {
    let x = leaf([1, 2])
    try (x * 5).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [5, 5])
    x.zeroGrad()
    XCTAssertNil(x.grad)
    try (x * x).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [2, 4])
  }

  func testAccumulatedGradDoesNotAliasTheSeed() throws {
    let x = leaf([1, 2])
    let seed = Tensor([1, 1])
    try x.backward(seed)  // a leaf's own backward stores a copy, not the caller's tensor
    try x.backward(seed)
    XCTAssertEqual(x.grad?.toArray(), [2, 2])
    XCTAssertEqual(seed.toArray(), [1, 1])
  }

  func testDetachStopsGradients() throws {
    let x = leaf([1, 2, 3])
    let d = x.detach()
    XCTAssertFalse(d.requiresGrad)
    XCTAssertNil(d.gradFn)
    XCTAssertTrue(d.storage === x.storage)
    try (d * x).sum().backward()  // only the tracked factor contributes: grad = x, not 2x
    XCTAssertEqual(x.grad?.toArray(), [1, 2, 3])
  }

  func testNoGradRecordsNothing() throws {
    let x = leaf([1, 2])
    let y = try GradMode.noGrad {
      XCTAssertFalse(GradMode.isEnabled)
      return try (x * 2).exp().sum()
    }
    XCTAssertTrue(GradMode.isEnabled)
    XCTAssertNil(y.gradFn)
    XCTAssertFalse(y.requiresGrad)
    XCTAssertThrowsError(try y.backward()) { XCTAssertEqual(($0 as? TensorError)?.kind, .state) }
    XCTAssertNil(x.grad)
  }

  func testRetainGraphAllowsASecondBackward() throws {
    let x = leaf([2, 3])
    let y = try (x * x).exp().sum()
    try y.backward(retainGraph: true)
    let once = try XCTUnwrap(x.grad).toArray()
    try y.backward(retainGraph: true)
    assertClose(try XCTUnwrap(x.grad).toArray(), once.map { 2 * $0 }, rtol: 1e-6)
    try y.backward()  // the last pass may free the graph...
    assertClose(try XCTUnwrap(x.grad).toArray(), once.map { 3 * $0 }, rtol: 1e-6)
    XCTAssertThrowsError(try y.backward()) { error in  // ...after which it is gone
      XCTAssertTrue("\(error)".contains("retainGraph"), "\(error)")
    }
  }

  func testDiamondGraphSumsBothPaths() throws {
    // a = 2x feeds both b = exp(a) and c = a * b: dL/dx for L = Σ c = Σ 2x·e^{2x} is 2e^{2x}(1 + 2x).
    let x = leaf([0.1, -0.4, 0.7])
    let a = try x * 2
    let b = try a.exp()
    try (a * b).sum().backward()
    let expected = x.toArray().map { 2 * expf(2 * $0) * (1 + 2 * $0) }
    assertClose(try XCTUnwrap(x.grad).toArray(), expected, rtol: 1e-5)
  }

  func testSameTensorTwiceInOneOp() throws {
    let x = leaf([1, 2])
    try (x + x).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [2, 2])
    x.zeroGrad()
    try Tensor.cat([x, x, x], axis: 0).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [3, 3])
  }

  /// Builds L = Σ (3x)² and hands the intermediate 3x back through `saved`; once the caller drops
  /// that reference, only the graph (the backward closure of the square) holds it.
  func graphWithSavedIntermediate(_ x: Tensor, _ saved: inout Tensor?) throws -> Tensor {
    let t = try x * 3
    saved = t
    return try (t * t).sum()
  }

  func testSavedTensorsAreReleasedAfterBackward() throws {
    let x = leaf([1, 2])
    weak var saved: Tensor?
    var strong: Tensor? = nil
    let y = try graphWithSavedIntermediate(x, &strong)
    saved = strong
    strong = nil
    XCTAssertNotNil(saved, "the graph keeps its saved activation until backward")
    try y.backward()
    XCTAssertNil(saved, "backward without retainGraph frees saved activations")
    XCTAssertEqual(x.grad?.toArray(), [18, 36])
  }

  func testRetainGraphKeepsSavedTensors() throws {
    let x = leaf([1, 2])
    weak var saved: Tensor?
    var strong: Tensor? = nil
    let y = try graphWithSavedIntermediate(x, &strong)
    saved = strong
    strong = nil
    try y.backward(retainGraph: true)
    XCTAssertNotNil(saved)
    try y.backward()
    XCTAssertNil(saved)
  }

  func testOutputsAreFreedWithoutBackward() throws {
    // Ops whose backward needs their own output (exp, sigmoid, tanh, softmax, std, pow, attention,
    // ...) used to capture it, a retain cycle output -> gradFn -> closure -> output that leaked every
    // such result whose graph never ran backward (e.g. inference with grad mode on).
    let x = leaf([0.5, -1, 2, 0.25])
    let ops: [(String, (Tensor) throws -> Tensor)] = [
      ("exp", { try $0.exp() }), ("tanh", { try $0.tanh() }), ("sigmoid", { try $0.sigmoid() }),
      ("sqrt", { try $0.abs().sqrt() }), ("pow", { try $0.abs().pow(Tensor([1.5])) }),
      ("softmax", { try $0.softmax(axis: 0) }), ("log_softmax", { try $0.logSoftmax(axis: 0) }),
      ("std", { try $0.std() }), ("var", { try $0.variance() }), ("max", { try $0.max() }),
      ("logsumexp", { try $0.logsumexp() }),
      ("attention", { let m = try $0.reshape([1, 2, 2]); return try Tensor.scaledDotProductAttention(m, m, m) }),
    ]
    for (name, op) in ops {
      weak var weakOut: Tensor?
      try autoreleasepoolIfAvailable {
        let out = try op(x)
        XCTAssertNotNil(out.gradFn, name)
        weakOut = out
      }
      XCTAssertNil(weakOut, "\(name): output leaked through its own backward closure")
    }
  }

  func testGradientThroughViews() throws {
    let x = leaf((0..<12).map(Float.init), shape: [3, 4])
    // Columns 1 and 3, transposed to [2, 3], times 2, then a narrowed row of that view.
    let v = try x.slice(1, start: 1, step: 2).transpose(0, 1)
    XCTAssertEqual(v.shape, [2, 3])
    try (v * 2).narrow(1, start: 1, length: 2).sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 2])
  }

  func testGradientThroughExpandAndReshape() throws {
    let x = leaf([1, 2, 3])
    let y = try x.reshape([3, 1]).expand([3, 4]).reshape([12])
    try (y * y).sum().backward()  // each element is used 4 times: grad = 4 · 2x
    XCTAssertEqual(x.grad?.toArray(), [8, 16, 24])
  }

  func testRequiresGradPropagates() throws {
    let x = leaf([1, 2])
    let c = Tensor([3, 4])
    XCTAssertTrue(x.isLeaf)
    let y = try x * c
    XCTAssertTrue(y.requiresGrad)
    XCTAssertFalse(y.isLeaf)
    XCTAssertEqual(y.gradFn?.name, "mul")
    let z = try c * c
    XCTAssertFalse(z.requiresGrad)
    XCTAssertNil(z.gradFn)
    XCTAssertTrue(try (z + y).sum().requiresGrad)
    XCTAssertTrue(try x.reshape([2, 1]).requiresGrad)  // views too
  }

  func testOnlyInputsThatRequireGradReceiveOne() throws {
    let a = leaf([1, 2]), b = Tensor([3, 4])
    try (a * b).sum().backward()
    XCTAssertEqual(a.grad?.toArray(), [3, 4])
    XCTAssertNil(b.grad)
  }

  func testBroadcastGradientIsReducedToTheLeafShape() throws {
    let a = leaf([1, 2, 3], shape: [3, 1]), b = leaf([10, 20], shape: [2])
    try (a * b).sum().backward()
    XCTAssertEqual(a.grad?.shape, [3, 1])
    XCTAssertEqual(a.grad?.toArray(), [30, 30, 30])
    XCTAssertEqual(b.grad?.toArray(), [6, 6])
  }

  func testExplicitSeedScalesTheGradient() throws {
    let x = leaf([1, 2, 3])
    try (x * x).backward(Tensor([1, 0, -1]))
    XCTAssertEqual(x.grad?.toArray(), [2, 0, -6])
  }

  func testGradModeIsPerTask() async throws {
    let disabledInside = await GradMode.$isEnabled.withValue(false) {
      await Task { GradMode.isEnabled }.value  // child task inherits the task-local
    }
    XCTAssertFalse(disabledInside)
    let detached = await GradMode.$isEnabled.withValue(false) { await Task.detached { GradMode.isEnabled }.value }
    XCTAssertTrue(detached)  // a detached task does not
    XCTAssertTrue(GradMode.isEnabled)
  }
}

/// Runs `body` (Linux has no autorelease pool; kept as a scope so temporaries die at its end).
func autoreleasepoolIfAvailable(_ body: () throws -> Void) rethrows { try body() }
