// UNetBlocks: the down, mid and up blocks of UNet2DConditionModel (with or without cross-attention).

import NN
import TensorCore

/// What every block needs to build its layers, and the expert widths (if pruned) by module path.
struct BlockSettings {
  let timeChannels: Int, groups: Int, eps: Float
  let heads: Int, contextDim: Int, transformerLayers: Int, linearProjection: Bool
  let widths: UNetLayerWidths
  let generator: Generator

  /// The resnet at `path`, or nil when the expert dropped it.
  func resnet(_ path: String, _ inC: Int, _ outC: Int, scale: Float = 1) throws -> ResnetBlock2D? {
    if widths.dropped.contains(path) { return nil }
    return try ResnetBlock2D(
      inChannels: inC, outChannels: outC, timeChannels: timeChannels, groups: groups, eps: eps, outputScale: scale,
      keptGroups: widths.resnetGroups[path], generator: generator)
  }

  /// The Transformer2DModel at `path`, or nil when the expert dropped it.
  func transformer(_ path: String, _ channels: Int) throws -> Transformer2DModel? {
    if widths.dropped.contains(path) { return nil }
    let blockWidths = (0..<transformerLayers).map { j -> TransformerBlockWidths? in
      let block = "\(path).transformer_blocks.\(j)"
      let selfHeads = widths.attentionHeads[block + ".attn1"], crossHeads = widths.attentionHeads[block + ".attn2"]
      let inner = widths.feedForwardInner[block + ".ff"]
      guard selfHeads != nil || crossHeads != nil || inner != nil else { return nil }
      return TransformerBlockWidths(selfHeads: selfHeads ?? heads, crossHeads: crossHeads ?? heads, feedForwardInner: inner ?? 4 * channels)
    }
    return try Transformer2DModel(
      channels: channels, heads: heads, contextDim: contextDim, layers: transformerLayers, groups: groups,
      linearProjection: linearProjection, blockWidths: blockWidths, generator: generator)
  }
}

/// Registers a block's resnets or attentions under "0", "1", ...; a dropped slot leaves a gap in the names.
func registerSlots<M: Module>(_ owner: Module, _ name: String, _ slots: [M?]) {
  if slots.allSatisfy({ $0 != nil }) {
    owner.registerModule(name, ModuleList(slots.compactMap { $0 }))
  } else {
    owner.registerModule(name, ModuleGroup(slots.enumerated().compactMap { i, m in m.map { (String(i), $0 as Module) } }))
  }
}

/// The per-call inputs every block reads.
public struct BlockContext {
  public let temb: Tensor
  public let context: Tensor
  public let contextMask: Tensor?
  public let gates: UNetGates?

  /// Runs a resnet with its width gate, then mixes with `identity` by its depth gate; a dropped
  /// resnet (nil) returns `identity`.
  func resnet(_ r: ResnetBlock2D?, _ input: Tensor, identity: Tensor) throws -> Tensor {
    guard let r else { return identity }
    let g = gates?.resnet(r)
    let out = try r.forward(input, temb: temb, widthGate: g?.width, maskActivations: gates?.hard ?? false)
    return try GateOps.mix(identity, out, depth: g?.depth)
  }

  /// Runs a transformer with its gates; a dropped one (nil) passes `h` through.
  func transformer(_ t: Transformer2DModel?, _ h: Tensor) throws -> Tensor {
    guard let t else { return h }
    return try t.forward(h, context: context, contextMask: contextMask, gates: gates?.transformer(t))
  }
}

/// `CrossAttnDownBlock2D` (with attentions) or `DownBlock2D`: resnets (each followed by its
/// transformer), then an optional stride-2 downsampler. Returns every intermediate as a skip.
public final class UNetDownBlock: Module {
  public let kind: String
  /// Resnets and transformers in order; nil where a pruned expert dropped one.
  public let resnets: [ResnetBlock2D?], attentions: [Transformer2DModel?]
  let downsampler: Downsample2D?

  init(
    path: String, kind: String, layers: Int, inChannels: Int, outChannels: Int, downsample: Bool, padding: Int, _ s: BlockSettings
  ) throws {
    self.kind = kind
    resnets = try (0..<layers).map { i in try s.resnet("\(path).resnets.\(i)", i == 0 ? inChannels : outChannels, outChannels) }
    attentions =
      kind == "CrossAttnDownBlock2D" ? try (0..<layers).map { i in try s.transformer("\(path).attentions.\(i)", outChannels) } : []
    downsampler = downsample ? try Downsample2D(channels: outChannels, padding: padding, generator: s.generator) : nil
    super.init()
    if !attentions.isEmpty { registerSlots(self, "attentions", attentions) }
    registerSlots(self, "resnets", resnets)
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
  public let resnets: [ResnetBlock2D?], attentions: [Transformer2DModel?]

  init(channels: Int, layers: Int = 1, scale: Float, _ s: BlockSettings) throws {
    resnets = try (0...layers).map { i in try s.resnet("mid_block.resnets.\(i)", channels, channels, scale: scale) }
    attentions = try (0..<layers).map { i in try s.transformer("mid_block.attentions.\(i)", channels) }
    super.init()
    registerSlots(self, "attentions", attentions)
    registerSlots(self, "resnets", resnets)
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
  public let resnets: [ResnetBlock2D?], attentions: [Transformer2DModel?]
  let upsampler: Upsample2D?

  init(
    path: String, kind: String, layers: Int, inChannels: Int, outChannels: Int, previousChannels: Int, upsample: Bool,
    _ s: BlockSettings
  ) throws {
    self.kind = kind
    resnets = try (0..<layers).map { i in
      let skip = i == layers - 1 ? inChannels : outChannels
      return try s.resnet("\(path).resnets.\(i)", (i == 0 ? previousChannels : outChannels) + skip, outChannels)
    }
    attentions =
      kind == "CrossAttnUpBlock2D" ? try (0..<layers).map { i in try s.transformer("\(path).attentions.\(i)", outChannels) } : []
    upsampler = upsample ? try Upsample2D(channels: outChannels, generator: s.generator) : nil
    super.init()
    if !attentions.isEmpty { registerSlots(self, "attentions", attentions) }
    registerSlots(self, "resnets", resnets)
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
