// DiffusersConfigs: typed diffusers configs (UNet2DConditionModel, AutoencoderKL, schedulers) with diffusers'
// own defaults for missing keys; unknown keys stay available in `extra`.

/// `unet/config.json` of a diffusers `UNet2DConditionModel`. Defaults are those of its `__init__`.
public struct UNet2DConditionConfig: Decodable, Sendable, Equatable {
  public var className: String? = nil
  public var sampleSize: OneOrMany<Int>? = nil
  public var inChannels = 4
  public var outChannels = 4
  public var centerInputSample = false
  public var flipSinToCos = true
  public var freqShift = 0
  public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
  public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
  public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
  public var onlyCrossAttention = OneOrMany<Bool>.one(false)
  public var blockOutChannels = [320, 640, 1280, 1280]
  public var layersPerBlock = OneOrMany<Int>.one(2)
  public var downsamplePadding = 1
  public var midBlockScaleFactor = 1.0
  public var dropout = 0.0
  public var actFn = "silu"
  public var normNumGroups: Int? = 32
  public var normEps = 1e-5
  public var crossAttentionDim = OneOrMany<Int>.one(1280)
  public var transformerLayersPerBlock = OneOrMany<Int>.one(1)
  public var reverseTransformerLayersPerBlock: [[Int]]? = nil
  public var encoderHidDim: Int? = nil
  public var encoderHidDimType: String? = nil
  /// Int or per-block list. For historical reasons diffusers uses it as the number of heads when
  /// `num_attention_heads` is null (see `headsPerBlock`).
  public var attentionHeadDim = OneOrMany<Int>.one(8)
  public var numAttentionHeads: OneOrMany<Int>? = nil
  public var dualCrossAttention = false
  public var useLinearProjection = false
  public var classEmbedType: String? = nil
  public var additionEmbedType: String? = nil
  public var additionTimeEmbedDim: Int? = nil
  public var numClassEmbeds: Int? = nil
  public var upcastAttention = false
  public var resnetTimeScaleShift = "default"
  public var resnetSkipTimeAct = false
  public var resnetOutScaleFactor = 1.0
  public var timeEmbeddingType = "positional"
  public var timeEmbeddingDim: Int? = nil
  public var timeEmbeddingActFn: String? = nil
  public var timestepPostAct: String? = nil
  public var timeCondProjDim: Int? = nil
  public var convInKernel = 3
  public var convOutKernel = 3
  public var projectionClassEmbeddingsInputDim: Int? = nil
  public var attentionType = "default"
  public var classEmbeddingsConcat = false
  public var midBlockOnlyCrossAttention: Bool? = nil
  public var crossAttentionNorm: String? = nil
  public var additionEmbedTypeNumHeads = 64
  /// Keys this struct does not model (e.g. `_diffusers_version`), as raw values.
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `UNet2DConditionModel()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    className = try f.optional("_class_name", className)
    sampleSize = try f.optional("sample_size", sampleSize)
    inChannels = try f.value("in_channels", inChannels)
    outChannels = try f.value("out_channels", outChannels)
    centerInputSample = try f.value("center_input_sample", centerInputSample)
    flipSinToCos = try f.value("flip_sin_to_cos", flipSinToCos)
    freqShift = try f.value("freq_shift", freqShift)
    downBlockTypes = try f.value("down_block_types", downBlockTypes)
    midBlockType = try f.optional("mid_block_type", midBlockType)
    upBlockTypes = try f.value("up_block_types", upBlockTypes)
    onlyCrossAttention = try f.value("only_cross_attention", onlyCrossAttention)
    blockOutChannels = try f.value("block_out_channels", blockOutChannels)
    layersPerBlock = try f.value("layers_per_block", layersPerBlock)
    downsamplePadding = try f.value("downsample_padding", downsamplePadding)
    midBlockScaleFactor = try f.value("mid_block_scale_factor", midBlockScaleFactor)
    dropout = try f.value("dropout", dropout)
    actFn = try f.value("act_fn", actFn)
    normNumGroups = try f.optional("norm_num_groups", normNumGroups)
    normEps = try f.value("norm_eps", normEps)
    crossAttentionDim = try f.value("cross_attention_dim", crossAttentionDim)
    transformerLayersPerBlock = try f.value("transformer_layers_per_block", transformerLayersPerBlock)
    reverseTransformerLayersPerBlock = try f.optional("reverse_transformer_layers_per_block")
    encoderHidDim = try f.optional("encoder_hid_dim")
    encoderHidDimType = try f.optional("encoder_hid_dim_type")
    attentionHeadDim = try f.value("attention_head_dim", attentionHeadDim)
    numAttentionHeads = try f.optional("num_attention_heads")
    dualCrossAttention = try f.value("dual_cross_attention", dualCrossAttention)
    useLinearProjection = try f.value("use_linear_projection", useLinearProjection)
    classEmbedType = try f.optional("class_embed_type")
    additionEmbedType = try f.optional("addition_embed_type")
    additionTimeEmbedDim = try f.optional("addition_time_embed_dim")
    numClassEmbeds = try f.optional("num_class_embeds")
    upcastAttention = try f.value("upcast_attention", upcastAttention)
    resnetTimeScaleShift = try f.value("resnet_time_scale_shift", resnetTimeScaleShift)
    resnetSkipTimeAct = try f.value("resnet_skip_time_act", resnetSkipTimeAct)
    resnetOutScaleFactor = try f.value("resnet_out_scale_factor", resnetOutScaleFactor)
    timeEmbeddingType = try f.value("time_embedding_type", timeEmbeddingType)
    timeEmbeddingDim = try f.optional("time_embedding_dim")
    timeEmbeddingActFn = try f.optional("time_embedding_act_fn")
    timestepPostAct = try f.optional("timestep_post_act")
    timeCondProjDim = try f.optional("time_cond_proj_dim")
    convInKernel = try f.value("conv_in_kernel", convInKernel)
    convOutKernel = try f.value("conv_out_kernel", convOutKernel)
    projectionClassEmbeddingsInputDim = try f.optional("projection_class_embeddings_input_dim")
    attentionType = try f.value("attention_type", attentionType)
    classEmbeddingsConcat = try f.value("class_embeddings_concat", classEmbeddingsConcat)
    midBlockOnlyCrossAttention = try f.optional("mid_block_only_cross_attention")
    crossAttentionNorm = try f.optional("cross_attention_norm")
    additionEmbedTypeNumHeads = try f.value("addition_embed_type_num_heads", additionEmbedTypeNumHeads)
    extra = try f.extras()
  }

  /// Attention heads per down block, as diffusers computes them: `num_attention_heads or attention_head_dim`.
  public var headsPerBlock: [Int] { (numAttentionHeads ?? attentionHeadDim).perBlock(downBlockTypes.count) }
}

/// `vae/config.json` of a diffusers `AutoencoderKL`. Defaults are those of its `__init__`.
public struct AutoencoderKLConfig: Decodable, Sendable, Equatable {
  public var className: String? = nil
  public var inChannels = 3
  public var outChannels = 3
  public var downBlockTypes = ["DownEncoderBlock2D"]
  public var upBlockTypes = ["UpDecoderBlock2D"]
  public var blockOutChannels = [64]
  public var layersPerBlock = 1
  public var actFn = "silu"
  public var latentChannels = 4
  public var normNumGroups = 32
  public var sampleSize = OneOrMany<Int>.one(32)
  public var scalingFactor = 0.18215
  public var shiftFactor: Double? = nil
  public var latentsMean: [Double]? = nil
  public var latentsStd: [Double]? = nil
  public var forceUpcast = true
  public var useQuantConv = true
  public var usePostQuantConv = true
  public var midBlockAddAttention = true
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of `AutoencoderKL()`.
  public init() {}

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    className = try f.optional("_class_name", className)
    inChannels = try f.value("in_channels", inChannels)
    outChannels = try f.value("out_channels", outChannels)
    downBlockTypes = try f.value("down_block_types", downBlockTypes)
    upBlockTypes = try f.value("up_block_types", upBlockTypes)
    blockOutChannels = try f.value("block_out_channels", blockOutChannels)
    layersPerBlock = try f.value("layers_per_block", layersPerBlock)
    actFn = try f.value("act_fn", actFn)
    latentChannels = try f.value("latent_channels", latentChannels)
    normNumGroups = try f.value("norm_num_groups", normNumGroups)
    sampleSize = try f.value("sample_size", sampleSize)
    scalingFactor = try f.value("scaling_factor", scalingFactor)
    shiftFactor = try f.optional("shift_factor")
    latentsMean = try f.optional("latents_mean")
    latentsStd = try f.optional("latents_std")
    forceUpcast = try f.value("force_upcast", forceUpcast)
    useQuantConv = try f.value("use_quant_conv", useQuantConv)
    usePostQuantConv = try f.value("use_post_quant_conv", usePostQuantConv)
    midBlockAddAttention = try f.value("mid_block_add_attention", midBlockAddAttention)
    extra = try f.extras()
  }
}

/// `scheduler/scheduler_config.json`. Defaults depend on `_class_name` the way each diffusers scheduler's
/// `__init__` sets them (DDPM, DDIM, PNDM, EulerDiscrete); keys a class does not use keep neutral values.
public struct SchedulerConfig: Decodable, Sendable, Equatable {
  public var className: String? = nil
  public var numTrainTimesteps = 1000
  public var betaStart = 0.0001
  public var betaEnd = 0.02
  public var betaSchedule = "linear"
  public var trainedBetas: [Double]? = nil
  public var predictionType = "epsilon"
  public var timestepSpacing = "leading"
  public var stepsOffset = 0
  public var setAlphaToOne = false
  public var skipPrkSteps = false
  public var clipSample = false
  public var clipSampleRange = 1.0
  public var thresholding = false
  public var dynamicThresholdingRatio = 0.995
  public var sampleMaxValue = 1.0
  public var rescaleBetasZeroSnr = false
  public var varianceType: String? = nil
  public var interpolationType = "linear"
  public var useKarrasSigmas = false
  public var finalSigmasType = "zero"
  public var extra: [String: ConfigValue] = [:]

  /// The defaults of the named scheduler class (nil: DDPM-like common defaults).
  public init(className: String? = nil) {
    self.className = className
    switch className {
    case "DDPMScheduler":
      clipSample = true
      varianceType = "fixed_small"
    case "DDIMScheduler":
      clipSample = true
      setAlphaToOne = true
    case "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler":
      timestepSpacing = "linspace"
    default: break
    }
  }

  public init(from decoder: Decoder) throws {
    var f = try ConfigFields(decoder)
    self.init(className: try f.optional("_class_name"))
    numTrainTimesteps = try f.value("num_train_timesteps", numTrainTimesteps)
    betaStart = try f.value("beta_start", betaStart)
    betaEnd = try f.value("beta_end", betaEnd)
    betaSchedule = try f.value("beta_schedule", betaSchedule)
    trainedBetas = try f.optional("trained_betas")
    predictionType = try f.value("prediction_type", predictionType)
    timestepSpacing = try f.value("timestep_spacing", timestepSpacing)
    stepsOffset = try f.value("steps_offset", stepsOffset)
    setAlphaToOne = try f.value("set_alpha_to_one", setAlphaToOne)
    skipPrkSteps = try f.value("skip_prk_steps", skipPrkSteps)
    clipSample = try f.value("clip_sample", clipSample)
    clipSampleRange = try f.value("clip_sample_range", clipSampleRange)
    thresholding = try f.value("thresholding", thresholding)
    dynamicThresholdingRatio = try f.value("dynamic_thresholding_ratio", dynamicThresholdingRatio)
    sampleMaxValue = try f.value("sample_max_value", sampleMaxValue)
    rescaleBetasZeroSnr = try f.value("rescale_betas_zero_snr", rescaleBetasZeroSnr)
    varianceType = try f.optional("variance_type", varianceType)
    interpolationType = try f.value("interpolation_type", interpolationType)
    useKarrasSigmas = try f.value("use_karras_sigmas", useKarrasSigmas)
    finalSigmasType = try f.value("final_sigmas_type", finalSigmasType)
    extra = try f.extras()
  }
}

/// Decodes a typed config from a JSON or YAML file.
public func loadConfig<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
  try ConfigLoader.load(type, from: path)
}
