// PipelineTests: the full Stable Diffusion loop (CLIP, CFG, DDIM, VAE) against diffusers' StableDiffusionPipeline.
import XCTest

@testable import Diffusion
@testable import NN
@testable import TensorCore
@testable import Text

final class PipelineTests: XCTestCase {
  let prompts = ["a photo of an astronaut riding a horse on mars", "a red cube on a blue table"]

  func testTinyPipelineMatchesDiffusers() throws {
    let pipe = try TextToImagePipeline.load(folder: goldenFixtures + "/sd_pipeline_tiny/pipeline")
    let io = try goldenTensors("sd_pipeline_tiny/io.safetensors")
    let clip = try XCTUnwrap(pipe.promptEncoder as? CLIPPromptEncoder)
    XCTAssertEqual(clip.tokenizer.batch(prompts, length: 77).ids.toInts(), try io.golden("text.input_ids").toInts())
    XCTAssertEqual(clip.tokenizer.batch(["", ""], length: 77).ids.toInts(), try io.golden("text.negative_input_ids").toInts())
    let embeds = try GradMode.noGrad { try clip.context(prompts).states }
    assertClose(embeds, try io.golden("text.prompt_embeds"), "prompt_embeds")

    var options = GenerationOptions()
    options.steps = 4
    options.guidance = 7.5
    options.height = 32
    options.width = 32
    options.latents = try io.golden("in.latents")
    let stepLatents = try io.golden("steps.latents")
    var seen: [Float] = []
    let out = try pipe.generate(prompts, options: options) { i, t, latents in
      seen.append(t)
      assertClose(latents, try stepLatents.narrow(0, start: i, length: 1).squeeze(0), relative: 1e-3, "latents after step \(i)")
    }
    XCTAssertEqual(seen, try io.golden("steps.timesteps").toArray())
    let images = try out.images.permute([0, 2, 3, 1]).contiguous()
    let want = try io.golden("out.images")
    let diff = zip(images.toArray(), want.toArray()).map { abs($0 - $1) }.max() ?? 1
    XCTAssertLessThanOrEqual(diff, 1e-3, "images")
  }

  func testPipelineRejectsMismatchedParts() throws {
    let pipe = try TextToImagePipeline.load(folder: goldenFixtures + "/sd_pipeline_tiny/pipeline")
    var options = GenerationOptions()
    options.steps = 1
    options.height = 30
    XCTAssertThrowsError(try pipe.generate(["x"], options: options)) { XCTAssertTrue("\($0)".contains("divisible"), "\($0)") }
    options.height = 32
    options.negative = ["a", "b"]
    XCTAssertThrowsError(try pipe.generate(["x"], options: options)) { XCTAssertTrue("\($0)".contains("negative"), "\($0)") }
    let other = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd15_tiny/model")
    XCTAssertThrowsError(
      try TextToImagePipeline(unet: other, scheduler: pipe.scheduler, vae: pipe.vae, promptEncoder: pipe.promptEncoder)
    ) { XCTAssertTrue("\($0)".contains("cross_attention_dim"), "\($0)") }
  }
}
