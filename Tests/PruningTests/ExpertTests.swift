// ExpertTests: physically pruned experts equal the hard-gated UNet, measure the MACs their code predicts, and reload.
import Foundation
import XCTest

@testable import Diffusion
@testable import Formats
@testable import NN
@testable import Pruning
@testable import TensorCore

final class ExpertTests: XCTestCase {
  func tinyUNet() throws -> (UNet2DConditionModel, GateStructure) {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd2_tiny/model")
    return (unet, try GateStructure(unet: unet, ffGateWidth: 16))
  }

  /// A random hard code that keeps at least one group of every width gate; depth gates as given.
  func randomCode(_ s: GateStructure, seed: UInt64, dropEvery: Int = 2) -> [Float] {
    let g = Generator(seed: seed)
    var code = (0..<s.length).map { _ in g.nextFloat() < 0.6 ? Float(1) : 0 }
    for e in s.entries {
      var column = e.widthOffset
      for w in e.widths {
        if code[column..<(column + w)].allSatisfy({ $0 == 0 }) { code[column + Int(g.next() % UInt64(w))] = 1 }
        column += w
      }
    }
    for d in s.sumWidth..<s.length { code[d] = (d - s.sumWidth) % dropEvery == 0 ? 0 : 1 }
    return code
  }

  func testOpCounterMatchesTheReferenceCountOnTheFullModel() throws {
    let meta = try goldenJSON("aptp_losses/resource_tinyunet.json")
    var config = try ConfigValueDecoder().decode(UNet2DConditionConfig.self, from: try XCTUnwrap(meta["unet_config"]))
    config.downBlockTypes = config.downBlockTypes.map { $0.replacingOccurrences(of: "HalfGated", with: "") }
    config.upBlockTypes = config.upBlockTypes.map { $0.replacingOccurrences(of: "HalfGated", with: "") }
    config.midBlockType = "UNetMidBlock2DCrossAttn"
    let unet = try UNet2DConditionModel(config)
    let structure = try GateStructure(config: config, ffGateWidth: 4)
    let (_, macs) = try OpCounter.measure {
      try GradMode.noGrad { try unet.forward(Tensor.randn([1, 4, 8, 8], generator: Generator(seed: 1)), timesteps: [3], context: Tensor.randn([1, 8, 32], generator: Generator(seed: 2))) }
    }
    XCTAssertEqual(macs, meta["macs_opcounter_total"]?.doubleValue)
    let resources = try ResourceModel(config: config, structure: structure, height: 8, width: 8, tokens: 8)
    XCTAssertEqual(try resources.expertMACs(Array(repeating: 1, count: structure.length)), macs)
  }

  func testExpertEqualsTheHardGatedUNetAndMeasuresItsCodesMACs() throws {
    let (unet, structure) = try tinyUNet()
    let resources = try ResourceModel(config: unet.config, structure: structure, height: 16, width: 16, tokens: 7)
    let x = Tensor.randn([2, 4, 16, 16], generator: Generator(seed: 5)), context = Tensor.randn([2, 7, 32], generator: Generator(seed: 6))
    for seed in [1, 2, 3] as [UInt64] {
      let code = randomCode(structure, seed: seed, dropEvery: Int(seed) + 1)
      let expert = try Experts.extract(from: unet, structure: structure, code: code)
      XCTAssertLessThan(expert.parameters().reduce(0) { $0 + $1.count }, unet.parameters().reduce(0) { $0 + $1.count })
      let vector = try Tensor.from(code, shape: [1, structure.length])
      let gated = try GradMode.noGrad {
        try unet.forward(x, timesteps: [10, 700], context: context, gates: try structure.gates(vector, for: unet, hard: true)).sample
      }
      let (physical, measured) = try OpCounter.measure {
        try GradMode.noGrad { try expert.forward(x.narrow(0, start: 0, length: 1), timesteps: [10], context: context.narrow(0, start: 0, length: 1)).sample }
      }
      let both = try GradMode.noGrad { try expert.forward(x, timesteps: [10, 700], context: context).sample }
      assertClose(both, gated, relative: 2e-5, "expert vs hard-gated UNet (seed \(seed))")
      assertClose(physical, try both.narrow(0, start: 0, length: 1), relative: 1e-5, "batch of one")
      XCTAssertEqual(measured, try resources.expertMACs(code), "op counter vs the code's MACs (seed \(seed))")
      // The reference's bookkeeping scales whole sub-blocks by the kept fraction, biases included: close, not equal.
      let reference = try resources.currentPrunable(vector)[0] + (resources.opCounterTotal - resources.prunableFull)
      XCTAssertEqual(measured / reference, 1, accuracy: 0.02)
    }
  }

  func testTheGatedModelAloneLeaksSiluOfBetaWhichHardGatesRemove() throws {
    let (unet, structure) = try tinyUNet()
    var code = Array(repeating: Float(1), count: structure.length)
    code[structure.entries[0].widthOffset] = 0  // close one channel group of down_blocks.0.resnets.0
    let vector = try Tensor.from(code, shape: [1, structure.length])
    let expert = try Experts.extract(from: unet, structure: structure, code: code)
    let x = Tensor.randn([1, 4, 16, 16], generator: Generator(seed: 7)), context = Tensor.randn([1, 7, 32], generator: Generator(seed: 8))
    let run = { (gates: UNetGates?, model: UNet2DConditionModel) in
      try GradMode.noGrad { try model.forward(x, timesteps: [400], context: context, gates: gates).sample }
    }
    let physical = try run(nil, expert)
    assertClose(try run(try structure.gates(vector, for: unet, hard: true), unet), physical, relative: 2e-5, "hard gates")
    // The reference's gated forward (mask before norm2 only) differs: silu(beta) of the closed group reaches conv2.
    let referenceStyle = try run(try structure.gates(vector, for: unet), unet)
    XCTAssertGreaterThan(try (referenceStyle - physical).abs().max().item(), 1e-4)
  }

  func testSavedExpertReloadsWithoutTheFullModelAndItsConfigIsDiffusersShaped() throws {
    let (unet, structure) = try tinyUNet()
    let code = randomCode(structure, seed: 9)
    let expert = try Experts.extract(from: unet, structure: structure, code: code)
    let folder = NSTemporaryDirectory() + "aptp-expert-\(UUID().uuidString)"
    addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
    try expert.save(folder: folder)
    let reloaded = try UNet2DConditionModel.load(folder: folder)
    let x = Tensor.randn([1, 4, 16, 16], generator: Generator(seed: 3)), context = Tensor.randn([1, 7, 32], generator: Generator(seed: 4))
    let a = try GradMode.noGrad { try expert.forward(x, timesteps: [100], context: context).sample }
    let b = try GradMode.noGrad { try reloaded.forward(x, timesteps: [100], context: context).sample }
    XCTAssertEqual(a.toArray(), b.toArray())
    // Standard diffusers keys are all present; the pruned widths ride along under aptp_pruned.
    let config = try XCTUnwrap(try ConfigLoader.load(folder + "/config.json").mapValue)
    let original = try XCTUnwrap(try ConfigLoader.load(goldenFixtures + "/unet_sd2_tiny/model/config.json").mapValue)
    for key in original.keys where !key.hasPrefix("_") { XCTAssertNotNil(config[key], "config key \(key)") }
    XCTAssertNotNil(config[UNetLayerWidths.configKey]?.mapValue?["dropped"])
    // Every tensor is a full-model tensor of the same rank, never larger along any axis.
    let full = Dictionary(uniqueKeysWithValues: unet.namedParameters().map { ($0.0, $0.1.shape) })
    for record in try SafetensorsCheckpoint.open(folder).records {
      let want = try XCTUnwrap(full[record.name], "\(record.name) is not a parameter of the full model")
      XCTAssertEqual(record.shape.count, want.count, record.name)
      XCTAssertTrue(zip(record.shape, want).allSatisfy { $0 <= $1 }, "\(record.name) \(record.shape) vs \(want)")
    }
  }

  func testBadCodesAndBadWidthsAreClearErrors() throws {
    let (unet, structure) = try tinyUNet()
    var code = Array(repeating: Float(1), count: structure.length)
    let entry = structure.entries[0]
    for c in entry.widthOffset..<(entry.widthOffset + entry.widths[0]) { code[c] = 0 }
    XCTAssertThrowsError(try Experts.extract(from: unet, structure: structure, code: code)) { e in
      XCTAssertTrue("\(e)".contains(entry.module), "\(e)")
    }
    XCTAssertThrowsError(try Experts.extract(from: unet, structure: structure, code: [1, 0])) { e in
      XCTAssertTrue("\(e)".contains("\(structure.length) values"), "\(e)")
    }
    var config = unet.config
    var widths = UNetLayerWidths()
    widths.dropped = ["down_blocks.7.resnets.0"]
    config.extra[UNetLayerWidths.configKey] = widths.configValue
    XCTAssertThrowsError(try UNet2DConditionModel(config)) { e in XCTAssertTrue("\(e)".contains("down_blocks.7.resnets.0"), "\(e)") }
    let expert = try Experts.extract(from: unet, structure: structure, code: randomCode(structure, seed: 4))
    XCTAssertThrowsError(try structure.gates(Tensor(shape: [1, structure.length]), for: expert)) { e in
      XCTAssertTrue("\(e)".contains("pruned expert"), "\(e)")
    }
  }
}
