// CLIPModel: transformers' CLIPModel — the ViT vision tower, the text tower, projections and logit scale.

import Foundation
import Formats
import NN
import TensorCore
import Text

/// Patch embedding (conv without bias, stride = patch), class token and learned positions.
final class CLIPVisionEmbeddings: Module {
  let classEmbedding: Tensor
  let patch: Conv2d, positions: Embedding

  init(_ c: CLIPVisionConfig, generator: Generator) throws {
    guard c.patchSize > 0, c.imageSize % c.patchSize == 0 else {
      throw MetricsError("image_size \(c.imageSize) is not a multiple of patch_size \(c.patchSize)")
    }
    classEmbedding = Tensor.randn([c.hiddenSize], generator: generator)
    patch = try Conv2d(c.numChannels, c.hiddenSize, kernel: c.patchSize, stride: c.patchSize, bias: false, generator: generator)
    let grid = c.imageSize / c.patchSize
    positions = try Embedding(grid * grid + 1, c.hiddenSize, generator: generator)
    super.init()
    registerParameter("class_embedding", classEmbedding)
    registerModule("patch_embedding", patch)
    registerModule("position_embedding", positions)
  }

  /// pixels [B, C, H, W] -> [B, 1 + patches, D].
  override func forward(_ pixels: Tensor) throws -> Tensor {
    let p = try patch(pixels)  // [B, D, h, w]
    let (b, d) = (p.shape[0], p.shape[1])
    let tokens = try p.reshape([b, d, p.shape[2] * p.shape[3]]).transpose(1, 2)
    guard tokens.shape[1] + 1 == positions.count else {
      throw MetricsError("images give \(tokens.shape[1]) patches but the model has \(positions.count - 1) positions (resize to its image_size)")
    }
    let cls = try classEmbedding.reshape([1, 1, d]).expand([b, 1, d])
    return try Tensor.cat([cls, tokens], axis: 1) + positions.weight
  }
}

/// The ViT vision tower: embeddings, `pre_layrnorm` (sic), encoder layers, and `post_layernorm`
/// of the class token as the pooled output.
public final class CLIPVisionModel: Module {
  public let config: CLIPVisionConfig
  let embeddings: CLIPVisionEmbeddings
  let preNorm: LayerNorm, postNorm: LayerNorm
  let layers: [CLIPEncoderLayer]

  public init(_ c: CLIPVisionConfig, generator: Generator = Generator(seed: 0)) throws {
    config = c
    embeddings = try CLIPVisionEmbeddings(c, generator: generator)
    preNorm = try LayerNorm(c.hiddenSize, eps: Float(c.layerNormEps))
    postNorm = try LayerNorm(c.hiddenSize, eps: Float(c.layerNormEps))
    layers = try (0..<c.numHiddenLayers).map { _ in
      try CLIPEncoderLayer(
        hidden: c.hiddenSize, intermediate: c.intermediateSize, heads: c.numAttentionHeads, activation: c.hiddenAct, eps: c.layerNormEps,
        generator: generator)
    }
    super.init()
    registerModule("embeddings", embeddings)
    registerModule("pre_layrnorm", preNorm)
    registerModule("encoder", ModuleGroup([("layers", ModuleList(layers))]))
    registerModule("post_layernorm", postNorm)
  }

  /// Token states after each stage and the pooled class token: (embeddings, hidden states with
  /// index 0 after pre_layrnorm, last hidden state, pooled [B, D]).
  public func outputs(_ pixels: Tensor) throws -> (embeddings: Tensor, hiddenStates: [Tensor], last: Tensor, pooled: Tensor) {
    guard pixels.rank == 4, pixels.shape[1] == config.numChannels else {
      throw MetricsError("pixel values must be [batch, \(config.numChannels), \(config.imageSize), \(config.imageSize)], got \(pixels.shape)")
    }
    let e = try embeddings(pixels)
    var h = try preNorm(e)
    var states = [h]
    for layer in layers {
      h = try layer.forward(h, keyMask: nil, causal: false)
      states.append(h)
    }
    let cls = try h.narrow(1, start: 0, length: 1).reshape([h.shape[0], h.shape[2]])
    return (e, states, h, try postNorm(cls))
  }

  /// The pooled class token [B, D].
  public override func forward(_ pixels: Tensor) throws -> Tensor { try outputs(pixels).pooled }
}

/// transformers' `CLIPModel`: both towers, `visual_projection` and `text_projection` (no bias)
/// and the learned `logit_scale` (used as exp).
public final class CLIPModel: Module {
  public let config: CLIPConfig
  public let text: CLIPTextModel
  public let vision: CLIPVisionModel
  let visualProjection: Linear, textProjection: Linear
  let logitScale: Tensor

  public init(_ c: CLIPConfig, generator: Generator = Generator(seed: 0)) throws {
    config = c
    text = try CLIPTextModel(c.textConfig, generator: generator)
    vision = try CLIPVisionModel(c.visionConfig, generator: generator)
    visualProjection = try Linear(c.visionConfig.hiddenSize, c.projectionDim, bias: false, generator: generator)
    textProjection = try Linear(c.textConfig.hiddenSize, c.projectionDim, bias: false, generator: generator)
    logitScale = Tensor([Float(c.logitScaleInitValue)], shape: [])
    super.init()
    registerModule("text_model", text)
    registerModule("vision_model", vision)
    registerModule("visual_projection", visualProjection)
    registerModule("text_projection", textProjection)
    registerParameter("logit_scale", logitScale)
  }

  /// Loads a transformers CLIPModel folder (`config.json` + `model.safetensors`).
  public static func load(folder: String) throws -> CLIPModel {
    let model = try CLIPModel(try loadConfig(CLIPConfig.self, from: folder + "/config.json"))
    try model.load(from: try SafetensorsCheckpoint.open(folder), key: { $0.hasSuffix("position_ids") ? nil : $0 })
    model.eval()
    return model
  }

  /// exp(logit_scale): 100 for the OpenAI checkpoints.
  public var scale: Float { get throws { Foundation.exp(try logitScale.item()) } }

  /// Image embeddings [B, projection_dim] (L2-normalised unless `normalize` is false).
  public func imageEmbeddings(_ pixels: Tensor, normalize: Bool = true) throws -> Tensor {
    let e = try visualProjection(vision(pixels))
    return normalize ? try e / e.pow(2).sum(axes: [1], keepdim: true).sqrt() : e
  }

  /// Text embeddings [B, projection_dim] for token ids [B, L].
  public func textEmbeddings(_ ids: Tensor, normalize: Bool = true) throws -> Tensor {
    let e = try textProjection(text.forward(ids: ids).pooled)
    return normalize ? try e / e.pow(2).sum(axes: [1], keepdim: true).sqrt() : e
  }
}
