// AutoencoderKL: diffusers' VAE — encoder to a diagonal Gaussian over latents, decoder back to images.

import Formats
import NN
import TensorCore

/// The latent distribution `encode` returns: mean and log-variance (clamped to [-30, 20]).
public struct DiagonalGaussian {
  public let mean: Tensor, logvar: Tensor

  public var std: Tensor { get throws { try logvar.scaled(0.5).exp() } }

  /// mean + std · ε with ε ~ N(0, 1) from `generator`.
  public func sample(generator: Generator) throws -> Tensor {
    try mean + std * Tensor.randn(mean.shape, generator: generator)
  }
}

/// The encoder or decoder half: conv_in, stage blocks and mid block (order depends on the half), GroupNorm, SiLU, conv_out.
final class VAECoder: Module {
  let convIn: Conv2d, stages: [VAEStage], mid: VAEMidBlock, normOut: GroupNorm, convOut: Conv2d
  let isEncoder: Bool

  init(encoder: Bool, _ c: AutoencoderKLConfig, generator: Generator) throws {
    isEncoder = encoder
    let ch = c.blockOutChannels, n = ch.count, g = c.normNumGroups
    if encoder {
      convIn = try Conv2d(c.inChannels, ch[0], kernel: 3, padding: 1, generator: generator)
      stages = try (0..<n).map { i in
        try VAEStage(
          layers: c.layersPerBlock, inChannels: i == 0 ? ch[0] : ch[i - 1], outChannels: ch[i], groups: g, down: true,
          resample: i < n - 1, generator: generator)
      }
      normOut = try GroupNorm(groups: g, channels: ch[n - 1], eps: 1e-6)
      convOut = try Conv2d(ch[n - 1], 2 * c.latentChannels, kernel: 3, padding: 1, generator: generator)
    } else {
      let r = Array(ch.reversed())
      convIn = try Conv2d(c.latentChannels, r[0], kernel: 3, padding: 1, generator: generator)
      stages = try (0..<n).map { i in
        try VAEStage(
          layers: c.layersPerBlock + 1, inChannels: i == 0 ? r[0] : r[i - 1], outChannels: r[i], groups: g, down: false,
          resample: i < n - 1, generator: generator)
      }
      normOut = try GroupNorm(groups: g, channels: ch[0], eps: 1e-6)
      convOut = try Conv2d(ch[0], c.outChannels, kernel: 3, padding: 1, generator: generator)
    }
    mid = try VAEMidBlock(channels: ch[n - 1], groups: g, attention: c.midBlockAddAttention, generator: generator)
    super.init()
    registerModule("conv_in", convIn)
    registerModule(encoder ? "down_blocks" : "up_blocks", ModuleList(stages))
    registerModule("mid_block", mid)
    registerModule("conv_norm_out", normOut)
    registerModule("conv_out", convOut)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    var h = try convIn(x)
    if isEncoder {
      for s in stages { h = try s(h) }
      h = try mid(h)
    } else {
      h = try mid(h)
      for s in stages { h = try s(h) }
    }
    return try convOut(normOut.forwardSiLU(h))
  }
}

/// diffusers' `AutoencoderKL` with its parameter names. `scalingFactor` is not applied by
/// encode/decode; pipelines multiply latents by it after encoding and divide before decoding.
public final class AutoencoderKL: Module {
  public let config: AutoencoderKLConfig
  let encoder: VAECoder, decoder: VAECoder
  let quantConv: Conv2d?, postQuantConv: Conv2d?

  public var scalingFactor: Float { Float(config.scalingFactor) }
  /// Image pixels per latent pixel along each side.
  public var downsamplingFactor: Int { 1 << (config.blockOutChannels.count - 1) }

  public init(_ config: AutoencoderKLConfig, generator: Generator = Generator(seed: 0)) throws {
    let problems = Self.unsupported(config)
    guard problems.isEmpty else { throw DiffusionError("AutoencoderKL config: " + problems.joined(separator: "; ")) }
    self.config = config
    encoder = try VAECoder(encoder: true, config, generator: generator)
    decoder = try VAECoder(encoder: false, config, generator: generator)
    let z = config.latentChannels
    quantConv = config.useQuantConv ? try Conv2d(2 * z, 2 * z, kernel: 1, generator: generator) : nil
    postQuantConv = config.usePostQuantConv ? try Conv2d(z, z, kernel: 1, generator: generator) : nil
    super.init()
    registerModule("encoder", encoder)
    registerModule("decoder", decoder)
    if let quantConv { registerModule("quant_conv", quantConv) }
    if let postQuantConv { registerModule("post_quant_conv", postQuantConv) }
  }

  static func unsupported(_ c: AutoencoderKLConfig) -> [String] {
    var p: [String] = []
    if c.blockOutChannels.isEmpty { p.append("block_out_channels is empty") }
    if c.downBlockTypes.count != c.blockOutChannels.count || c.upBlockTypes.count != c.blockOutChannels.count {
      p.append("down/up_block_types need one entry per block_out_channels value")
    }
    for t in c.downBlockTypes where t != "DownEncoderBlock2D" { p.append("down block \"\(t)\" is not supported (DownEncoderBlock2D)") }
    for t in c.upBlockTypes where t != "UpDecoderBlock2D" { p.append("up block \"\(t)\" is not supported (UpDecoderBlock2D)") }
    if c.actFn != "silu" { p.append("act_fn \"\(c.actFn)\" is not supported (silu)") }
    if c.normNumGroups <= 0 || c.blockOutChannels.contains(where: { $0 % max(c.normNumGroups, 1) != 0 }) {
      p.append("block_out_channels \(c.blockOutChannels) must be divisible by norm_num_groups \(c.normNumGroups)")
    }
    return p
  }

  /// Loads a diffusers `vae/` folder.
  public static func load(folder: String) throws -> AutoencoderKL {
    let model = try AutoencoderKL(try loadConfig(AutoencoderKLConfig.self, from: folder + "/config.json"))
    try model.load(from: try SafetensorsCheckpoint.open(folder))
    model.eval()
    return model
  }

  public override var summary: String {
    "AutoencoderKL(\(config.inChannels) <-> \(config.latentChannels) latent channels, /\(downsamplingFactor))"
  }

  /// Images [B, in, H, W] (in [-1, 1]) -> the latent distribution at H/f x W/f.
  public func encode(_ x: Tensor) throws -> DiagonalGaussian {
    guard x.rank == 4, x.shape[1] == config.inChannels else {
      throw DiffusionError("VAE input must be [batch, \(config.inChannels), height, width], got \(x.shape)")
    }
    let f = downsamplingFactor
    guard x.shape[2] % f == 0, x.shape[3] % f == 0 else {
      throw DiffusionError("image size \(x.shape[2])x\(x.shape[3]) is not divisible by the VAE's factor \(f)")
    }
    var moments = try encoder(x)
    if let quantConv { moments = try quantConv(moments) }
    let halves = try moments.chunk(2, axis: 1)
    return DiagonalGaussian(mean: halves[0], logvar: try halves[1].clamp(min: -30, max: 20))
  }

  /// Latents [B, latent, h, w] (already divided by the scaling factor) -> images [B, out, h·f, w·f].
  public func decode(_ z: Tensor) throws -> Tensor {
    guard z.rank == 4, z.shape[1] == config.latentChannels else {
      throw DiffusionError("latents must be [batch, \(config.latentChannels), height, width], got \(z.shape)")
    }
    return try decoder(postQuantConv.map { try $0(z) } ?? z)
  }
}
