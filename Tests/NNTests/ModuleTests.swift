// Module tree behaviour: dotted names, strict state loading, train/eval, containers and layers.

import NN
import TensorCore
import XCTest

/// A small two-level model shaped like diffusers' nesting (`blocks.0.conv.weight`).
final class Block: Module {
  let conv: Conv2d, norm: GroupNorm
  init(_ c: Int, generator: Generator) throws {
    conv = try Conv2d(c, c, kernel: 3, padding: 1, generator: generator)
    norm = try GroupNorm(groups: 2, channels: c)
    super.init()
    registerModule("norm", norm)
    registerModule("conv", conv)
  }
  override func forward(_ x: Tensor) throws -> Tensor { try conv(norm(x).silu()) }
}

final class Net: Module {
  let blocks: ModuleList, head: Linear
  init(generator: Generator) throws {
    blocks = ModuleList([try Block(4, generator: generator), try Block(4, generator: generator)])
    head = try Linear(4, 3, generator: generator)
    super.init()
    registerModule("blocks", blocks)
    registerModule("head", head)
  }
}

final class ModuleTests: XCTestCase {
  func testDottedNamesFollowRegistrationOrder() throws {
    let net = try Net(generator: Generator(seed: 0))
    XCTAssertEqual(
      net.namedParameters().map(\.0),
      [
        "blocks.0.norm.weight", "blocks.0.norm.bias", "blocks.0.conv.weight", "blocks.0.conv.bias",
        "blocks.1.norm.weight", "blocks.1.norm.bias", "blocks.1.conv.weight", "blocks.1.conv.bias",
        "head.weight", "head.bias",
      ])
    XCTAssertEqual(net.parameterCount, 2 * (4 + 4 + 4 * 4 * 9 + 4) + 4 * 3 + 3)
    XCTAssertTrue(net.parameters().allSatisfy(\.requiresGrad))
  }

  func testStateRoundTripCopiesIntoExistingTensors() throws {
    let a = try Net(generator: Generator(seed: 1)), b = try Net(generator: Generator(seed: 2))
    let before = b.head.weight
    try b.loadState(Dictionary(uniqueKeysWithValues: a.state()))
    XCTAssertTrue(b.head.weight === before, "loading must keep tensor identity for optimizers")
    for ((ka, ta), (kb, tb)) in zip(a.state(), b.state()) {
      XCTAssertEqual(ka, kb)
      XCTAssertEqual(ta.toArray(), tb.toArray())
    }
  }

  func testStrictLoadListsEveryProblemAndChangesNothing() throws {
    let net = try Net(generator: Generator(seed: 3))
    var state = Dictionary(uniqueKeysWithValues: net.state().map { ($0.0, $0.1.contiguousCopy()) })
    state["head.bias"] = nil
    state["blocks.1.conv.bias"] = nil
    state["extra.weight"] = Tensor.zeros([1])
    state["head.weight"] = Tensor.zeros([3, 5])
    state["blocks.0.norm.weight"] = Tensor.full([4], 7)
    XCTAssertThrowsError(try net.loadState(state)) { error in
      let text = String(describing: error)
      XCTAssertTrue(text.contains("missing keys (2): blocks.1.conv.bias, head.bias"), text)
      XCTAssertTrue(text.contains("unexpected keys (1): extra.weight"), text)
      XCTAssertTrue(text.contains("shape mismatch for head.weight: expected [3,4], got [3,5]"), text)
    }
    XCTAssertEqual(net.blocks.namedParameters()[0].1.toArray(), [1, 1, 1, 1], "a failed load must not change values")
  }

  func testNonStrictLoadSkipsMissingButRejectsWrongShapes() throws {
    let net = try Net(generator: Generator(seed: 4))
    try net.loadState(["head.bias": Tensor([1, 2, 3])], strict: false)
    XCTAssertEqual(net.head.bias?.toArray(), [1, 2, 3])
    XCTAssertThrowsError(try net.loadState(["head.bias": Tensor([1, 2])], strict: false))
  }

  func testEvalPropagatesAndDisablesDropout() throws {
    let drop = try Dropout(0.5, generator: Generator(seed: 5))
    let seq = Sequential([try Linear(3, 3, generator: Generator(seed: 6)), drop])
    seq.eval()
    XCTAssertFalse(drop.training)
    let x = Tensor.randn([2, 3], generator: Generator(seed: 7))
    XCTAssertEqual(try drop(x).toArray(), x.toArray())
    seq.train()
    XCTAssertTrue(drop.training)
    let y = try drop(Tensor.ones([1000])).toArray()
    XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 2 })
    let kept = y.filter { $0 == 2 }.count
    XCTAssertTrue((400...600).contains(kept), "kept \(kept) of 1000 at p = 0.5")
  }

  func testSequentialMatchesManualComposition() throws {
    let g = Generator(seed: 8)
    let l1 = try Linear(4, 6, generator: g), l2 = try Linear(6, 2, bias: false, generator: g)
    let seq = Sequential([l1, GELU(), l2])
    let x = Tensor.randn([5, 4], generator: g)
    let manual = try l2(l1(x).gelu())
    XCTAssertEqual(try seq(x).toArray(), manual.toArray())
    XCTAssertEqual(seq.namedParameters().map(\.0), ["0.weight", "0.bias", "2.weight"])
  }

  func testInitialisersUsePyTorchBounds() throws {
    let lin = try Linear(16, 32, generator: Generator(seed: 9))
    XCTAssertTrue(lin.weight.toArray().allSatisfy { Swift.abs($0) <= 0.25 })
    let conv = try Conv2d(4, 8, kernel: 3, groups: 2, generator: Generator(seed: 10))
    XCTAssertEqual(conv.weight.shape, [8, 2, 3, 3])
    let bound = 1 / Float(18).squareRoot()
    XCTAssertTrue(conv.weight.toArray().allSatisfy { Swift.abs($0) <= bound })
  }

  func testLayersTrainEndToEnd() throws {
    let g = Generator(seed: 11)
    let model = Sequential([try Linear(2, 16, generator: g), SiLU(), try Linear(16, 1, generator: g)])
    let opt = Adam.adamW(groups: [ParamGroup(params: model.parameters(), lr: 0.02, weightDecay: 0)])
    let x = Tensor.randn([64, 2], generator: g)
    let target = try x.narrow(1, start: 0, length: 1) * x.narrow(1, start: 1, length: 1)
    var first: Float = 0, last: Float = 0
    for step in 0..<300 {
      opt.zeroGrad()
      let loss = try (model(x) - target).pow(2).mean()
      try loss.backward()
      try opt.step()
      if step == 0 { first = try loss.item() }
      last = try loss.item()
    }
    XCTAssertLessThan(last, first * 0.1, "loss \(first) -> \(last)")
  }

  func testBadConstructionArgumentsThrow() {
    XCTAssertThrowsError(try Linear(0, 3, generator: Generator(seed: 0)))
    XCTAssertThrowsError(try Conv2d(3, 4, kernel: 3, groups: 2, generator: Generator(seed: 0)))
    XCTAssertThrowsError(try GroupNorm(groups: 3, channels: 4))
    XCTAssertThrowsError(try ModuleList().at(0))
    XCTAssertThrowsError(try ModuleList().forward(Tensor.zeros([1])))
  }
}
