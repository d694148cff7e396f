// ResourceTests: MAC counts, P_full / T_full, the target conversion and resource ratios against the reference.
import XCTest

@testable import Diffusion
@testable import Formats
@testable import Pruning
@testable import TensorCore

final class ResourceTests: XCTestCase {
  func sd21() throws -> (UNet2DConditionConfig, GateStructure) {
    let config = try loadConfig(UNet2DConditionConfig.self, from: goldenFixtures + "/aptp_sd21_structure/config.json")
    return (config, try GateStructure(config: config))
  }

  func testSD21MACsMatchTheReferenceBookkeeping() throws {
    let (config, structure) = try sd21()
    let macs = try goldenJSON("aptp_sd21_structure/macs.json")
    let arch = try goldenTensors("aptp_sd21_structure/arch_macs.safetensors")
    for (setting, size, tokens) in [("train", 32, 77), ("report", 96, 1)] {
      let model = try ResourceModel(config: config, structure: structure, height: size, width: size, tokens: tokens)
      let golden = try XCTUnwrap(macs["settings"]?.mapValue?[setting]?.mapValue)
      XCTAssertEqual(model.total, golden["T_full"]?.doubleValue, "\(setting) T_full")
      XCTAssertEqual(model.opCounterTotal, golden["opcounter_total_macs"]?.doubleValue, "\(setting) op counter")
      XCTAssertEqual(model.prunableFull, golden["P_full"]?.doubleValue, "\(setting) P_full")
      XCTAssertEqual(model.prunable, golden["calc_macs_full_model"]?.mapValue?["prunable_macs"]?.doubleValue, "\(setting) prunable")
      XCTAssertEqual(try model.prunableTarget(0.6), try XCTUnwrap(golden["p_prime"]?.doubleValue), accuracy: 1e-12)
      let entries = try XCTUnwrap(golden["calc_macs_per_structure_entry"]?.mapValue)
      for (entry, counted) in zip(structure.entries, model.entries) {
        let want = try XCTUnwrap(entries[entry.module]?.mapValue)
        XCTAssertEqual(counted.total, want["total_macs"]?.doubleValue, "\(setting) \(entry.module) total")
        XCTAssertEqual(counted.prunable, want["prunable_macs"]?.doubleValue, "\(setting) \(entry.module) prunable")
      }
      let ratios = try model.ratios(try arch.golden("arch_vectors")).toArray()
      let want = try arch.golden("\(setting)_R").toArray()
      for (got, w) in zip(ratios, want) { XCTAssertEqual(Double(got), Double(w), accuracy: 2e-6, "\(setting) R") }
    }
  }

  func testTinyUNetRatiosLossAndGradient() throws {
    let meta = try goldenJSON("aptp_losses/resource_tinyunet.json")
    var config = try ConfigValueDecoder().decode(UNet2DConditionConfig.self, from: try XCTUnwrap(meta["unet_config"]))
    config.downBlockTypes = config.downBlockTypes.map { $0.replacingOccurrences(of: "HalfGated", with: "") }
    config.upBlockTypes = config.upBlockTypes.map { $0.replacingOccurrences(of: "HalfGated", with: "") }
    let structure = try GateStructure(config: config, ffGateWidth: 4)
    let model = try ResourceModel(config: config, structure: structure, height: 8, width: 8, tokens: 8)
    let sanity = try XCTUnwrap(meta["sanity_macs_full_model"]?.mapValue)
    XCTAssertEqual(model.total, sanity["total_macs"]?.doubleValue)
    XCTAssertEqual(model.opCounterTotal, meta["macs_opcounter_total"]?.doubleValue)
    XCTAssertEqual(model.prunableFull, sanity["cur_prunable_macs"]?.doubleValue)
    XCTAssertEqual(try model.prunableTarget(0.6), try XCTUnwrap(meta["p_actual"]?.doubleValue), accuracy: 1e-7)
    let io = try goldenTensors("aptp_losses/resource_tinyunet.safetensors")
    let vectors = try io.golden("arch_vectors")
    vectors.requiresGrad = true
    let ratios = try model.ratios(vectors)
    assertClose(try ratios.reshape([4, 1]), try io.golden("resource_ratios"), relative: 1e-5, "ratios")
    let loss = try ResourceLoss.log.value(ratios.mean(), target: Float(try model.prunableTarget(0.6)))
    assertClose(try loss.reshape([1]), try io.golden("resource_loss").reshape([1]), relative: 1e-5, "resource loss")
    try loss.backward()
    assertClose(try XCTUnwrap(vectors.grad), try io.golden("grad_resource_loss_wrt_arch"), relative: 1e-5, "gradient")
  }

  func testAllOnesRatioIsOneAndBadInputsAreNamed() throws {
    let (config, structure) = try sd21()
    let model = try ResourceModel(config: config, structure: structure, height: 32, width: 32, tokens: 77)
    let ones = Tensor(shape: [2, structure.length])
    try ones.fill(1)
    for r in try model.ratios(ones).toArray() { XCTAssertEqual(r, 1, accuracy: 1e-6) }
    XCTAssertThrowsError(try model.prunableTarget(1.5)) { XCTAssertTrue("\($0)".contains("(0, 1]"), "\($0)") }
    XCTAssertThrowsError(try model.ratios(Tensor(shape: [1, 3]))) { XCTAssertTrue("\($0)".contains("1620"), "\($0)") }
  }
}
