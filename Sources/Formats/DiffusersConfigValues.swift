// DiffusersConfigValues: writing typed diffusers configs back as config.json trees.

extension OneOrMany where Element == Int {
  var configValue: ConfigValue {
    switch self {
    case .one(let v): return .int(v)
    case .many(let vs): return .list(vs.map { .int($0) })
    }
  }
}

extension OneOrMany where Element == Bool {
  var configValue: ConfigValue {
    switch self {
    case .one(let v): return .bool(v)
    case .many(let vs): return .list(vs.map { .bool($0) })
    }
  }
}

extension UNet2DConditionConfig {
  /// The config as diffusers writes `config.json` (the keys this project models, plus `extra`).
  public var configValue: ConfigValue {
    let strings = { (v: [String]) in ConfigValue.list(v.map { .string($0) }) }
    let optionalInt = { (v: Int?) in v.map { ConfigValue.int($0) } ?? .null }
    let optionalString = { (v: String?) in v.map { ConfigValue.string($0) } ?? .null }
    var pairs: [(String, ConfigValue)] = [
      ("_class_name", .string(className ?? "UNet2DConditionModel")),
      ("sample_size", sampleSize?.configValue ?? .null), ("in_channels", .int(inChannels)), ("out_channels", .int(outChannels)),
      ("center_input_sample", .bool(centerInputSample)), ("flip_sin_to_cos", .bool(flipSinToCos)), ("freq_shift", .int(freqShift)),
      ("down_block_types", strings(downBlockTypes)), ("mid_block_type", optionalString(midBlockType)),
      ("up_block_types", strings(upBlockTypes)), ("only_cross_attention", onlyCrossAttention.configValue),
      ("block_out_channels", .list(blockOutChannels.map { .int($0) })), ("layers_per_block", layersPerBlock.configValue),
      ("downsample_padding", .int(downsamplePadding)), ("mid_block_scale_factor", .double(midBlockScaleFactor)),
      ("dropout", .double(dropout)), ("act_fn", .string(actFn)), ("norm_num_groups", optionalInt(normNumGroups)),
      ("norm_eps", .double(normEps)), ("cross_attention_dim", crossAttentionDim.configValue),
      ("transformer_layers_per_block", transformerLayersPerBlock.configValue),
      ("attention_head_dim", attentionHeadDim.configValue), ("num_attention_heads", numAttentionHeads?.configValue ?? .null),
      ("dual_cross_attention", .bool(dualCrossAttention)), ("use_linear_projection", .bool(useLinearProjection)),
      ("class_embed_type", optionalString(classEmbedType)), ("addition_embed_type", optionalString(additionEmbedType)),
      ("num_class_embeds", optionalInt(numClassEmbeds)), ("upcast_attention", .bool(upcastAttention)),
      ("resnet_time_scale_shift", .string(resnetTimeScaleShift)), ("time_embedding_type", .string(timeEmbeddingType)),
      ("conv_in_kernel", .int(convInKernel)), ("conv_out_kernel", .int(convOutKernel)),
      ("encoder_hid_dim", optionalInt(encoderHidDim)), ("encoder_hid_dim_type", optionalString(encoderHidDimType)),
      ("reverse_transformer_layers_per_block", reverseTransformerLayersPerBlock.map { .list($0.map { .list($0.map { .int($0) }) }) } ?? .null),
      ("addition_time_embed_dim", optionalInt(additionTimeEmbedDim)), ("resnet_skip_time_act", .bool(resnetSkipTimeAct)),
      ("resnet_out_scale_factor", .double(resnetOutScaleFactor)), ("time_embedding_dim", optionalInt(timeEmbeddingDim)),
      ("time_embedding_act_fn", optionalString(timeEmbeddingActFn)), ("timestep_post_act", optionalString(timestepPostAct)),
      ("time_cond_proj_dim", optionalInt(timeCondProjDim)),
      ("projection_class_embeddings_input_dim", optionalInt(projectionClassEmbeddingsInputDim)),
      ("attention_type", .string(attentionType)), ("class_embeddings_concat", .bool(classEmbeddingsConcat)),
      ("mid_block_only_cross_attention", midBlockOnlyCrossAttention.map { .bool($0) } ?? .null),
      ("cross_attention_norm", optionalString(crossAttentionNorm)), ("addition_embed_type_num_heads", .int(additionEmbedTypeNumHeads)),
    ]
    let known = Set(pairs.map(\.0))
    pairs += extra.sorted { $0.key < $1.key }.filter { !known.contains($0.key) }.map { ($0.key, $0.value) }
    return .map(ConfigMap(pairs))
  }
}
