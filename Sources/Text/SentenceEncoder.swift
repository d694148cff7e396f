// SentenceEncoder: a sentence-transformers folder (encoder + pooling + normalisation) as one prompt -> vector function.

import Formats
import NN
import TensorCore

/// A sentence-transformers model: WordPiece tokenizer, BERT or MPNet encoder, the pooling of
/// `1_Pooling/config.json` and the L2 normalisation a `Normalize` module in `modules.json` asks
/// for. Prompts are encoded in batches sorted by length, each padded only to its own longest
/// prompt (dynamic padding), and returned in the caller's order.
public final class SentenceEncoder {
  public let folder: String
  public let tokenizer: WordPieceTokenizer
  public let model: any TokenEncoder & Module
  public let pooling: PoolingConfig
  /// Whether `modules.json` ends with a Normalize module.
  public let normalizes: Bool
  /// Prompts per forward pass.
  public var batchSize = 64

  public var dimension: Int { model.hiddenSize * Swift.max(pooling.modes.count, 1) }

  init(folder: String, tokenizer: WordPieceTokenizer, model: any TokenEncoder & Module, pooling: PoolingConfig, normalizes: Bool) {
    self.folder = folder
    self.tokenizer = tokenizer
    self.model = model
    self.pooling = pooling
    self.normalizes = normalizes
  }

  /// Loads a sentence-transformers folder, or a plain transformers BERT/MPNet folder (then: mean
  /// pooling, no normalisation). The token limit is `sentence_bert_config.json`'s `max_seq_length`.
  public static func load(folder: String) throws -> SentenceEncoder {
    guard isDirectory(folder) else { throw TextError(file: folder, "is not a folder (expected a sentence-transformers model folder)") }
    let modules = try readModules(folder)
    let transformerPath = modules.first { $0.type.hasSuffix("models.Transformer") }.map { $0.path.isEmpty ? folder : folder + "/" + $0.path } ?? folder
    let model = try loadEncoder(transformerPath)
    let stConfig = try TokenizerFiles.optionalJSON(transformerPath, "sentence_bert_config.json")
    let limit = Swift.min(stConfig?["max_seq_length"]?.intValue ?? model.maxPositions, model.maxPositions)
    let tokenizer = try WordPieceTokenizer.load(folder: transformerPath, maxLength: limit)
    var pooling = PoolingConfig(wordEmbeddingDimension: model.hiddenSize)
    if let p = modules.first(where: { $0.type.hasSuffix("models.Pooling") }) {
      pooling = try loadConfig(PoolingConfig.self, from: folder + "/" + p.path + "/config.json")
    }
    let normalizes = modules.contains { $0.type.hasSuffix("models.Normalize") }
    return SentenceEncoder(folder: folder, tokenizer: tokenizer, model: model, pooling: pooling, normalizes: normalizes)
  }

  static func readModules(_ folder: String) throws -> [SentenceTransformerModule] {
    let path = folder + "/modules.json"
    guard fileExists(path) else { return [] }
    return try ConfigValueDecoder(file: path).decode([SentenceTransformerModule].self, from: try ConfigLoader.load(path))
  }

  /// BERT or MPNet, by the folder's `model_type`.
  static func loadEncoder(_ folder: String) throws -> any TokenEncoder & Module {
    let config = try ConfigLoader.load(folder + "/config.json")
    switch config.mapValue?["model_type"]?.stringValue {
    case "bert"?: return try BertModel.load(folder: folder)
    case "mpnet"?: return try MPNetModel.load(folder: folder)
    case let other: throw TextError(file: folder + "/config.json", "model_type \"\(other ?? "none")\" is not a supported sentence encoder (bert, mpnet)")
    }
  }

  /// Sentence vectors [N, dimension]; `normalize` overrides the folder's Normalize module
  /// (false gives the raw pooled vectors the original router reads).
  public func encode(_ prompts: [String], normalize: Bool? = nil) throws -> Tensor {
    let out = Tensor(shape: [prompts.count, dimension])
    for (indices, states, mask) in try batches(prompts) {
      let pooled = try Pooling.pool(states, mask: mask, modes: pooling.modes)
      let vectors = (normalize ?? normalizes) ? try Pooling.l2Normalized(pooled) : pooled
      for (row, i) in indices.enumerated() {
        (out.data + i * dimension).update(from: vectors.data + row * dimension, count: dimension)
      }
    }
    return out
  }

  /// Token states [N, L, D] (L = the longest prompt's token count; padding rows are zero) and
  /// the int64 mask [N, L].
  public func hidden(_ prompts: [String]) throws -> (states: Tensor, mask: Tensor) {
    let sequences = prompts.map(tokenizer.encode)
    let length = sequences.map(\.count).max() ?? 0
    let d = model.hiddenSize
    let states = Tensor(shape: [prompts.count, length, d])
    for (indices, h, _) in try batches(prompts) {
      for (row, i) in indices.enumerated() {
        (states.data + i * length * d).update(from: h.data + row * h.shape[1] * d, count: sequences[i].count * d)
      }
    }
    return (states, TokenBatch(sequences, padId: tokenizer.padId, length: length).mask)
  }

  /// Runs the encoder over length-sorted batches: (prompt indices, contiguous states, mask).
  func batches(_ prompts: [String]) throws -> [(indices: [Int], states: Tensor, mask: Tensor)] {
    let sequences = prompts.map(tokenizer.encode)
    let order = sequences.indices.sorted { sequences[$0].count > sequences[$1].count }
    let step = Swift.max(batchSize, 1)
    return try GradMode.noGrad {
      try stride(from: 0, to: order.count, by: step).map { start in
        let indices = Array(order[start..<Swift.min(start + step, order.count)])
        let batch = TokenBatch(indices.map { sequences[$0] }, padId: tokenizer.padId)
        let needsMask = indices.contains { sequences[$0].count < batch.length }
        let mask = batch.mask
        let states = try model.lastHiddenState(ids: batch.ids, mask: needsMask ? mask : nil).contiguous()
        return (indices, states, mask)
      }
    }
  }
}
