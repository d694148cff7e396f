// Transformer2D: diffusers' BasicTransformerBlock and Transformer2DModel (continuous input, conv or linear projections).

import NN
import TensorCore

/// The widths one transformer block keeps in a pruned expert.
public struct TransformerBlockWidths: Sendable, Equatable {
  public var selfHeads: Int, crossHeads: Int, feedForwardInner: Int
  public init(selfHeads: Int, crossHeads: Int, feedForwardInner: Int) {
    (self.selfHeads, self.crossHeads, self.feedForwardInner) = (selfHeads, crossHeads, feedForwardInner)
  }
}

/// LayerNorm → self-attention, LayerNorm → cross-attention, LayerNorm → GEGLU feed-forward,
/// each added to its input (`norm_type = "layer_norm"`).
public final class BasicTransformerBlock: Module {
  let norm1: LayerNorm, attn1: CrossAttention, norm2: LayerNorm, attn2: CrossAttention, norm3: LayerNorm
  let ff: GEGLUFeedForward

  /// `widths` (an expert's pruned block) sets the kept heads of each attention and the GEGLU inner width.
  public init(dim: Int, heads: Int, headDim: Int, contextDim: Int, widths: TransformerBlockWidths? = nil, generator: Generator) throws {
    let w = widths ?? TransformerBlockWidths(selfHeads: heads, crossHeads: heads, feedForwardInner: dim * 4)
    guard w.selfHeads <= heads, w.crossHeads <= heads, w.feedForwardInner > 0, w.feedForwardInner <= dim * 4 else {
      throw DiffusionError("BasicTransformerBlock: pruned widths \(w) exceed \(heads) heads or inner width \(dim * 4)")
    }
    norm1 = try LayerNorm(dim, eps: 1e-5)
    attn1 = try CrossAttention(queryDim: dim, contextDim: nil, heads: w.selfHeads, headDim: headDim, generator: generator)
    norm2 = try LayerNorm(dim, eps: 1e-5)
    attn2 = try CrossAttention(queryDim: dim, contextDim: contextDim, heads: w.crossHeads, headDim: headDim, generator: generator)
    norm3 = try LayerNorm(dim, eps: 1e-5)
    ff = try GEGLUFeedForward(dim: dim, inner: w.feedForwardInner, generator: generator)
    super.init()
    for (name, m) in [("norm1", norm1), ("attn1", attn1), ("norm2", norm2), ("attn2", attn2), ("norm3", norm3), ("ff", ff)] as [(String, Module)] {
      registerModule(name, m)
    }
  }

  /// x [B, L, dim], context [B, Lk, contextDim], contextMask additive [B, 1, 1, Lk] or nil.
  public func forward(_ x: Tensor, context: Tensor, contextMask: Tensor?, gates: TransformerGates? = nil) throws -> Tensor {
    // Each residual is added by the sub-layer's output projection.
    var h = try attn1.forward(norm1(x), context: nil, headGate: gates?.attn1, residual: x)
    h = try attn2.forward(norm2(h), context: context, mask: contextMask, headGate: gates?.attn2, residual: h)
    return try ff.forward(norm3(h), gate: gates?.ff, residual: h)
  }
}

/// GroupNorm, `proj_in` (1x1 conv, or Linear on the flattened tokens with
/// `use_linear_projection`), transformer blocks over the H·W tokens, `proj_out`, plus the input.
public final class Transformer2DModel: Module {
  public let channels: Int, heads: Int, linearProjection: Bool
  /// Groups of the GEGLU inner width the feed-forward gate uses, set by whoever gates this model.
  public var feedForwardInner: Int { blocks.first?.ff.inner ?? 4 * channels }
  /// False for an expert's pruned transformer (fewer heads or a narrower feed-forward somewhere).
  public var isFullWidth: Bool {
    blocks.allSatisfy { $0.attn1.heads == heads && $0.attn2.heads == heads && $0.ff.inner == 4 * channels }
  }
  /// Transformer blocks inside (1 in every Stable Diffusion config).
  public var depth: Int { blocks.count }
  let norm: GroupNorm
  let projIn: Module, projOut: Module
  let blocks: [BasicTransformerBlock]

  /// `blockWidths[j]` prunes transformer block j (an expert); missing entries keep full width.
  public init(
    channels: Int, heads: Int, contextDim: Int, layers: Int, groups: Int, linearProjection: Bool,
    blockWidths: [TransformerBlockWidths?] = [], generator: Generator
  ) throws {
    guard heads > 0, channels % heads == 0 else {
      throw DiffusionError("Transformer2DModel: \(channels) channels are not divisible by \(heads) heads")
    }
    guard groups > 0, channels % groups == 0 else {
      throw DiffusionError("Transformer2DModel: \(channels) channels are not divisible by norm_num_groups \(groups)")
    }
    (self.channels, self.heads, self.linearProjection) = (channels, heads, linearProjection)
    norm = try GroupNorm(groups: groups, channels: channels, eps: 1e-6)
    if linearProjection {
      projIn = try Linear(channels, channels, generator: generator)
      projOut = try Linear(channels, channels, generator: generator)
    } else {
      projIn = try Conv2d(channels, channels, kernel: 1, generator: generator)
      projOut = try Conv2d(channels, channels, kernel: 1, generator: generator)
    }
    blocks = try (0..<layers).map { j in
      try BasicTransformerBlock(
        dim: channels, heads: heads, headDim: channels / heads, contextDim: contextDim,
        widths: j < blockWidths.count ? blockWidths[j] : nil, generator: generator)
    }
    super.init()
    registerModule("norm", norm)
    registerModule("proj_in", projIn)
    registerModule("transformer_blocks", ModuleList(blocks))
    registerModule("proj_out", projOut)
  }

  public override var summary: String { "Transformer2DModel(\(channels) channels, \(heads) heads, \(blocks.count) blocks)" }

  /// x [B, C, H, W] attends to context [B, Lk, contextDim]; returns [B, C, H, W]. With gates, the
  /// heads and feed-forward groups of every block are gated and `depth` mixes output and input.
  public func forward(_ x: Tensor, context: Tensor, contextMask: Tensor?, gates: TransformerGates? = nil) throws -> Tensor {
    let (b, c, hgt, wid) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let tokens = { (t: Tensor) in try t.permute([0, 2, 3, 1]).reshape([b, hgt * wid, c]) }
    let image = { (t: Tensor) in try t.reshape([b, hgt, wid, c]).permute([0, 3, 1, 2]) }
    var h = try norm(x)
    h = linearProjection ? try projIn(tokens(h)) : try tokens(projIn(h))
    for block in blocks { h = try block.forward(h, context: context, contextMask: contextMask, gates: gates) }
    h = linearProjection ? try image(projOut(h)) : try projOut(image(h).contiguous())
    return try GateOps.mix(x, h + x, depth: gates?.depth)
  }
}
