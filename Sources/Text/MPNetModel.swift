// MPNetModel: transformers' MPNetModel (all-mpnet-base-v2's encoder) with its shared relative position bias.

import Foundation
import Formats
import NN
import TensorCore

/// MPNet encoder with transformers' parameter names. Positions start after the padding index
/// (padding tokens take the padding index itself); every layer adds one relative position bias,
/// computed from `encoder.relative_attention_bias` over bucketed distances.
public final class MPNetModel: Module, TokenEncoder {
  public let config: MPNetConfig
  let wordEmbeddings: Embedding, positionEmbeddings: Embedding, embeddingNorm: LayerNorm
  let relativeBias: Embedding
  let layers: [EncoderLayer]
  /// Distances beyond this share the last bucket (transformers' `max_distance`).
  static let maxDistance = 128

  public var hiddenSize: Int { config.hiddenSize }
  /// Positions run from padding_idx + 1, so two positions of the table are never used by tokens.
  public var maxPositions: Int { config.maxPositionEmbeddings - paddingIndex - 1 }
  var paddingIndex: Int { config.padTokenId ?? 1 }

  /// A randomly initialised model of `config`.
  public init(_ config: MPNetConfig, generator: Generator = Generator(seed: 0)) throws {
    self.config = config
    let d = config.hiddenSize
    wordEmbeddings = try Embedding(config.vocabSize, d, generator: generator)
    positionEmbeddings = try Embedding(config.maxPositionEmbeddings, d, generator: generator)
    embeddingNorm = try LayerNorm(d, eps: Float(config.layerNormEps))
    relativeBias = try Embedding(config.relativeAttentionNumBuckets, config.numAttentionHeads, generator: generator)
    layers = try (0..<config.numHiddenLayers).map { _ in
      try EncoderLayer(
        naming: .mpnet, hidden: d, heads: config.numAttentionHeads, intermediateSize: config.intermediateSize,
        activation: config.hiddenAct, eps: Float(config.layerNormEps), generator: generator)
    }
    super.init()
    registerModule(
      "embeddings",
      ModuleGroup([("word_embeddings", wordEmbeddings), ("position_embeddings", positionEmbeddings), ("LayerNorm", embeddingNorm)]))
    registerModule("encoder", ModuleGroup([("layer", ModuleList(layers)), ("relative_attention_bias", relativeBias)]))
  }

  /// Loads `config.json` and `model.safetensors` from a transformers folder (an `mpnet.` prefix
  /// and the pooler are accepted and ignored).
  public static func load(folder: String) throws -> MPNetModel {
    let model = try MPNetModel(try loadConfig(MPNetConfig.self, from: folder + "/config.json"))
    try model.load(
      from: try SafetensorsCheckpoint.open(folder),
      key: TransformerParts.checkpointKey(prefixes: ["mpnet."], ignored: ["embeddings.position_ids", "pooler"]))
    model.eval()
    return model
  }

  public override var summary: String {
    "MPNetModel(\(config.numHiddenLayers) layers, hidden \(config.hiddenSize), \(config.numAttentionHeads) heads)"
  }

  /// Token ids [B, L] -> last hidden states [B, L, D], with no padding mask.
  public override func forward(_ ids: Tensor) throws -> Tensor { try lastHiddenState(ids: ids, mask: nil) }

  public func lastHiddenState(ids: Tensor, mask: Tensor?) throws -> Tensor {
    try TransformerParts.checkIds(ids, maxPositions: maxPositions)
    let length = ids.shape[1]
    var h = try embeddingNorm(wordEmbeddings(ids) + positionEmbeddings(positionIds(ids)))
    var bias = try relativePositionBias(length)
    if let mask { bias = try bias + TransformerParts.keyMask(mask) }
    for layer in layers { h = try layer.forward(h, bias: bias) }
    return h
  }

  /// padding_idx + 1, + 2, ... for tokens; padding_idx for padding tokens.
  func positionIds(_ ids: Tensor) throws -> Tensor {
    let values = ids.toInts(), length = ids.shape[1], pad = Int64(paddingIndex)
    var positions = [Int64](repeating: pad, count: values.count)
    for row in 0..<ids.shape[0] {
      var seen: Int64 = 0
      for j in 0..<length where values[row * length + j] != pad {
        seen += 1
        positions[row * length + j] = pad + seen
      }
    }
    return Tensor(ints: positions, shape: ids.shape)
  }

  /// The bias [1, H, L, L] for query i and key j from bucket(j - i).
  func relativePositionBias(_ length: Int) throws -> Tensor {
    var buckets = [Int64](repeating: 0, count: length * length)
    for i in 0..<length {
      for j in 0..<length {
        buckets[i * length + j] = Int64(Self.bucket(j - i, buckets: config.relativeAttentionNumBuckets))
      }
    }
    let table = try relativeBias(Tensor(ints: buckets, shape: [length, length]))  // [L, L, H]
    return try table.permute([2, 0, 1]).unsqueeze(0)
  }

  /// transformers' `relative_position_bucket`: half the buckets per direction, exact for small
  /// distances, logarithmic (in float32, as torch computes it) up to `maxDistance`.
  static func bucket(_ relative: Int, buckets total: Int) -> Int {
    let half = total / 2
    var bucket = relative > 0 ? half : 0
    let n = abs(relative), exact = half / 2
    if n < exact { return bucket + n }
    let ratio = logf(Float(n) / Float(exact)) / Float(log(Double(maxDistance) / Double(exact)))
    let large = exact + Int(ratio * Float(half - exact))
    bucket += Swift.min(large, half - 1)
    return bucket
  }
}
