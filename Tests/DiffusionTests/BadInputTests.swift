// BadInputTests: broken configs, checkpoints and inputs give one clear error naming every problem.
import Foundation
import XCTest

@testable import Diffusion
@testable import Formats
@testable import NN
@testable import TensorCore

final class DiffusionBadInputTests: XCTestCase {
  var folder = ""

  override func setUpWithError() throws {
    folder = NSTemporaryDirectory() + "aptp-diffusion-bad-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

  func assertError(_ body: () throws -> Void, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
    do {
      try body()
      XCTFail("expected an error", file: file, line: line)
    } catch {
      for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) should mention \(part)", file: file, line: line) }
    }
  }

  func writeConfig(_ edit: (String) -> String) throws {
    let source = try String(contentsOfFile: goldenFixtures + "/unet_sd15_tiny/model/config.json", encoding: .utf8)
    try edit(source).write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
  }

  func testUnsupportedOrMistypedConfigsAreNamed() throws {
    try writeConfig { $0.replacingOccurrences(of: "\"DownBlock2D\"", with: "\"KDownBlock2D\"").replacingOccurrences(of: "\"act_fn\": \"silu\"", with: "\"act_fn\": \"gelu\"") }
    assertError({ _ = try UNet2DConditionModel.load(folder: folder) }, mentions: ["KDownBlock2D", "act_fn \"gelu\""])
    try writeConfig { $0.replacingOccurrences(of: "\"layers_per_block\": 1", with: "\"layers_per_block\": \"one\"") }
    assertError({ _ = try UNet2DConditionModel.load(folder: folder) }, mentions: ["config.json", "layers_per_block"])
    try writeConfig { $0.replacingOccurrences(of: "\"norm_num_groups\": 32", with: "\"norm_num_groups\": 7") }
    assertError({ _ = try UNet2DConditionModel.load(folder: folder) }, mentions: ["norm_num_groups 7"])
  }

  func testCheckpointProblemsAreListedTogether() throws {
    try writeConfig { $0 }
    let ckpt = try SafetensorsCheckpoint.open(goldenFixtures + "/unet_sd15_tiny/model")
    var payloads: [TensorPayload] = []
    for r in ckpt.records where r.name != "conv_in.bias" {
      let t = try Tensor.reading(r)
      let shape = r.name == "conv_out.weight" ? [t.count] : r.shape
      payloads.append(try TensorPayload(name: r.name, shape: shape, floats: t.toArray()))
    }
    payloads.append(try TensorPayload(name: "extra.weight", shape: [1], floats: [0]))
    try Safetensors.save(payloads, to: folder + "/diffusion_pytorch_model.safetensors")
    assertError(
      { _ = try UNet2DConditionModel.load(folder: folder) },
      mentions: ["diffusion_pytorch_model.safetensors", "missing", "conv_in.bias", "unexpected", "extra.weight", "conv_out.weight"])
  }

  func testBadCallShapesAreNamed() throws {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd15_tiny/model")
    let context = Tensor(shape: [1, 3, 48])
    assertError({ _ = try unet.forward(Tensor(shape: [1, 4, 7, 8]), timesteps: [1], context: context) }, mentions: ["7x8", "factor 2"])
    assertError({ _ = try unet.forward(Tensor(shape: [1, 3, 8, 8]), timesteps: [1], context: context) }, mentions: ["[batch, 4"])
    assertError({ _ = try unet.forward(Tensor(shape: [1, 4, 8, 8]), timesteps: [1, 2], context: context) }, mentions: ["2 timesteps"])
    assertError({ _ = try unet.forward(Tensor(shape: [1, 4, 8, 8]), timesteps: [1], context: Tensor(shape: [1, 3, 40])) }, mentions: ["48"])
    assertError({ _ = try unet.forward(Tensor(shape: [1, 4, 8, 8]), timesteps: [1], context: context, contextMask: Tensor(shape: [1, 4])) }, mentions: ["mask"])
  }
}
