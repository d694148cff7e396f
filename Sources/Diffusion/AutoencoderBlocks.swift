// AutoencoderBlocks: the VAE's single-head spatial self-attention, mid block, and encoder/decoder stage blocks.

import NN
import TensorCore

/// diffusers' `Attention` as the VAE uses it: GroupNorm over channels, one head over the H·W
/// positions with biased q/k/v, output projection, plus the input (`residual_connection`).
public final class SpatialSelfAttention: Module {
  public let channels: Int
  let groupNorm: GroupNorm
  let qkv: FusedProjections
  let out: Linear

  init(channels: Int, groups: Int, eps: Float, generator: Generator) throws {
    self.channels = channels
    groupNorm = try GroupNorm(groups: groups, channels: channels, eps: eps)
    qkv = try FusedProjections(count: 3, inFeatures: channels, outFeatures: channels, generator: generator)
    out = try Linear(channels, channels, generator: generator)
    super.init()
    registerModule("group_norm", groupNorm)
    registerModule("to_q", qkv.layers[0])
    registerModule("to_k", qkv.layers[1])
    registerModule("to_v", qkv.layers[2])
    registerModule("to_out", ModuleList([out]))
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let tokens = try groupNorm(x).reshape([b, c, h * w]).transpose(1, 2)
    let p = try qkv(tokens)
    let attended = try out(Tensor.multiHeadAttention(p[0], p[1], p[2], heads: 1))
    return try attended.transpose(1, 2).reshape([b, c, h, w]) + x
  }
}

/// `UNetMidBlock2D` without time embedding: resnet, (attention, resnet).
final class VAEMidBlock: Module {
  let resnets: [ResnetBlock2D], attention: SpatialSelfAttention?

  init(channels: Int, groups: Int, attention: Bool, generator: Generator) throws {
    resnets = try (0..<2).map { _ in
      try ResnetBlock2D(inChannels: channels, outChannels: channels, timeChannels: nil, groups: groups, eps: 1e-6, generator: generator)
    }
    self.attention = attention ? try SpatialSelfAttention(channels: channels, groups: groups, eps: 1e-6, generator: generator) : nil
    super.init()
    if let a = self.attention { registerModule("attentions", ModuleList([a])) }
    registerModule("resnets", ModuleList(resnets))
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    var h = try resnets[0](x)
    if let attention { h = try attention(h) }
    return try resnets[1](h)
  }
}

/// `DownEncoderBlock2D` (resnets, then a padded stride-2 conv) or `UpDecoderBlock2D` (resnets, then 2x upsampling).
final class VAEStage: Module {
  let resnets: [ResnetBlock2D]
  let downsampler: Downsample2D?, upsampler: Upsample2D?

  init(layers: Int, inChannels: Int, outChannels: Int, groups: Int, down: Bool, resample: Bool, generator: Generator) throws {
    resnets = try (0..<layers).map { i in
      try ResnetBlock2D(
        inChannels: i == 0 ? inChannels : outChannels, outChannels: outChannels, timeChannels: nil, groups: groups, eps: 1e-6,
        generator: generator)
    }
    downsampler = down && resample ? try Downsample2D(channels: outChannels, padding: 0, generator: generator) : nil
    upsampler = !down && resample ? try Upsample2D(channels: outChannels, generator: generator) : nil
    super.init()
    registerModule("resnets", ModuleList(resnets))
    if let downsampler { registerModule("downsamplers", ModuleList([downsampler])) }
    if let upsampler { registerModule("upsamplers", ModuleList([upsampler])) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    var h = x
    for r in resnets { h = try r(h) }
    if let downsampler { h = try downsampler(h) }
    if let upsampler { h = try upsampler(h) }
    return h
  }
}
