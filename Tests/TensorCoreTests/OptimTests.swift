// Optimizers, gradient clipping and LR schedules against PyTorch's update formulas and pinned torch values.

import Foundation
import TensorCore
import XCTest

/// torch.optim.SGD for one scalar (torch/optim/sgd.py, single-tensor path), in Double.
struct ReferenceSGD {
  var lr = 0.1, momentum = 0.0, dampening = 0.0, weightDecay = 0.0, nesterov = false
  var buffer: Double? = nil

  mutating func step(_ p: inout Double, grad g: Double) {
    var d = g + weightDecay * p
    if momentum != 0 {
      let b = buffer.map { momentum * $0 + (1 - dampening) * d } ?? d  // the first step copies d
      buffer = b
      d = nesterov ? d + momentum * b : b
    }
    p -= lr * d
  }
}

/// torch.optim.Adam (L2 added to the gradient) / AdamW (decoupled decay) for one scalar, in Double.
struct ReferenceAdam {
  var lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0, decoupled = false
  var m = 0.0, v = 0.0, t = 0.0

  mutating func step(_ p: inout Double, grad: Double) {
    t += 1
    var g = grad
    if decoupled { p *= 1 - lr * weightDecay } else { g += weightDecay * p }
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    let bc1 = 1 - Foundation.pow(beta1, t), bc2 = 1 - Foundation.pow(beta2, t)
    p -= (lr / bc1) * m / (v.squareRoot() / bc2.squareRoot() + eps)
  }
}

final class OptimTests: XCTestCase {
  /// The loss Σ p² + Σ c·p, whose gradient 2p + c depends on the current parameter.
  let c: [Float] = [0.1, -0.3, 0.2]
  let start: [Float] = [0.5, -1.0, 2.0]

  func setGrad(_ p: Tensor) {
    p.grad = Tensor(zip(p.toArray(), c).map { 2 * $0 + $1 })
  }

  /// Runs `steps` optimizer steps on the quadratic loss and returns the parameter values.
  func run(_ make: ([Tensor]) -> Optimizer, steps: Int = 3) throws -> [Float] {
    let p = Tensor(start)
    p.requiresGrad = true
    let opt = make([p])
    for _ in 0..<steps {
      setGrad(p)
      try opt.step()
    }
    XCTAssertEqual(opt.stepCount, steps)
    return p.toArray()
  }

  /// The same run through a scalar reference update.
  func reference(steps: Int = 3, _ update: (inout Double, Double, Int) -> Void) -> [Float] {
    (0..<start.count).map { i in
      var p = Double(start[i])
      for _ in 0..<steps { update(&p, 2 * p + Double(c[i]), i) }
      return Float(p)
    }
  }

  func sgdReference(_ config: ReferenceSGD) -> [Float] {
    var refs = [ReferenceSGD](repeating: config, count: start.count)
    return reference { p, g, i in refs[i].step(&p, grad: g) }
  }

  func adamReference(_ config: ReferenceAdam) -> [Float] {
    var refs = [ReferenceAdam](repeating: config, count: start.count)
    return reference { p, g, i in refs[i].step(&p, grad: g) }
  }

  func testSGDPlain() throws {
    let got = try run { SGD(groups: [ParamGroup(params: $0, lr: 0.1)]) }
    assertClose(got, sgdReference(ReferenceSGD()), rtol: 1e-5, atol: 1e-6, "formula")
    // torch.optim.SGD(ps, lr=0.1); see testAgainstPinnedTorchValues for the snippet.
    assertClose(got, [0.231599987, -0.438799977, 0.975200057], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testSGDMomentum() throws {
    let got = try run { SGD(groups: [ParamGroup(params: $0, lr: 0.1)], momentum: 0.9) }
    assertClose(got, sgdReference(ReferenceSGD(momentum: 0.9)), rtol: 1e-5, atol: 1e-6, "formula")
    assertClose(got, [-0.015900014, 0.0786999986, 0.0302000642], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testSGDNesterov() throws {
    let got = try run { SGD(groups: [ParamGroup(params: $0, lr: 0.1)], momentum: 0.9, nesterov: true) }
    assertClose(got, sgdReference(ReferenceSGD(momentum: 0.9, nesterov: true)), rtol: 1e-5, atol: 1e-6, "formula")
    assertClose(got, [-0.109593585, 0.274604768, -0.327539146], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testSGDWeightDecayAndDampening() throws {
    let got = try run { SGD(groups: [ParamGroup(params: $0, lr: 0.1, weightDecay: 0.05)], momentum: 0.9, dampening: 0.1) }
    let expected = sgdReference(ReferenceSGD(momentum: 0.9, dampening: 0.1, weightDecay: 0.05))
    assertClose(got, expected, rtol: 1e-5, atol: 1e-6, "formula")
    assertClose(got, [-0.00477515766, 0.0544191375, 0.0706372857], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testSGDWeightDecayWithoutMomentum() throws {
    let got = try run { SGD(groups: [ParamGroup(params: $0, lr: 0.05, weightDecay: 0.3)]) }
    assertClose(got, sgdReference(ReferenceSGD(lr: 0.05, weightDecay: 0.3)), rtol: 1e-5, atol: 1e-6)
  }

  func testAdam() throws {
    let got = try run { Adam(groups: [ParamGroup(params: $0, lr: 0.1)], decoupled: false) }
    assertClose(got, adamReference(ReferenceAdam()), rtol: 1e-5, atol: 1e-6, "formula")
    assertClose(got, [0.204113781, -0.701297939, 1.70058656], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testAdamL2WeightDecayAndBetas() throws {
    let got = try run {
      Adam(groups: [ParamGroup(params: $0, lr: 0.1, weightDecay: 0.1)], betas: (0.8, 0.99), eps: 1e-6, decoupled: false)
    }
    let expected = adamReference(ReferenceAdam(beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1))
    assertClose(got, expected, rtol: 1e-5, atol: 1e-6, "formula")
    assertClose(got, [0.206234336, -0.702236056, 1.7010771], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testAdamW() throws {
    let got = try run { Adam.adamW(groups: [ParamGroup(params: $0, lr: 0.1, weightDecay: 0.1)]) }
    assertClose(got, adamReference(ReferenceAdam(weightDecay: 0.1, decoupled: true)), rtol: 1e-5, atol: 1e-6, "formula")
    assertClose(got, [0.192583382, -0.674764633, 1.64432108], rtol: 1e-5, atol: 1e-6, "torch")
  }

  func testAdamOverManyTensorsEqualsOneTensorAtATime() throws {
    // One step's combined element loop (split into pieces across threads, crossing tensor ends)
    // gives each tensor exactly the update it gets alone; a tensor listed in two groups is updated
    // twice, one update after the other.
    let sizes = [5, 70_000, 1, 33, 40_000, 16_384]
    func tensors() -> [Tensor] {
      sizes.enumerated().map { i, n in
        let t = Tensor.randn([n], generator: Generator(seed: UInt64(700 + i)))
        t.grad = Tensor.randn([n], generator: Generator(seed: UInt64(800 + i)))
        return t
      }
    }
    let together = tensors(), alone = tensors()
    let groups = [
      ParamGroup(params: Array(together[..<3]), lr: 0.1, weightDecay: 0.1),
      ParamGroup(params: Array(together[3...]), lr: 0.02),
    ]
    try Adam.adamW(groups: groups).step()
    for (i, t) in alone.enumerated() {
      try Adam.adamW(groups: [ParamGroup(params: [t], lr: i < 3 ? 0.1 : 0.02, weightDecay: i < 3 ? 0.1 : 0)]).step()
    }
    for (a, b) in zip(together, alone) { XCTAssertEqual(a.toArray(), b.toArray()) }
    let twice = tensors()[0], once = tensors()[0]
    try Adam.adamW(groups: [ParamGroup(params: [twice], lr: 0.1), ParamGroup(params: [twice], lr: 0.1)]).step()
    try Adam.adamW(groups: [ParamGroup(params: [once], lr: 0.1)]).step()
    XCTAssertNotEqual(twice.toArray(), once.toArray())
  }

  func testAdamManySteps() throws {
    // Bias correction fades over steps; 50 steps keep the formula honest past the first few.
    let got = try run({ Adam(groups: [ParamGroup(params: $0, lr: 0.05)], decoupled: false) }, steps: 50)
    var refs = [ReferenceAdam](repeating: ReferenceAdam(lr: 0.05), count: 3)
    assertClose(got, reference(steps: 50) { p, g, i in refs[i].step(&p, grad: g) }, rtol: 1e-4, atol: 1e-5)
  }

  /// The torch numbers above come from this snippet (torch 2.x, float32):
  ///
  ///     c = torch.tensor([0.1, -0.3, 0.2])
  ///     def run(make, steps=3):
  ///         p = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
  ///         opt = make([p])
  ///         for _ in range(steps):
  ///             opt.zero_grad()
  ///             ((p * p).sum() + (c * p).sum()).backward()   # grad = 2p + c
  ///             opt.step()
  ///         return p.tolist()
  ///     run(lambda ps: torch.optim.SGD(ps, lr=0.1))
  ///     run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9))
  ///     run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
  ///     run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.05))
  ///     run(lambda ps: torch.optim.Adam(ps, lr=0.1))
  ///     run(lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6))
  ///     run(lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1))
  func testReferenceFormulasMatchPinnedTorchValues() {
    // Guards the Swift reference formulas themselves, independently of the optimizers under test.
    assertClose(sgdReference(ReferenceSGD(momentum: 0.9, nesterov: true)), [-0.109593585, 0.274604768, -0.327539146], rtol: 1e-5, atol: 1e-6)
    assertClose(adamReference(ReferenceAdam(weightDecay: 0.1, decoupled: true)), [0.192583382, -0.674764633, 1.64432108], rtol: 1e-5, atol: 1e-6)
  }

  func testParameterGroupsUseTheirOwnLearningRateAndDecay() throws {
    let a = Tensor([1, -2]), b = Tensor([3, 0.5])
    a.grad = Tensor([0.5, 0.5])
    b.grad = Tensor([-1, 2])
    let sgd = SGD(groups: [ParamGroup(params: [a], lr: 0.1), ParamGroup(params: [b], lr: 0.01, weightDecay: 0.5)])
    try sgd.step()
    assertClose(a.toArray(), [1 - 0.1 * 0.5, -2 - 0.1 * 0.5])
    assertClose(b.toArray(), [3 - 0.01 * (-1 + 0.5 * 3), 0.5 - 0.01 * (2 + 0.5 * 0.5)])

    let x = Tensor([1, 2]), y = Tensor([1, 2])
    x.grad = Tensor([0.3, -0.3])
    y.grad = Tensor([0.3, -0.3])
    let adamw = Adam.adamW(groups: [ParamGroup(params: [x], lr: 0.1, weightDecay: 0), ParamGroup(params: [y], lr: 0.01, weightDecay: 0.2)])
    try adamw.step()
    var refX = [ReferenceAdam](repeating: ReferenceAdam(lr: 0.1, decoupled: true), count: 2)
    var refY = [ReferenceAdam](repeating: ReferenceAdam(lr: 0.01, weightDecay: 0.2, decoupled: true), count: 2)
    let ex: [Float] = (0..<2).map { i in var p = Double(i + 1); refX[i].step(&p, grad: i == 0 ? 0.3 : -0.3); return Float(p) }
    let ey: [Float] = (0..<2).map { i in var p = Double(i + 1); refY[i].step(&p, grad: i == 0 ? 0.3 : -0.3); return Float(p) }
    assertClose(x.toArray(), ex, rtol: 1e-5, atol: 1e-6)
    assertClose(y.toArray(), ey, rtol: 1e-5, atol: 1e-6)
  }

  func testParametersWithoutGradientAreSkipped() throws {
    let a = Tensor([1, 2]), b = Tensor([3, 4])
    a.grad = Tensor([1, 1])
    let opt = Adam(groups: [ParamGroup(params: [a, b], lr: 0.1)], decoupled: false)
    try opt.step()
    XCTAssertEqual(b.toArray(), [3, 4])
    XCTAssertNotEqual(a.toArray(), [1, 2])
    XCTAssertEqual(Set(opt.stateTensors().keys), ["0.0.exp_avg", "0.0.exp_avg_sq", "0.0.step"])
  }

  func testSetLearningRateAndZeroGrad() throws {
    let a = Tensor([1]), b = Tensor([1])
    let sgd = SGD(groups: [ParamGroup(params: [a], lr: 1), ParamGroup(params: [b], lr: 2)])
    sgd.setLearningRate(0.25)
    XCTAssertEqual(sgd.groups.map(\.lr), [0.25, 0.25])
    a.grad = Tensor([2])
    b.grad = Tensor([4])
    try sgd.step()
    XCTAssertEqual(a.toArray(), [0.5])
    XCTAssertEqual(b.toArray(), [0])
    sgd.zeroGrad()
    XCTAssertNil(a.grad)
    XCTAssertNil(b.grad)
  }

  func testNonContiguousParameterIsAnError() throws {
    let p = try Tensor([1, 2, 3, 4], shape: [2, 2]).transpose(0, 1)
    p.grad = Tensor.ones([2, 2])
    XCTAssertThrowsError(try SGD(groups: [ParamGroup(params: [p], lr: 0.1)]).step()) { error in
      XCTAssertEqual((error as? TensorError)?.kind, .state)
    }
  }

  func testClipGradNormRescalesAndReturnsThePreClipNorm() throws {
    let a = Tensor([0, 0]), b = Tensor([0]), c = Tensor([7])
    a.grad = Tensor([3, 4])
    b.grad = Tensor([12])
    // c has no gradient and is ignored. Global norm = sqrt(9 + 16 + 144) = 13.
    let norm = clipGradNorm([a, b, c], maxNorm: 6.5)
    XCTAssertEqual(norm, 13, accuracy: 1e-5)
    let scale: Float = 6.5 / (13 + 1e-6)  // torch: max_norm / (total_norm + 1e-6)
    assertClose(try XCTUnwrap(a.grad).toArray(), [3 * scale, 4 * scale], rtol: 1e-6, atol: 0)
    assertClose(try XCTUnwrap(b.grad).toArray(), [12 * scale], rtol: 1e-6, atol: 0)
    XCTAssertNil(c.grad)
    let after = clipGradNorm([a, b], maxNorm: 100)
    XCTAssertEqual(after, 6.5, accuracy: 1e-4)
  }

  func testClipGradNormLeavesSmallGradientsAlone() throws {
    let a = Tensor([0, 0])
    a.grad = Tensor([0.3, -0.4])
    XCTAssertEqual(clipGradNorm([a], maxNorm: 1), 0.5, accuracy: 1e-6)
    XCTAssertEqual(a.grad?.toArray(), [0.3, -0.4])
  }

  func testClipGradNormOnNonContiguousGradient() throws {
    let a = Tensor(shape: [2, 2])
    a.grad = try Tensor([3, 0, 4, 0], shape: [2, 2]).transpose(0, 1)  // [[3, 4], [0, 0]]
    XCTAssertEqual(clipGradNorm([a], maxNorm: 1), 5, accuracy: 1e-5)
    assertClose(try XCTUnwrap(a.grad).toArray(), [0.6, 0.8, 0, 0], rtol: 1e-5, atol: 1e-6)
  }

  func testLRScheduleFactors() {
    XCTAssertEqual(LRSchedule.constant.factor(0), 1)
    XCTAssertEqual(LRSchedule.constant.factor(1000), 1)

    let warm = LRSchedule.constantWithWarmup(warmup: 4)
    XCTAssertEqual([0, 1, 2, 3, 4, 100].map(warm.factor), [0, 0.25, 0.5, 0.75, 1, 1])

    let linear = LRSchedule.linear(warmup: 2, total: 10)
    // Warm-up 0, 1/2, then (10 - step) / (10 - 2) down to 0, and 0 past the end.
    XCTAssertEqual([0, 1, 2, 6, 9, 10, 12].map(linear.factor), [0, 0.5, 1, 0.5, 0.125, 0, 0])

    let cosine = LRSchedule.cosine(warmup: 2, total: 10)
    let expected: [Float] = [0, 0.5, 1, 0.5 * (1 + cosf(.pi / 4)), 0.5, 0.5 * (1 + cosf(3 * .pi / 4)), 0]
    assertClose([0, 1, 2, 4, 6, 8, 10].map(cosine.factor), expected, rtol: 1e-6, atol: 1e-6)

    XCTAssertEqual(LRSchedule.linear(warmup: 0, total: 4).factor(0), 1)
    XCTAssertEqual(LRSchedule.cosine(warmup: 0, total: 4).factor(0), 1)
  }

  /// Runs `first` steps on one optimizer, copies params + state into a fresh one, then checks the
  /// next steps match exactly.
  func assertStateRoundTrip(_ make: ([Tensor]) -> Optimizer, file: StaticString = #filePath, line: UInt = #line) throws {
    let p = Tensor(start)
    let original = make([p])
    for _ in 0..<3 {
      setGrad(p)
      try original.step()
    }
    let saved = original.stateTensors()
    XCTAssertFalse(saved.isEmpty, file: file, line: line)

    let q = p.contiguousCopy()
    let restored = make([q])
    try restored.loadStateTensors(saved, stepCount: original.stepCount)
    XCTAssertEqual(restored.stepCount, original.stepCount, file: file, line: line)
    let fresh = make([p.contiguousCopy()])
    for _ in 0..<2 {
      setGrad(p)
      setGrad(q)
      try original.step()
      try restored.step()
    }
    XCTAssertEqual(q.toArray(), p.toArray(), "restored optimizer diverged", file: file, line: line)

    // Without the state the next step differs, so the comparison above is not vacuous.
    let r = fresh.groups[0].params[0]
    setGrad(r)
    try fresh.step()
    XCTAssertNotEqual(r.toArray(), p.toArray(), file: file, line: line)
  }

  func testStateRoundTripSGDMomentum() throws {
    try assertStateRoundTrip { SGD(groups: [ParamGroup(params: $0, lr: 0.1)], momentum: 0.9, nesterov: true) }
  }

  func testStateRoundTripAdam() throws {
    try assertStateRoundTrip { Adam(groups: [ParamGroup(params: $0, lr: 0.1, weightDecay: 0.01)], decoupled: true) }
  }

  func testLoadedStateIsACopy() throws {
    let p = Tensor([1, 2])
    p.grad = Tensor([1, 1])
    let a = SGD(groups: [ParamGroup(params: [p], lr: 0.1)], momentum: 0.5)
    try a.step()
    let state = a.stateTensors()
    let before = try XCTUnwrap(state["0.0.momentum"]).toArray()
    let b = SGD(groups: [ParamGroup(params: [p.contiguousCopy()], lr: 0.1)], momentum: 0.5)
    try b.loadStateTensors(state, stepCount: 1)
    try a.step()
    XCTAssertEqual(b.stateTensors()["0.0.momentum"]?.toArray(), before)
  }
}

/// PyTorch keeps optimizer state per parameter: a parameter that first gets a gradient at a later
/// step starts its own bias correction (Adam) and its momentum buffer (SGD) from scratch.
final class OptimPerParameterStateTests: XCTestCase {
  func testLateParameterGetsFirstStepTreatment() throws {
    let a = Tensor([1, 2], shape: [2]), b = Tensor([3], shape: [1])
    a.requiresGrad = true
    b.requiresGrad = true
    let adam = Adam(groups: [ParamGroup(params: [a, b], lr: 0.1)], decoupled: false)
    a.grad = Tensor([1, 1], shape: [2])
    try adam.step()
    b.grad = Tensor([1], shape: [1])
    a.grad = nil
    try adam.step()
    // Step 1 of Adam with gradient 1 moves by exactly lr (m̂ = v̂ = 1).
    XCTAssertEqual(b.toArray()[0], 3 - 0.1, accuracy: 1e-5)
    let fresh = Tensor([3], shape: [1])
    fresh.requiresGrad = true
    let sgd = SGD(groups: [ParamGroup(params: [a, fresh], lr: 0.1)], momentum: 0.9)
    a.grad = Tensor([1, 1], shape: [2])
    try sgd.step()
    fresh.grad = Tensor([1], shape: [1])
    try sgd.step()
    // The first momentum step uses the gradient itself, not 0.9·0 + 0.1·g.
    XCTAssertEqual(fresh.toArray()[0], 3 - 0.1, accuracy: 1e-6)
  }
}
