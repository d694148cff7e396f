// PipelineLoading: opening a diffusers pipeline folder (model_index.json) as a TextToImagePipeline.

import Foundation
import Formats
import Text

extension TextToImagePipeline {
  /// Loads `unet/`, `scheduler/`, `vae/` (optional: absent or null means pixel space) and the text
  /// encoder: `text_encoder/` + `tokenizer/` (CLIP), or a sentence-transformers `text_encoder/`.
  public static func load(folder: String) throws -> TextToImagePipeline {
    let index = try ConfigLoader.load(folder + "/model_index.json")
    guard let components = index.mapValue else {
      throw DiffusionError(file: folder + "/model_index.json", "must be a JSON object naming the components")
    }
    func present(_ name: String) -> Bool {
      guard let entry = components[name]?.listValue else { return isDirectory(folder + "/" + name) }
      return entry.contains { !$0.isNull }
    }
    for required in ["unet", "scheduler", "text_encoder"] where !present(required) {
      throw DiffusionError(file: folder, "pipeline has no \(required) component")
    }
    let unet = try UNet2DConditionModel.load(folder: folder + "/unet")
    let scheduler = try Schedulers.load(folder + "/scheduler")
    let vae = present("vae") ? try AutoencoderKL.load(folder: folder + "/vae") : nil
    return try TextToImagePipeline(unet: unet, scheduler: scheduler, vae: vae, promptEncoder: try loadPromptEncoder(folder))
  }

  static func loadPromptEncoder(_ folder: String) throws -> any PromptEncoder {
    let textFolder = folder + "/text_encoder"
    if fileExists(textFolder + "/modules.json") { return TokenStatePromptEncoder(try SentenceEncoder.load(folder: textFolder)) }
    return CLIPPromptEncoder(tokenizer: try CLIPTokenizer.load(folder: folder + "/tokenizer"), model: try CLIPTextModel.load(folder: textFolder))
  }
}
