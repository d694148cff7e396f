// BertModel: transformers' BertModel (MiniLM is one) — embeddings, post-LN encoder layers, transformers' names.

import Formats
import NN
import TensorCore

/// BERT encoder with transformers' parameter names (`embeddings.word_embeddings.weight`,
/// `encoder.layer.0.attention.self.query.weight`, ...). Token types are all 0 (single sentences);
/// the pooler is not part of it (sentence encoders pool the token states themselves).
public final class BertModel: Module, TokenEncoder {
  public let config: BertConfig
  let wordEmbeddings: Embedding, positionEmbeddings: Embedding, tokenTypeEmbeddings: Embedding
  let embeddingNorm: LayerNorm
  let layers: [EncoderLayer]

  public var hiddenSize: Int { config.hiddenSize }
  public var maxPositions: Int { config.maxPositionEmbeddings }

  /// A randomly initialised model of `config`.
  public init(_ config: BertConfig, generator: Generator = Generator(seed: 0)) throws {
    guard config.positionEmbeddingType == "absolute" else {
      throw TextError("position_embedding_type \"\(config.positionEmbeddingType)\" is not supported (absolute)")
    }
    self.config = config
    let d = config.hiddenSize
    wordEmbeddings = try Embedding(config.vocabSize, d, generator: generator)
    positionEmbeddings = try Embedding(config.maxPositionEmbeddings, d, generator: generator)
    tokenTypeEmbeddings = try Embedding(Swift.max(config.typeVocabSize, 1), d, generator: generator)
    embeddingNorm = try LayerNorm(d, eps: Float(config.layerNormEps))
    layers = try (0..<config.numHiddenLayers).map { _ in
      try EncoderLayer(
        naming: .bert, hidden: d, heads: config.numAttentionHeads, intermediateSize: config.intermediateSize,
        activation: config.hiddenAct, eps: Float(config.layerNormEps), generator: generator)
    }
    super.init()
    registerModule(
      "embeddings",
      ModuleGroup([
        ("word_embeddings", wordEmbeddings), ("position_embeddings", positionEmbeddings),
        ("token_type_embeddings", tokenTypeEmbeddings), ("LayerNorm", embeddingNorm),
      ]))
    registerModule("encoder", ModuleGroup([("layer", ModuleList(layers))]))
  }

  /// Loads `config.json` and `model.safetensors` (or an index) from a transformers folder; a
  /// `bert.` prefix, `position_ids` and the pooler are accepted and ignored.
  public static func load(folder: String) throws -> BertModel {
    let model = try BertModel(try loadConfig(BertConfig.self, from: folder + "/config.json"))
    try model.load(
      from: try SafetensorsCheckpoint.open(folder),
      key: TransformerParts.checkpointKey(prefixes: ["bert."], ignored: ["embeddings.position_ids", "pooler"]))
    model.eval()
    return model
  }

  public override var summary: String {
    "BertModel(\(config.numHiddenLayers) layers, hidden \(config.hiddenSize), \(config.numAttentionHeads) heads)"
  }

  /// Token ids [B, L] -> last hidden states [B, L, D], with no padding mask.
  public override func forward(_ ids: Tensor) throws -> Tensor { try lastHiddenState(ids: ids, mask: nil) }

  public func lastHiddenState(ids: Tensor, mask: Tensor?) throws -> Tensor {
    try TransformerParts.checkIds(ids, maxPositions: maxPositions)
    let length = ids.shape[1]
    let positions = try positionEmbeddings.weight.narrow(0, start: 0, length: length)
    let tokenType = try tokenTypeEmbeddings.weight.narrow(0, start: 0, length: 1)
    var h = try embeddingNorm(wordEmbeddings(ids) + positions + tokenType)
    let bias = try mask.map(TransformerParts.keyMask)
    for layer in layers { h = try layer.forward(h, bias: bias) }
    return h
  }
}
