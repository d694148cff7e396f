// Gates: per-sample multipliers on a UNet's channel groups, heads, feed-forward groups and whole sub-blocks (APTP).

import TensorCore

/// Gates of one ResnetBlock2D: `width` [B, groups] multiplies conv1's output (after the time
/// embedding, before norm2), each entry covering channels/groups consecutive channels; `depth`
/// [B] mixes the block's output with its input: (1 − m)·input + m·output.
public struct ResnetGates {
  public var width: Tensor?
  public var depth: Tensor?
  public init(width: Tensor? = nil, depth: Tensor? = nil) {
    self.width = width
    self.depth = depth
  }
}

/// Gates of one Transformer2DModel: heads of self-attention (`attn1`) and cross-attention
/// (`attn2`) [B, heads] multiply q, k and v; `ff` [B, groups] multiplies both halves of the GEGLU
/// projection; `depth` [B] mixes the whole transformer's output with its input.
public struct TransformerGates {
  public var attn1: Tensor?, attn2: Tensor?, ff: Tensor?
  public var depth: Tensor?
  public init(attn1: Tensor? = nil, attn2: Tensor? = nil, ff: Tensor? = nil, depth: Tensor? = nil) {
    (self.attn1, self.attn2, self.ff, self.depth) = (attn1, attn2, ff, depth)
  }
}

/// All gate values for one forward pass, keyed by the gated module. Values are soft (training)
/// or 0/1 (inference); a batch twice the gates' batch (classifier-free guidance) reuses them tiled.
public struct UNetGates {
  public var resnets: [ObjectIdentifier: ResnetGates] = [:]
  public var transformers: [ObjectIdentifier: TransformerGates] = [:]
  /// Set for hard 0/1 gates at inference: resnets then also mask norm2's activations, so the
  /// gated forward equals the physically pruned expert's (see `ResnetBlock2D.forward`).
  public var hard = false
  public init(hard: Bool = false) { self.hard = hard }

  func resnet(_ m: ResnetBlock2D) -> ResnetGates? { resnets[ObjectIdentifier(m)] }
  func transformer(_ m: Transformer2DModel) -> TransformerGates? { transformers[ObjectIdentifier(m)] }
}

enum GateOps {
  /// gate [B, G] -> [batch, C] with each entry repeated C/G times (tiled along the batch for CFG).
  static func expand(_ gate: Tensor, channels: Int, batch: Int) throws -> Tensor {
    guard gate.rank == 2, gate.shape[1] > 0, channels % gate.shape[1] == 0 else {
      throw DiffusionError("a gate of shape \(gate.shape) cannot cover \(channels) channels (need [batch, a divisor of \(channels)])")
    }
    let (b, g) = (gate.shape[0], gate.shape[1])
    guard b > 0, batch % b == 0 else { throw DiffusionError("gates for \(b) samples cannot cover a batch of \(batch)") }
    var mask = try gate.unsqueeze(2).expand([b, g, channels / g]).reshape([b, channels])
    if batch != b { mask = try Tensor.cat(Array(repeating: mask, count: batch / b), axis: 0) }
    return mask
  }

  /// depth [B] -> [batch, 1, ..., 1] of the given rank (tiled for CFG).
  static func depthMask(_ depth: Tensor, batch: Int, rank: Int) throws -> Tensor {
    let b = depth.count
    guard b > 0, batch % b == 0 else { throw DiffusionError("depth gates for \(b) samples cannot cover a batch of \(batch)") }
    var m = try depth.reshape([b] + Array(repeating: 1, count: rank - 1))
    if batch != b { m = try Tensor.cat(Array(repeating: m, count: batch / b), axis: 0) }
    return m
  }

  /// (1 − m)·input + m·output, in this form so that m = 1 gives exactly the output.
  static func mix(_ input: Tensor, _ output: Tensor, depth: Tensor?) throws -> Tensor {
    guard let depth else { return output }
    let m = try depthMask(depth, batch: output.shape[0], rank: output.rank)
    return try input * (1 - m) + output * m
  }
}
