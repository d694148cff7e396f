// ResnetBlock: diffusers' ResnetBlock2D, Downsample2D and Upsample2D with their parameter names.

import NN
import TensorCore

/// GroupNorm → SiLU → conv1 → + time projection → GroupNorm → SiLU → conv2, plus a 1x1 shortcut
/// when the channel count changes (no time projection in the VAE); the sum is divided by `outputScale` (diffusers' defaults:
/// `resnet_time_scale_shift = "default"`, dropout inactive in eval).
public final class ResnetBlock2D: Module {
  public let inChannels: Int, outChannels: Int
  /// Channels between conv1 and conv2: `outChannels`, or fewer in a pruned expert.
  public let innerChannels: Int
  /// Channel groups of norm2: the width gate's granularity (the kept groups in a pruned expert).
  public var groups: Int { norm2.groups }
  let norm1: GroupNorm, conv1: Conv2d, timeProjection: Linear?, norm2: GroupNorm, conv2: Conv2d
  let shortcut: Conv2d?
  let outputScale: Float

  /// `keptGroups` (an expert's pruned width) keeps that many of norm2's `groups` channel groups
  /// between conv1 and conv2.
  public init(
    inChannels: Int, outChannels: Int, timeChannels: Int?, groups: Int, eps: Float, outputScale: Float = 1,
    keptGroups: Int? = nil, generator: Generator
  ) throws {
    for (c, what) in [(inChannels, "input"), (outChannels, "output")] where groups <= 0 || c % groups != 0 {
      throw DiffusionError("ResnetBlock2D: \(what) channels \(c) are not divisible by norm_num_groups \(groups)")
    }
    let kept = keptGroups ?? groups
    guard kept > 0, kept <= groups else { throw DiffusionError("ResnetBlock2D: kept groups \(kept) must be in 1...\(groups)") }
    let inner = kept * (outChannels / groups)
    (self.inChannels, self.outChannels, self.innerChannels, self.outputScale) = (inChannels, outChannels, inner, outputScale)
    norm1 = try GroupNorm(groups: groups, channels: inChannels, eps: eps)
    conv1 = try Conv2d(inChannels, inner, kernel: 3, padding: 1, generator: generator)
    timeProjection = try timeChannels.map { try Linear($0, inner, generator: generator) }
    norm2 = try GroupNorm(groups: kept, channels: inner, eps: eps)
    conv2 = try Conv2d(inner, outChannels, kernel: 3, padding: 1, generator: generator)
    shortcut = inChannels == outChannels ? nil : try Conv2d(inChannels, outChannels, kernel: 1, generator: generator)
    super.init()
    registerModule("norm1", norm1)
    registerModule("conv1", conv1)
    if let timeProjection { registerModule("time_emb_proj", timeProjection) }
    registerModule("norm2", norm2)
    registerModule("conv2", conv2)
    if let shortcut { registerModule("conv_shortcut", shortcut) }
  }

  public override var summary: String {
    "ResnetBlock2D(\(inChannels) -> \(outChannels)\(innerChannels == outChannels ? "" : ", inner \(innerChannels)"))"
  }

  public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, temb: nil) }

  /// x [B, in, H, W], temb [B, timeChannels] (nil for the VAE's blocks) -> [B, out, H, W].
  /// `widthGate` [B, groups] multiplies channel groups before norm2 (APTP's resnet width gate).
  /// With `maskActivations` (hard 0/1 gates at inference) it also multiplies norm2's activations,
  /// so a closed group contributes nothing — exactly like the physically pruned expert, where the
  /// reference's gated model still passes silu(beta) of a zeroed group into conv2.
  public func forward(_ x: Tensor, temb: Tensor?, widthGate: Tensor? = nil, maskActivations: Bool = false) throws -> Tensor {
    let timeBias = try timeProjection.flatMap { projection in try temb.map { try projection(countedSiLU($0)) } }
    let skip = try shortcut.map { try $0(x) } ?? x
    let sum: Tensor
    if let widthGate {
      sum = try skip + gatedBranch(x, timeBias: timeBias, widthGate: widthGate, maskActivations: maskActivations)
    } else {
      // The time embedding folds into conv1's output pass and the skip connection into conv2's.
      let h = try conv1.forward(norm1.forwardSiLU(x), sampleBias: timeBias)
      sum = try conv2.forward(norm2.forwardSiLU(h), sampleBias: nil, residual: skip)
    }
    return outputScale == 1 ? sum : try sum.scaled(1 / outputScale)
  }

  /// The residual branch with APTP's width gate on the channel groups before norm2.
  private func gatedBranch(_ x: Tensor, timeBias: Tensor?, widthGate: Tensor, maskActivations: Bool) throws -> Tensor {
    var h = try conv1(norm1.forwardSiLU(x))
    if let timeBias { h = try h + timeBias.reshape([timeBias.shape[0], timeBias.shape[1], 1, 1]) }
    let mask = try GateOps.expand(widthGate, channels: innerChannels, batch: h.shape[0]).reshape([h.shape[0], innerChannels, 1, 1])
    h = try norm2.forwardSiLU(h * mask)
    if maskActivations { h = try h * mask }
    return try conv2(h)
  }
}

/// SiLU as diffusers' `nn.SiLU` modules: the op counter charges 2·numel for it.
func countedSiLU(_ x: Tensor) throws -> Tensor {
  OpCounter.record(2 * Double(x.count))
  return try x.silu()
}

/// A stride-2 3x3 convolution (`downsamplers.0.conv`); with padding 0 diffusers pads right/bottom by one first.
public final class Downsample2D: Module {
  let conv: Conv2d
  let padding: Int

  public init(channels: Int, padding: Int, generator: Generator) throws {
    self.padding = padding
    conv = try Conv2d(channels, channels, kernel: 3, stride: 2, padding: padding, generator: generator)
    super.init()
    registerModule("conv", conv)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try conv(padding == 0 ? x.pad([0, 1, 0, 1]) : x)
  }
}

/// Nearest-neighbour 2x upsampling (or to an explicit size) followed by a 3x3 convolution (`upsamplers.0.conv`).
public final class Upsample2D: Module {
  let conv: Conv2d

  public init(channels: Int, generator: Generator) throws {
    conv = try Conv2d(channels, channels, kernel: 3, padding: 1, generator: generator)
    super.init()
    registerModule("conv", conv)
  }

  public func forward(_ x: Tensor, size: (Int, Int)? = nil) throws -> Tensor {
    let up = try size.map { try x.interpolate(size: $0, mode: .nearest) } ?? x.interpolate(scale: 2, mode: .nearest)
    return try conv(up)
  }

  public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, size: nil) }
}
