// TransformersConfigs: typed transformers / sentence-transformers configs (CLIP, BERT, MPNet, Pooling, modules)
// with the libraries' defaults for missing keys; unknown keys stay available in `extra`.

/// `config.json` of a transformers `CLIPTextModel` (or the `text_config` of a `CLIPModel`).
public struct CLIPTextConfig: Decodable, Sendable, Equatable {
  public var architectures: [String]? = nil
  public var modelType: String? = nil
  public var vocabSize = 49408
  public var hiddenSize = 512
  public var intermediateSize = 2048
  public var projectionDim = 512
  public var numHiddenLayers = 12
  public var numAttentionHeads = 8
  public var maxPositionEmbeddings = 77
  public var hiddenAct = "quick_gelu"
  public var layerNormEps = 1e-5
  public var attentionDropout = 0.0
  public var initializerRange = 0.02
  public var initializerFactor = 1.0
  public var padTokenId: Int? = 1
  public var bosTokenId: Int? = 49406
  public var eosTokenId: Int? = 49407
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `CLIPTextConfig()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    architectures = try f.optional("architectures")
    modelType = try f.optional("model_type")
    vocabSize = try f.value("vocab_size", vocabSize)
    hiddenSize = try f.value("hidden_size", hiddenSize)
    intermediateSize = try f.value("intermediate_size", intermediateSize)
    projectionDim = try f.value("projection_dim", projectionDim)
    numHiddenLayers = try f.value("num_hidden_layers", numHiddenLayers)
    numAttentionHeads = try f.value("num_attention_heads", numAttentionHeads)
    maxPositionEmbeddings = try f.value("max_position_embeddings", maxPositionEmbeddings)
    hiddenAct = try f.value("hidden_act", hiddenAct)
    layerNormEps = try f.value("layer_norm_eps", layerNormEps)
    attentionDropout = try f.value("attention_dropout", attentionDropout)
    initializerRange = try f.value("initializer_range", initializerRange)
    initializerFactor = try f.value("initializer_factor", initializerFactor)
    padTokenId = try f.optional("pad_token_id", padTokenId)
    bosTokenId = try f.optional("bos_token_id", bosTokenId)
    eosTokenId = try f.optional("eos_token_id", eosTokenId)
    extra = try f.extras()
  }
}

/// `config.json` of a transformers `CLIPVisionModel` (or the `vision_config` of a `CLIPModel`).
public struct CLIPVisionConfig: Decodable, Sendable, Equatable {
  public var hiddenSize = 768
  public var intermediateSize = 3072
  public var projectionDim = 512
  public var numHiddenLayers = 12
  public var numAttentionHeads = 12
  public var numChannels = 3
  public var imageSize = 224
  public var patchSize = 32
  public var hiddenAct = "quick_gelu"
  public var layerNormEps = 1e-5
  public var attentionDropout = 0.0
  public var initializerRange = 0.02
  public var initializerFactor = 1.0
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `CLIPVisionConfig()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    hiddenSize = try f.value("hidden_size", hiddenSize)
    intermediateSize = try f.value("intermediate_size", intermediateSize)
    projectionDim = try f.value("projection_dim", projectionDim)
    numHiddenLayers = try f.value("num_hidden_layers", numHiddenLayers)
    numAttentionHeads = try f.value("num_attention_heads", numAttentionHeads)
    numChannels = try f.value("num_channels", numChannels)
    imageSize = try f.value("image_size", imageSize)
    patchSize = try f.value("patch_size", patchSize)
    hiddenAct = try f.value("hidden_act", hiddenAct)
    layerNormEps = try f.value("layer_norm_eps", layerNormEps)
    attentionDropout = try f.value("attention_dropout", attentionDropout)
    initializerRange = try f.value("initializer_range", initializerRange)
    initializerFactor = try f.value("initializer_factor", initializerFactor)
    extra = try f.extras()
  }
}

/// `config.json` of a transformers `CLIPModel`: text and vision towers plus the projection.
public struct CLIPConfig: Decodable, Sendable, Equatable {
  public var architectures: [String]? = nil
  public var textConfig = CLIPTextConfig()
  public var visionConfig = CLIPVisionConfig()
  public var projectionDim = 512
  public var logitScaleInitValue = 2.6592
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `CLIPConfig()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    architectures = try f.optional("architectures")
    textConfig = try f.value("text_config", textConfig)
    visionConfig = try f.value("vision_config", visionConfig)
    projectionDim = try f.value("projection_dim", projectionDim)
    logitScaleInitValue = try f.value("logit_scale_init_value", logitScaleInitValue)
    extra = try f.extras()
  }
}

/// `config.json` of a transformers `BertModel` (MiniLM sentence encoders use it too).
public struct BertConfig: Decodable, Sendable, Equatable {
  public var architectures: [String]? = nil
  public var modelType: String? = nil
  public var vocabSize = 30522
  public var hiddenSize = 768
  public var numHiddenLayers = 12
  public var numAttentionHeads = 12
  public var intermediateSize = 3072
  public var hiddenAct = "gelu"
  public var hiddenDropoutProb = 0.1
  public var attentionProbsDropoutProb = 0.1
  public var maxPositionEmbeddings = 512
  public var typeVocabSize = 2
  public var initializerRange = 0.02
  public var layerNormEps = 1e-12
  public var padTokenId: Int? = 0
  public var positionEmbeddingType = "absolute"
  public var useCache = true
  public var classifierDropout: Double? = nil
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `BertConfig()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    architectures = try f.optional("architectures")
    modelType = try f.optional("model_type")
    vocabSize = try f.value("vocab_size", vocabSize)
    hiddenSize = try f.value("hidden_size", hiddenSize)
    numHiddenLayers = try f.value("num_hidden_layers", numHiddenLayers)
    numAttentionHeads = try f.value("num_attention_heads", numAttentionHeads)
    intermediateSize = try f.value("intermediate_size", intermediateSize)
    hiddenAct = try f.value("hidden_act", hiddenAct)
    hiddenDropoutProb = try f.value("hidden_dropout_prob", hiddenDropoutProb)
    attentionProbsDropoutProb = try f.value("attention_probs_dropout_prob", attentionProbsDropoutProb)
    maxPositionEmbeddings = try f.value("max_position_embeddings", maxPositionEmbeddings)
    typeVocabSize = try f.value("type_vocab_size", typeVocabSize)
    initializerRange = try f.value("initializer_range", initializerRange)
    layerNormEps = try f.value("layer_norm_eps", layerNormEps)
    padTokenId = try f.optional("pad_token_id", padTokenId)
    positionEmbeddingType = try f.value("position_embedding_type", positionEmbeddingType)
    useCache = try f.value("use_cache", useCache)
    classifierDropout = try f.optional("classifier_dropout")
    extra = try f.extras()
  }
}

/// `config.json` of a transformers `MPNetModel`.
public struct MPNetConfig: Decodable, Sendable, Equatable {
  public var architectures: [String]? = nil
  public var modelType: String? = nil
  public var vocabSize = 30527
  public var hiddenSize = 768
  public var numHiddenLayers = 12
  public var numAttentionHeads = 12
  public var intermediateSize = 3072
  public var hiddenAct = "gelu"
  public var hiddenDropoutProb = 0.1
  public var attentionProbsDropoutProb = 0.1
  public var maxPositionEmbeddings = 512
  public var initializerRange = 0.02
  public var layerNormEps = 1e-12
  public var relativeAttentionNumBuckets = 32
  public var padTokenId: Int? = 1
  public var bosTokenId: Int? = 0
  public var eosTokenId: Int? = 2
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `MPNetConfig()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    architectures = try f.optional("architectures")
    modelType = try f.optional("model_type")
    vocabSize = try f.value("vocab_size", vocabSize)
    hiddenSize = try f.value("hidden_size", hiddenSize)
    numHiddenLayers = try f.value("num_hidden_layers", numHiddenLayers)
    numAttentionHeads = try f.value("num_attention_heads", numAttentionHeads)
    intermediateSize = try f.value("intermediate_size", intermediateSize)
    hiddenAct = try f.value("hidden_act", hiddenAct)
    hiddenDropoutProb = try f.value("hidden_dropout_prob", hiddenDropoutProb)
    attentionProbsDropoutProb = try f.value("attention_probs_dropout_prob", attentionProbsDropoutProb)
    maxPositionEmbeddings = try f.value("max_position_embeddings", maxPositionEmbeddings)
    initializerRange = try f.value("initializer_range", initializerRange)
    layerNormEps = try f.value("layer_norm_eps", layerNormEps)
    relativeAttentionNumBuckets = try f.value("relative_attention_num_buckets", relativeAttentionNumBuckets)
    padTokenId = try f.optional("pad_token_id", padTokenId)
    bosTokenId = try f.optional("bos_token_id", bosTokenId)
    eosTokenId = try f.optional("eos_token_id", eosTokenId)
    extra = try f.extras()
  }
}

/// `1_Pooling/config.json` of a sentence-transformers model.
public struct PoolingConfig: Decodable, Sendable, Equatable {
  public var wordEmbeddingDimension: Int
  public var poolingModeCLSToken = false
  public var poolingModeMaxTokens = false
  public var poolingModeMeanTokens = true
  public var poolingModeMeanSqrtLenTokens = false
  public var poolingModeWeightedMeanTokens = false
  public var poolingModeLastToken = false
  public var includePrompt = true
  public var extra: [String: ConfigValue] = [:]

  /// Mean pooling over `dimension`-wide token embeddings (sentence-transformers' default mode).
  public init(wordEmbeddingDimension: Int) { self.wordEmbeddingDimension = wordEmbeddingDimension }

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    guard let dimension: Int = try f.optional("word_embedding_dimension") else {
      throw DecodingError.keyNotFound(
        AnyKey("word_embedding_dimension"), .init(codingPath: decoder.codingPath, debugDescription: "required"))
    }
    wordEmbeddingDimension = dimension
    // `pooling_mode` ("mean", "cls", "max", ...) overrides the flags, as in sentence-transformers.
    let mode: String? = try f.optional("pooling_mode")
    poolingModeCLSToken = try f.value("pooling_mode_cls_token", mode.map { $0 == "cls" } ?? false)
    poolingModeMaxTokens = try f.value("pooling_mode_max_tokens", mode.map { $0 == "max" } ?? false)
    poolingModeMeanTokens = try f.value("pooling_mode_mean_tokens", mode.map { $0 == "mean" } ?? true)
    poolingModeMeanSqrtLenTokens = try f.value("pooling_mode_mean_sqrt_len_tokens", mode.map { $0 == "mean_sqrt_len_tokens" } ?? false)
    poolingModeWeightedMeanTokens = try f.value("pooling_mode_weightedmean_tokens", mode.map { $0 == "weightedmean" } ?? false)
    poolingModeLastToken = try f.value("pooling_mode_lasttoken", mode.map { $0 == "lasttoken" } ?? false)
    includePrompt = try f.value("include_prompt", includePrompt)
    extra = try f.extras()
  }

  /// The enabled modes, in sentence-transformers' concatenation order.
  public var modes: [String] {
    [
      (poolingModeCLSToken, "cls"), (poolingModeMaxTokens, "max"), (poolingModeMeanTokens, "mean"),
      (poolingModeMeanSqrtLenTokens, "mean_sqrt_len_tokens"), (poolingModeWeightedMeanTokens, "weightedmean"),
      (poolingModeLastToken, "lasttoken"),
    ].filter(\.0).map(\.1)
  }
}

/// One entry of a sentence-transformers `modules.json`.
public struct SentenceTransformerModule: Decodable, Sendable, Equatable {
  public var idx: Int
  public var name: String
  /// Folder of the module relative to the model folder (`""` for the transformer itself).
  public var path: String
  /// Python class, e.g. `sentence_transformers.models.Pooling`.
  public var type: String

  public init(idx: Int, name: String, path: String, type: String) {
    self.idx = idx
    self.name = name
    self.path = path
    self.type = type
  }

  /// The class name without its module (`Pooling`).
  public var shortType: String { type.split(separator: ".").last.map(String.init) ?? type }
}

/// `sentence_bert_config.json` of a sentence-transformers model.
public struct SentenceBertConfig: Decodable, Sendable, Equatable {
  public var maxSeqLength: Int? = nil
  public var doLowerCase = false
  public var extra: [String: ConfigValue] = [:]

  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    maxSeqLength = try f.optional("max_seq_length")
    doLowerCase = try f.value("do_lower_case", doLowerCase)
    extra = try f.extras()
  }
}
