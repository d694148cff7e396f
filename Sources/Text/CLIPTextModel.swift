// CLIPTextModel: transformers' CLIPTextModel — causal pre-LN layers, final LayerNorm, EOS pooling, clip_skip.

import Formats
import NN
import TensorCore

/// What a CLIP text encoder returns for a batch of ids.
public struct CLIPTextOutput {
  /// final_layer_norm of the last layer's states [B, L, D].
  public let lastHiddenState: Tensor
  /// The state at each row's pooling position [B, D] (no projection, as in `CLIPTextModel`).
  public let pooled: Tensor
  /// The position pooled in each row.
  public let pooledIndex: [Int]
  /// Embeddings output, then every layer's output before the final LayerNorm (when requested).
  public let hiddenStates: [Tensor]
}

/// One pre-LayerNorm CLIP layer: self-attention (causal in the text tower) and an MLP, each with
/// a residual. Shared by the text and vision towers.
public final class CLIPEncoderLayer: Module {
  let norm1: LayerNorm, norm2: LayerNorm
  let qkv: FusedProjections
  let out: Linear, fc1: Linear, fc2: Linear
  let heads: Int
  let activation: @Sendable (Tensor) throws -> Tensor

  public init(hidden d: Int, intermediate: Int, heads: Int, activation: String, eps: Double, generator: Generator) throws {
    guard heads > 0, d % heads == 0 else {
      throw TextError("hidden_size \(d) is not a multiple of num_attention_heads \(heads)")
    }
    norm1 = try LayerNorm(d, eps: Float(eps))
    norm2 = try LayerNorm(d, eps: Float(eps))
    qkv = try FusedProjections(count: 3, inFeatures: d, outFeatures: d, generator: generator)
    out = try Linear(d, d, generator: generator)
    fc1 = try Linear(d, intermediate, generator: generator)
    fc2 = try Linear(intermediate, d, generator: generator)
    self.heads = heads
    self.activation = try TransformerParts.activation(activation)
    super.init()
    registerModule(
      "self_attn", ModuleGroup([("q_proj", qkv.layers[0]), ("k_proj", qkv.layers[1]), ("v_proj", qkv.layers[2]), ("out_proj", out)]))
    registerModule("layer_norm1", norm1)
    registerModule("mlp", ModuleGroup([("fc1", fc1), ("fc2", fc2)]))
    registerModule("layer_norm2", norm2)
  }

  convenience init(_ c: CLIPTextConfig, generator: Generator) throws {
    try self.init(
      hidden: c.hiddenSize, intermediate: c.intermediateSize, heads: c.numAttentionHeads, activation: c.hiddenAct, eps: c.layerNormEps,
      generator: generator)
  }

  /// x [B, L, D]; `keyMask` additive [B, 1, 1, L] or nil.
  public func forward(_ x: Tensor, keyMask: Tensor?, causal: Bool = true) throws -> Tensor {
    let n = try norm1(x)
    let p = try qkv(n)
    let h = try x + out(TransformerParts.attend(p[0], p[1], p[2], heads: heads, mask: keyMask, causal: causal))
    return try h + fc2(activation(fc1(norm2(h))))
  }
}

/// The CLIP text encoder of Stable Diffusion's `text_encoder/` folder, with transformers' names
/// (the `text_model.` prefix of transformers-4 files is accepted).
public final class CLIPTextModel: Module, TokenEncoder {
  public let config: CLIPTextConfig
  let tokenEmbedding: Embedding, positionEmbedding: Embedding
  let layers: [CLIPEncoderLayer]
  let finalNorm: LayerNorm

  public var hiddenSize: Int { config.hiddenSize }
  public var maxPositions: Int { config.maxPositionEmbeddings }

  /// A randomly initialised model of `config`.
  public init(_ config: CLIPTextConfig, generator: Generator = Generator(seed: 0)) throws {
    self.config = config
    tokenEmbedding = try Embedding(config.vocabSize, config.hiddenSize, generator: generator)
    positionEmbedding = try Embedding(config.maxPositionEmbeddings, config.hiddenSize, generator: generator)
    layers = try (0..<config.numHiddenLayers).map { _ in try CLIPEncoderLayer(config, generator: generator) }
    finalNorm = try LayerNorm(config.hiddenSize, eps: Float(config.layerNormEps))
    super.init()
    registerModule("embeddings", ModuleGroup([("token_embedding", tokenEmbedding), ("position_embedding", positionEmbedding)]))
    registerModule("encoder", ModuleGroup([("layers", ModuleList(layers))]))
    registerModule("final_layer_norm", finalNorm)
  }

  /// Loads a `text_encoder/` folder (a `CLIPTextModel` config, or a `CLIPModel` config whose
  /// text part is used; the vision tower and projections are then ignored).
  public static func load(folder: String) throws -> CLIPTextModel {
    let path = folder + "/config.json"
    let raw = try ConfigLoader.load(path)
    let decoder = ConfigValueDecoder(file: path)
    let config =
      raw.mapValue?["text_config"] != nil
      ? try decoder.decode(CLIPConfig.self, from: raw).textConfig : try decoder.decode(CLIPTextConfig.self, from: raw)
    let model = try CLIPTextModel(config)
    try model.load(
      from: try SafetensorsCheckpoint.open(folder),
      key: TransformerParts.checkpointKey(
        prefixes: ["text_model."],
        ignored: ["embeddings.position_ids", "vision_model", "visual_projection", "text_projection", "logit_scale"]))
    model.eval()
    return model
  }

  public override var summary: String {
    "CLIPTextModel(\(config.numHiddenLayers) layers, hidden \(config.hiddenSize), \(config.numAttentionHeads) heads, \(config.hiddenAct))"
  }

  /// Token ids [B, L] -> last hidden states [B, L, D] (what a diffusers pipeline feeds the UNet).
  public override func forward(_ ids: Tensor) throws -> Tensor { try forward(ids: ids).lastHiddenState }

  public func lastHiddenState(ids: Tensor, mask: Tensor?) throws -> Tensor {
    try forward(ids: ids, mask: mask).lastHiddenState
  }

  /// The encoder run on ids [B, L]. `mask` (0 = padding) hides padding keys in addition to the
  /// causal mask; diffusers passes none. `layers` stops after that many layers (clip_skip), and
  /// the final LayerNorm is applied to the state there.
  public func forward(ids: Tensor, mask: Tensor? = nil, layers count: Int? = nil, hiddenStates: Bool = false) throws
    -> CLIPTextOutput
  {
    try TransformerParts.checkIds(ids, maxPositions: maxPositions, model: "text encoder")
    let (batch, length) = (ids.shape[0], ids.shape[1])
    let depth = count ?? layers.count
    guard depth >= 1, depth <= layers.count else { throw TextError("layers must be in 1...\(layers.count), got \(depth)") }
    var h = try tokenEmbedding(ids) + positionEmbedding.weight.narrow(0, start: 0, length: length)
    var states = hiddenStates ? [h] : []
    let keyMask = try mask.map(TransformerParts.keyMask)
    for layer in layers.prefix(depth) {
      h = try layer.forward(h, keyMask: keyMask)
      if hiddenStates { states.append(h) }
    }
    let last = try finalNorm(h)
    let index = pooledIndex(ids)
    let rows = Tensor(ints: (0..<batch).map { Int64($0 * length + index[$0]) }, shape: [batch])
    let pooled = try last.reshape([batch * length, config.hiddenSize]).indexSelect(0, rows)
    return CLIPTextOutput(lastHiddenState: last, pooled: pooled, pooledIndex: index, hiddenStates: states)
  }

  /// Diffusers' `clip_skip`: the state `skip` layers before the last, through the final LayerNorm.
  public func promptEmbeddings(ids: Tensor, clipSkip skip: Int? = nil) throws -> Tensor {
    try forward(ids: ids, layers: layers.count - (skip ?? 0)).lastHiddenState
  }

  /// transformers' rule: with the legacy `eos_token_id == 2` the largest id (first occurrence)
  /// marks the end; otherwise the first position holding the eos id (0 if there is none).
  func pooledIndex(_ ids: Tensor) -> [Int] {
    let values = ids.toInts(), length = ids.shape[1]
    return (0..<ids.shape[0]).map { row in
      let slice = values[(row * length)..<((row + 1) * length)]
      if config.eosTokenId == 2 || config.eosTokenId == nil {
        guard let m = slice.max() else { return 0 }
        return (slice.firstIndex(of: m) ?? row * length) - row * length
      }
      return (slice.firstIndex(of: Int64(config.eosTokenId ?? 0)) ?? row * length) - row * length
    }
  }
}
