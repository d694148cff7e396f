// UNetBlocks: the down, mid and up blocks of UNet2DConditionModel (with or without cross-attention).

import NN
import TensorCore

/// What every block needs to build its layers.
struct BlockSettings {
  let timeChannels: Int, groups: Int, eps: Float
  let heads: Int, contextDim: Int, transformerLayers: Int, linearProjection: Bool
  let generator: Generator

  func resnet(_ inC: Int, _ outC: Int, scale: Float = 1) throws -> ResnetBlock2D {
    try ResnetBlock2D(
      inChannels: inC, outChannels: outC, timeChannels: timeChannels, groups: groups, eps: eps, outputScale: scale,
      generator: generator)
  }

  func transformer(_ channels: Int) throws -> Transformer2DModel {
    try Transformer2DModel(
      channels: channels, heads: heads, contextDim: contextDim, layers: transformerLayers, groups: groups,
      linearProjection: linearProjection, generator: generator)
  }
}

/// The per-call inputs every block reads.
public struct BlockContext {
  public let temb: Tensor
  public let context: Tensor
  public let contextMask: Tensor?
  public let gates: UNetGates?

  /// Runs a resnet with its width gate, then mixes with `identity` by its depth gate.
  func resnet(_ r: ResnetBlock2D, _ input: Tensor, identity: Tensor) throws -> Tensor {
    let g = gates?.resnet(r)
    return try GateOps.mix(identity, r.forward(input, temb: temb, widthGate: g?.width), depth: g?.depth)
  }

  func transformer(_ t: Transformer2DModel, _ h: Tensor) throws -> Tensor {
    try t.forward(h, context: context, contextMask: contextMask, gates: gates?.transformer(t))
  }
}

/// `CrossAttnDownBlock2D` (with attentions) or `DownBlock2D`: resnets (each followed by its
/// transformer), then an optional stride-2 downsampler. Returns every intermediate as a skip.
public final class UNetDownBlock: Module {
  public let kind: String
  public let resnets: [ResnetBlock2D], attentions: [Transformer2DModel]
  let downsampler: Downsample2D?

  init(kind: String, layers: Int, inChannels: Int, outChannels: Int, downsample: Bool, padding: Int, _ s: BlockSettings) throws {
    self.kind = kind
    resnets = try (0..<layers).map { i in try s.resnet(i == 0 ? inChannels : outChannels, outChannels) }
    attentions = kind == "CrossAttnDownBlock2D" ? try (0..<layers).map { _ in try s.transformer(outChannels) } : []
    downsampler = downsample ? try Downsample2D(channels: outChannels, padding: padding, generator: s.generator) : nil
    super.init()
    if !attentions.isEmpty { registerModule("attentions", ModuleList(attentions)) }
    registerModule("resnets", ModuleList(resnets))
    if let downsampler { registerModule("downsamplers", ModuleList([downsampler])) }
  }

  public override var summary: String { kind }

  func forward(_ x: Tensor, _ c: BlockContext) throws -> (Tensor, [Tensor]) {
    var h = x
    var skips: [Tensor] = []
    for (i, resnet) in resnets.enumerated() {
      h = try c.resnet(resnet, h, identity: h)
      if i < attentions.count { h = try c.transformer(attentions[i], h) }
      skips.append(h)
    }
    if let downsampler {
      h = try downsampler(h)
      skips.append(h)
    }
    return (h, skips)
  }
}

/// `UNetMidBlock2DCrossAttn`: resnet, then (transformer, resnet) pairs.
public final class UNetMidBlock: Module {
  public let resnets: [ResnetBlock2D], attentions: [Transformer2DModel]

  init(channels: Int, layers: Int = 1, scale: Float, _ s: BlockSettings) throws {
    resnets = try (0...layers).map { _ in try s.resnet(channels, channels, scale: scale) }
    attentions = try (0..<layers).map { _ in try s.transformer(channels) }
    super.init()
    registerModule("attentions", ModuleList(attentions))
    registerModule("resnets", ModuleList(resnets))
  }

  public override var summary: String { "UNetMidBlock2DCrossAttn" }

  func forward(_ x: Tensor, _ c: BlockContext) throws -> Tensor {
    var h = try c.resnet(resnets[0], x, identity: x)
    for (attention, resnet) in zip(attentions, resnets.dropFirst()) {
      h = try c.transformer(attention, h)
      h = try c.resnet(resnet, h, identity: h)
    }
    return h
  }
}

/// `CrossAttnUpBlock2D` (with attentions) or `UpBlock2D`: each resnet reads the running state
/// concatenated with one skip (last first), then an optional 2x upsampler.
public final class UNetUpBlock: Module {
  public let kind: String
  public let resnets: [ResnetBlock2D], attentions: [Transformer2DModel]
  let upsampler: Upsample2D?

  init(
    kind: String, layers: Int, inChannels: Int, outChannels: Int, previousChannels: Int, upsample: Bool, _ s: BlockSettings
  ) throws {
    self.kind = kind
    resnets = try (0..<layers).map { i in
      let skip = i == layers - 1 ? inChannels : outChannels
      return try s.resnet((i == 0 ? previousChannels : outChannels) + skip, outChannels)
    }
    attentions = kind == "CrossAttnUpBlock2D" ? try (0..<layers).map { _ in try s.transformer(outChannels) } : []
    upsampler = upsample ? try Upsample2D(channels: outChannels, generator: s.generator) : nil
    super.init()
    if !attentions.isEmpty { registerModule("attentions", ModuleList(attentions)) }
    registerModule("resnets", ModuleList(resnets))
    if let upsampler { registerModule("upsamplers", ModuleList([upsampler])) }
  }

  public override var summary: String { kind }

  var skipCount: Int { resnets.count }

  func forward(_ x: Tensor, skips: [Tensor], upsampleTo size: (Int, Int)?, _ c: BlockContext) throws -> Tensor {
    var h = x
    for (i, resnet) in resnets.enumerated() {
      // A dropped (depth-gated) resnet passes on the running state; its skip is consumed.
      h = try c.resnet(resnet, Tensor.cat([h, skips[skips.count - 1 - i]], axis: 1), identity: h)
      if i < attentions.count { h = try c.transformer(attentions[i], h) }
    }
    if let upsampler { h = try upsampler.forward(h, size: size) }
    return h
  }
}
