// UNetTests: UNet2DConditionModel forward, intermediates and gradients against the diffusers goldens.
import XCTest

@testable import Diffusion
@testable import NN
@testable import TensorCore

final class UNetTests: XCTestCase {
  /// Forward, every intermediate, then loss and the listed gradients (rtol 1e-4 / 1e-3).
  func checkGolden(_ group: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let model = try UNet2DConditionModel.load(folder: goldenFixtures + "/\(group)/model")
    let io = try goldenTensors("\(group)/io.safetensors")
    let sample = try io.golden("in.sample"), context = try io.golden("in.encoder_hidden_states")
    let timesteps = try io.golden("in.timesteps").toArray()
    let out = try GradMode.noGrad { try model.forward(sample, timesteps: timesteps, context: context, intermediates: true) }
    assertClose(out.sample, try io.golden("out.sample"), "\(group) out.sample", file: file, line: line)
    for (name, want) in io where name.hasPrefix("inter.") {
      let key = String(name.dropFirst("inter.".count))
      guard let got = out.intermediates[key] else {
        XCTFail("\(group): no intermediate \(key)", file: file, line: line)
        continue
      }
      assertClose(got, want, "\(group) \(name)", file: file, line: line)
    }
    if let mask = io["in.encoder_attention_mask"], let want = io["out.sample_masked"] {
      let masked = try GradMode.noGrad { try model.forward(sample, timesteps: timesteps, context: context, contextMask: mask) }
      assertClose(masked.sample, want, "\(group) out.sample_masked", file: file, line: line)
    }
    sample.requiresGrad = true
    context.requiresGrad = true
    let loss = try (model.forward(sample, timesteps: timesteps, context: context).sample * io.golden("loss.weight")).sum()
    assertClose(try loss.reshape([1]), try io.golden("loss.value"), relative: 1e-3, "\(group) loss", file: file, line: line)
    try loss.backward()
    let params = Dictionary(uniqueKeysWithValues: model.namedParameters())
    for (name, want) in io where name.hasPrefix("grad.") {
      let got: Tensor?
      switch name {
      case "grad.sample": got = sample.grad
      case "grad.encoder_hidden_states": got = context.grad
      default: got = params[String(name.dropFirst("grad.param.".count))]?.grad
      }
      guard let got else {
        XCTFail("\(group): no gradient for \(name)", file: file, line: line)
        continue
      }
      assertClose(got, want, relative: 1e-3, "\(group) \(name)", file: file, line: line)
    }
  }

  func testSD2TinyMatchesDiffusers() throws { try checkGolden("unet_sd2_tiny") }
  func testSD15TinyMatchesDiffusers() throws { try checkGolden("unet_sd15_tiny") }
  func testPixelTinyMatchesDiffusers() throws { try checkGolden("unet_pixel_tiny") }
}
