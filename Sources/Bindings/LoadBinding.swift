// LoadBinding: the global `load(path)` — opens whatever a path holds as the matching script object.

import Diffusion
import Formats
import Script
import Text

/// Installs `load(path)`: sentence encoders, CLIP text encoders and tokenizers from their folders;
/// safetensors, YAML/JSON and images through the `st`, `yaml`/`json` and `image` modules.
func installLoad(_ interp: Interpreter, _ ctx: BindingContext) {
  interp.define("load", .function(native("load", [p("path")],
    doc: "Opens a path as what it holds: diffusers pipeline -> Pipeline, unet/ -> UNet, vae/ -> VAE, scheduler/ -> Scheduler, sentence-transformers folder -> SentenceEncoder, text_encoder/ -> CLIPTextEncoder, tokenizer folder -> Tokenizer, .safetensors -> map of tensors, .yaml/.json -> config, .png/.jpg -> image tensor.") { a in
    let path = try a.string(0)
    let lower = path.lowercased()
    func viaModule(_ module: String) throws -> Value {
      guard case .map(let m)? = a.interpreter.nativeModules[module], let f = m["load"] else { return .null }
      return try a.interpreter.callValue(f, [.string(path)])
    }
    if fileExists(path) {
      if lower.hasSuffix(".safetensors") || lower.hasSuffix(".safetensors.index.json") { return try viaModule("st") }
      if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") { return try viaModule("yaml") }
      if lower.hasSuffix(".json") { return try viaModule("json") }
      if [".png", ".jpg", ".jpeg"].contains(where: lower.hasSuffix) { return try viaModule("image") }
      throw Diagnostic(.value, "\(path): load() reads folders, .safetensors, .yaml/.json and .png/.jpg files")
    }
    return try loadFolder(path, ctx)
  }))
}

private func loadFolder(_ path: String, _ ctx: BindingContext) throws -> Value {
  let d = try describeFolder(path)
  switch d.kind {
  case .sentenceTransformers:
    return ctx.wrap(encoder: try SentenceEncoder.load(folder: path))
  case .transformersModel:
    switch d.className {
    case "CLIPTextModel"?, "CLIPTextModelWithProjection"?: return ctx.wrap(clipEncoder: try CLIPTextModel.load(folder: path))
    case "BertModel"?, "MPNetModel"?, "bert"?, "mpnet"?: return ctx.wrap(encoder: try SentenceEncoder.load(folder: path))
    default: throw Diagnostic(.value, "\(path): transformers model \(d.className ?? "?") is not supported by load() (BertModel, MPNetModel, CLIPTextModel)")
    }
  case .tokenizer:
    if fileExists(path + "/merges.txt") { return ctx.wrap(tokenizer: try CLIPTokenizer.load(folder: path)) }
    return ctx.wrap(tokenizer: try WordPieceTokenizer.load(folder: path))
  case .diffusersPipeline:
    return ctx.wrap(pipeline: try TextToImagePipeline.load(folder: path))
  case .diffusersModel:
    switch d.className {
    case "UNet2DConditionModel"?: return ctx.wrap(unet: try UNet2DConditionModel.load(folder: path))
    case "AutoencoderKL"?: return ctx.wrap(vae: try AutoencoderKL.load(folder: path))
    default: throw Diagnostic(.value, "\(path): diffusers model \(d.className ?? "?") is not supported by load() (UNet2DConditionModel, AutoencoderKL)")
    }
  case .scheduler:
    return ctx.wrap(scheduler: try Schedulers.load(path))
  case .safetensorsFile, .unknown:
    throw Diagnostic(.value, "\(path): load() cannot open a \(d.kind.rawValue) (describe(path) shows what it holds)")
  }
}
