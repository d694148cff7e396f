// CLIPModelTests: the CLIP vision tower, projections and logits against transformers' CLIPModel.
import XCTest

@testable import Formats
@testable import Metrics
@testable import NN
@testable import TensorCore

final class CLIPModelTests: XCTestCase {
  func testCLIPModelMatchesTransformers() throws {
    let model = try CLIPModel.load(folder: goldenFixtures + "/clip_tiny/model")
    let io = try goldenTensors("clip_tiny/io.safetensors")
    let pixels = try io.golden("pixel_values"), ids = try io.golden("input_ids")
    try GradMode.noGrad {
      let v = try model.vision.outputs(pixels)
      assertClose(v.embeddings, try io.golden("vision_embeddings"), "vision embeddings")
      for (k, h) in v.hiddenStates.enumerated() { assertClose(h, try io.golden("vision_hidden_states_\(k)"), "vision hidden \(k)") }
      assertClose(v.last, try io.golden("vision_last_hidden_state"), "vision last")
      assertClose(v.pooled, try io.golden("vision_pooler_output"), "vision pooled")
      assertClose(try model.imageEmbeddings(pixels, normalize: false), try io.golden("image_embeds_unnormalized"), "image embeds raw")
      let images = try model.imageEmbeddings(pixels), texts = try model.textEmbeddings(ids)
      assertClose(images, try io.golden("image_embeds"), "image embeds")
      assertClose(texts, try io.golden("text_embeds"), "text embeds")
      let logits = try texts.matmul(images.transpose(0, 1)) * (try model.scale)
      assertClose(logits, try io.golden("logits_per_text"), "logits per text")
    }
    XCTAssertThrowsError(try model.vision.outputs(Tensor(shape: [1, 3, 24, 24]))) { XCTAssertTrue("\($0)".contains("positions"), "\($0)") }
  }
}

final class CLIPPreprocessTests: XCTestCase {
  func testPreprocessingMatchesThePILBackendAndIsCloseToTorchvision() throws {
    let processor = CLIPImageProcessor(config: try ConfigLoader.load(goldenFixtures + "/clip_tiny/model/preprocessor_config.json"))
    let io = try SafetensorsCheckpoint.open(goldenFixtures + "/clip_tiny/preprocess.safetensors")
    for n in ["img0", "img1"] {
      let raw = try io.record("\(n)_uint8")
      let image = try Image(width: raw.shape[1], height: raw.shape[0], channels: 3, pixels: raw.bytes())
      let got = try processor(image)
      let pil = try Tensor.reading(try io.record("\(n)_pixel_values_pil"))
      assertClose(got, pil, relative: 1e-5, "\(n) PIL backend")
      let torchvision = try Tensor.reading(try io.record("\(n)_pixel_values"))
      let diff = zip(got.toArray(), torchvision.toArray()).map { abs($0 - $1) }.max() ?? 1
      XCTAssertLessThanOrEqual(diff, 0.0151, "\(n) torchvision backend differs by at most one 8-bit step")
    }
  }
}
