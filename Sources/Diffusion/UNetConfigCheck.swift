// UNetConfigCheck: which UNet2DConditionModel options this implementation builds, and the input checks of a call.

import Formats
import TensorCore

/// Rejects configs this implementation would silently get wrong, listing every problem at once.
enum UNetConfigCheck {
  static let downKinds: Set = ["CrossAttnDownBlock2D", "DownBlock2D"]
  static let upKinds: Set = ["CrossAttnUpBlock2D", "UpBlock2D"]

  static func validate(_ c: UNet2DConditionConfig) throws {
    var problems: [String] = []
    let n = c.blockOutChannels.count
    if n == 0 { problems.append("block_out_channels is empty") }
    if c.downBlockTypes.count != n { problems.append("down_block_types has \(c.downBlockTypes.count) entries for \(n) block_out_channels") }
    if c.upBlockTypes.count != n { problems.append("up_block_types has \(c.upBlockTypes.count) entries for \(n) block_out_channels") }
    for t in c.downBlockTypes where !downKinds.contains(t) { problems.append("down block type \"\(t)\" is not supported (\(downKinds.sorted().joined(separator: ", ")))") }
    for t in c.upBlockTypes where !upKinds.contains(t) { problems.append("up block type \"\(t)\" is not supported (\(upKinds.sorted().joined(separator: ", ")))") }
    if c.midBlockType != "UNetMidBlock2DCrossAttn" { problems.append("mid_block_type \"\(c.midBlockType ?? "null")\" is not supported (UNetMidBlock2DCrossAttn)") }
    for (name, list) in [
      ("layers_per_block", c.layersPerBlock.listCount), ("attention_head_dim / num_attention_heads", (c.numAttentionHeads ?? c.attentionHeadDim).listCount),
      ("cross_attention_dim", c.crossAttentionDim.listCount), ("transformer_layers_per_block", c.transformerLayersPerBlock.listCount),
    ] {
      if let count = list, count != n { problems.append("\(name) lists \(count) values for \(n) blocks") }
    }
    let unsupported: [(Bool, String)] = [
      (c.actFn != "silu", "act_fn \"\(c.actFn)\" (silu)"),
      (c.timeEmbeddingType != "positional", "time_embedding_type \"\(c.timeEmbeddingType)\" (positional)"),
      (c.resnetTimeScaleShift != "default", "resnet_time_scale_shift \"\(c.resnetTimeScaleShift)\" (default)"),
      (c.classEmbedType != nil || c.numClassEmbeds != nil, "class embeddings"),
      (c.additionEmbedType != nil, "addition_embed_type \"\(c.additionEmbedType ?? "")\""),
      (c.encoderHidDim != nil, "encoder_hid_dim"),
      (c.dualCrossAttention, "dual_cross_attention"),
      (c.onlyCrossAttention.values.contains(true), "only_cross_attention"),
      (c.attentionType != "default", "attention_type \"\(c.attentionType)\""),
      (c.timeCondProjDim != nil, "time_cond_proj_dim"),
      (c.timeEmbeddingDim != nil, "time_embedding_dim"),
      (c.timeEmbeddingActFn != nil || c.timestepPostAct != nil, "time embedding activations"),
      (c.resnetOutScaleFactor != 1 || c.resnetSkipTimeAct, "resnet_out_scale_factor / resnet_skip_time_act"),
      (c.crossAttentionNorm != nil, "cross_attention_norm"),
      (c.reverseTransformerLayersPerBlock != nil, "reverse_transformer_layers_per_block"),
      (c.convInKernel % 2 == 0 || c.convOutKernel % 2 == 0, "even conv_in/conv_out kernels"),
    ]
    problems += unsupported.filter(\.0).map { "unsupported option: \($0.1)" }
    guard problems.isEmpty else { throw DiffusionError("UNet2DConditionModel config: " + problems.joined(separator: "; ")) }
  }
}

extension UNet2DConditionModel {
  /// Shapes of one call: sample [B, in, H, W] with H, W divisible by the downsampling factor,
  /// timesteps one or B, context [B, L, cross_attention_dim], mask [B, L].
  func checkInputs(_ sample: Tensor, timesteps: [Float], context: Tensor, contextMask: Tensor?) throws {
    guard sample.rank == 4, sample.shape[1] == config.inChannels else {
      throw DiffusionError("sample must be [batch, \(config.inChannels), height, width], got \(sample.shape)")
    }
    let f = downsamplingFactor, (b, h, w) = (sample.shape[0], sample.shape[2], sample.shape[3])
    guard h > 0, w > 0, h % f == 0, w % f == 0 else {
      throw DiffusionError("sample size \(h)x\(w) is not divisible by the UNet's downsampling factor \(f)")
    }
    guard timesteps.count == 1 || timesteps.count == b else {
      throw DiffusionError("got \(timesteps.count) timesteps for a batch of \(b) (give one, or one per sample)")
    }
    let width = config.crossAttentionDim.perBlock(config.blockOutChannels.count)[0]
    guard context.rank == 3, context.shape[0] == b, context.shape[2] == width else {
      throw DiffusionError("context (encoder_hidden_states) must be [\(b), tokens, \(width)], got \(context.shape)")
    }
    if let m = contextMask, m.shape != [b, context.shape[1]] {
      throw DiffusionError("context mask must be [\(b), \(context.shape[1])], got \(m.shape)")
    }
  }
}
