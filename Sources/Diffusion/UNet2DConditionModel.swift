// UNet2DConditionModel: diffusers' conditional UNet — time embedding, down/mid/up blocks, skips — built from its config.

import Foundation
import Formats
import NN
import TensorCore

/// The output of one UNet call: the prediction and, when requested, the intermediate tensors
/// under the names of the goldens (`time_embedding`, `down_blocks.1.res_samples.0`, `mid_block`, ...).
public struct UNetOutput {
  public let sample: Tensor
  public let intermediates: [String: Tensor]
}

/// diffusers' `UNet2DConditionModel` for the configurations Stable Diffusion 1.x/2.x and the
/// project's small models use, with diffusers' parameter names so checkpoints load unchanged.
public final class UNet2DConditionModel: Module {
  public let config: UNet2DConditionConfig
  let timeLinear1: Linear, timeLinear2: Linear
  let convIn: Conv2d, convNormOut: GroupNorm, convOut: Conv2d
  public let downBlocks: [UNetDownBlock]
  public let midBlock: UNetMidBlock
  public let upBlocks: [UNetUpBlock]

  /// Input channels to the time embedding (block_out_channels[0]) and its width (4x that).
  public var timeProjectionDim: Int { config.blockOutChannels[0] }
  public var timeEmbeddingDim: Int { config.blockOutChannels[0] * 4 }
  /// The factor every spatial size must be divisible by (2 per downsampling block).
  public var downsamplingFactor: Int { 1 << downBlocks.filter { $0.downsampler != nil }.count }

  /// A randomly initialised model of `config`; unsupported options are named in the error.
  public init(_ config: UNet2DConditionConfig, generator: Generator = Generator(seed: 0)) throws {
    try UNetConfigCheck.validate(config)
    self.config = config
    let widths = try UNetLayerWidths(config: config)
    try widths.validate(against: config)
    let channels = config.blockOutChannels, n = channels.count
    let groups = config.normNumGroups ?? 32, eps = Float(config.normEps)
    let heads = config.headsPerBlock, layers = config.layersPerBlock.perBlock(n)
    let contextDims = config.crossAttentionDim.perBlock(n), transformerLayers = config.transformerLayersPerBlock.perBlock(n)
    timeLinear1 = try Linear(channels[0], channels[0] * 4, generator: generator)
    timeLinear2 = try Linear(channels[0] * 4, channels[0] * 4, generator: generator)
    let k = config.convInKernel, ko = config.convOutKernel
    convIn = try Conv2d(config.inChannels, channels[0], kernel: k, padding: (k - 1) / 2, generator: generator)
    func settings(_ i: Int, heads h: Int, context: Int, transformer: Int) -> BlockSettings {
      BlockSettings(
        timeChannels: channels[0] * 4, groups: groups, eps: eps, heads: h, contextDim: context, transformerLayers: transformer,
        linearProjection: config.useLinearProjection, widths: widths, generator: generator)
    }
    var downs: [UNetDownBlock] = []
    for (i, kind) in config.downBlockTypes.enumerated() {
      downs.append(
        try UNetDownBlock(
          path: "down_blocks.\(i)", kind: kind, layers: layers[i], inChannels: i == 0 ? channels[0] : channels[i - 1], outChannels: channels[i],
          downsample: i < n - 1, padding: config.downsamplePadding,
          settings(i, heads: heads[i], context: contextDims[i], transformer: transformerLayers[i])))
    }
    downBlocks = downs
    midBlock = try UNetMidBlock(
      channels: channels[n - 1], scale: Float(config.midBlockScaleFactor),
      settings(n - 1, heads: heads[n - 1], context: contextDims[n - 1], transformer: transformerLayers[n - 1]))
    var ups: [UNetUpBlock] = []
    let rc = Array(channels.reversed()), rh = Array(heads.reversed()), rl = Array(layers.reversed())
    let rContext = Array(contextDims.reversed()), rTransformer = Array(transformerLayers.reversed())
    for (i, kind) in config.upBlockTypes.enumerated() {
      ups.append(
        try UNetUpBlock(
          path: "up_blocks.\(i)", kind: kind, layers: rl[i] + 1, inChannels: rc[Swift.min(i + 1, n - 1)], outChannels: rc[i],
          previousChannels: i == 0 ? rc[0] : rc[i - 1], upsample: i < n - 1,
          settings(i, heads: rh[i], context: rContext[i], transformer: rTransformer[i])))
    }
    upBlocks = ups
    convNormOut = try GroupNorm(groups: groups, channels: channels[0], eps: eps)
    convOut = try Conv2d(channels[0], config.outChannels, kernel: ko, padding: (ko - 1) / 2, generator: generator)
    super.init()
    registerModule("conv_in", convIn)
    registerModule("time_embedding", ModuleGroup([("linear_1", timeLinear1), ("linear_2", timeLinear2)]))
    registerModule("down_blocks", ModuleList(downBlocks))
    registerModule("up_blocks", ModuleList(upBlocks))
    registerModule("mid_block", midBlock)
    registerModule("conv_norm_out", convNormOut)
    registerModule("conv_out", convOut)
  }

  /// Loads a diffusers model folder (`config.json` + `diffusion_pytorch_model.safetensors`).
  public static func load(folder: String) throws -> UNet2DConditionModel {
    let model = try UNet2DConditionModel(try loadConfig(UNet2DConditionConfig.self, from: folder + "/config.json"))
    try model.load(from: try SafetensorsCheckpoint.open(folder))
    model.eval()
    return model
  }

  public override var summary: String {
    "UNet2DConditionModel(\(config.inChannels) -> \(config.outChannels), channels \(config.blockOutChannels), heads \(config.headsPerBlock))"
  }

  /// The block outputs block distillation compares (9 for SD): each down block, the mid block,
  /// each up block — names of `forward(..., intermediates: true)`.
  public var blockOutputNames: [String] {
    (0..<downBlocks.count).map { "down_blocks.\($0).hidden_states" } + ["mid_block"] + (0..<upBlocks.count).map { "up_blocks.\($0)" }
  }

  /// Sinusoidal timestep features [B, block_out_channels[0]] (diffusers' `Timesteps`).
  public func timeProjection(_ timesteps: [Float]) -> Tensor {
    Timesteps.embedding(timesteps, dim: timeProjectionDim, flipSinToCos: config.flipSinToCos, shift: Float(config.freqShift))
  }

  /// The noise (or v) prediction for `sample` [B, C, H, W] at `timesteps` (one per sample, or
  /// one for all) given `context` [B, L, cross_attention_dim]. `contextMask` [B, L] (1 = keep)
  /// hides padding tokens from cross-attention like diffusers' `encoder_attention_mask`.
  public func forward(
    _ sample: Tensor, timesteps: [Float], context: Tensor, contextMask: Tensor? = nil, intermediates: Bool = false,
    gates: UNetGates? = nil
  ) throws -> UNetOutput {
    try checkInputs(sample, timesteps: timesteps, context: context, contextMask: contextMask)
    var inter: [String: Tensor] = [:]
    let b = sample.shape[0]
    let tProj = timeProjection(timesteps.count == 1 ? Array(repeating: timesteps[0], count: b) : timesteps)
    let temb = try timeLinear2(countedSiLU(timeLinear1(tProj)))
    let c = BlockContext(temb: temb, context: context, contextMask: try contextMask.map(Self.additiveMask), gates: gates)
    var h = try convIn(config.centerInputSample ? sample.scaled(2) - 1 : sample)
    if intermediates { inter.merge(["time_proj": tProj, "time_embedding": temb, "conv_in": h]) { a, _ in a } }
    var skips = [h]
    for (i, block) in downBlocks.enumerated() {
      let (out, res) = try block.forward(h, c)
      h = out
      skips += res
      if intermediates {
        inter["down_blocks.\(i).hidden_states"] = out
        for (j, r) in res.enumerated() { inter["down_blocks.\(i).res_samples.\(j)"] = r }
      }
    }
    h = try midBlock.forward(h, c)
    if intermediates { inter["mid_block"] = h }
    for (i, block) in upBlocks.enumerated() {
      let mine = Array(skips.suffix(block.skipCount))
      skips.removeLast(block.skipCount)
      let size = skips.last.map { ($0.shape[2], $0.shape[3]) }
      h = try block.forward(h, skips: mine, upsampleTo: size, c)
      if intermediates { inter["up_blocks.\(i)"] = h }
    }
    guard intermediates else { return UNetOutput(sample: try convOut(convNormOut.forwardSiLU(h)), intermediates: inter) }
    let normed = try convNormOut(h)
    inter["conv_norm_out"] = normed
    return UNetOutput(sample: try convOut(countedSiLU(normed)), intermediates: inter)
  }

  /// diffusers turns a 0/1 token mask into an additive bias of -10000 on dropped tokens: [B, 1, 1, L].
  static func additiveMask(_ mask: Tensor) throws -> Tensor {
    let m = mask.toArray()
    return try Tensor.from(m.map { (1 - $0) * -10_000 }, shape: [mask.shape[0], 1, 1, mask.shape[mask.rank - 1]])
  }
}

