// Attention: diffusers' Attention (to_q/to_k/to_v/to_out.0) and the GEGLU FeedForward of transformer blocks.

import NN
import TensorCore

/// Multi-head attention as diffusers' `Attention` with `AttnProcessor2_0`: q from the hidden
/// states, k and v from the context (or the hidden states for self-attention), no q/k/v bias,
/// output projection with bias; scores scaled by head_dim^-0.5.
public final class CrossAttention: Module {
  public let heads: Int, headDim: Int
  public let isSelfAttention: Bool
  /// q, k, v fused for self-attention; q alone plus k, v fused for cross-attention.
  let query: FusedProjections?, keyValue: FusedProjections?, selfProjections: FusedProjections?
  let out: Linear

  public init(queryDim: Int, contextDim: Int?, heads: Int, headDim: Int, generator: Generator) throws {
    guard heads > 0, headDim > 0 else { throw DiffusionError("Attention: heads \(heads) and head size \(headDim) must be positive") }
    self.heads = heads
    self.headDim = headDim
    let inner = heads * headDim
    isSelfAttention = contextDim == nil
    if let contextDim {
      query = try FusedProjections(count: 1, inFeatures: queryDim, outFeatures: inner, bias: false, generator: generator)
      keyValue = try FusedProjections(count: 2, inFeatures: contextDim, outFeatures: inner, bias: false, generator: generator)
      selfProjections = nil
    } else {
      selfProjections = try FusedProjections(count: 3, inFeatures: queryDim, outFeatures: inner, bias: false, generator: generator)
      (query, keyValue) = (nil, nil)
    }
    out = try Linear(inner, queryDim, generator: generator)
    super.init()
    let q = selfProjections?.layers[0] ?? query?.layers[0]
    let kv = selfProjections.map { Array($0.layers[1...]) } ?? keyValue?.layers ?? []
    if let q { registerModule("to_q", q) }
    if kv.count == 2 {
      registerModule("to_k", kv[0])
      registerModule("to_v", kv[1])
    }
    registerModule("to_out", ModuleList([out]))
  }

  public override var summary: String {
    "\(isSelfAttention ? "SelfAttention" : "CrossAttention")(\(heads) heads x \(headDim))"
  }

  /// x [B, L, queryDim], context [B, Lk, contextDim] (ignored for self-attention), additive mask
  /// broadcastable to [B, heads, L, Lk]; `headGate` [B, heads] multiplies each head's q, k and v;
  /// `residual` [B, L, queryDim] is added to the output by the output projection.
  public func forward(_ x: Tensor, context: Tensor?, mask: Tensor? = nil, headGate: Tensor? = nil, residual: Tensor? = nil)
    throws -> Tensor
  {
    let q: Tensor, k: Tensor, v: Tensor
    if let selfProjections, headGate == nil {
      recordAttentionOps(tokens: x.shape[1])
      return try out.forward(Tensor.multiHeadSelfAttention(selfProjections.fused(x), heads: heads), adding: residual)
    }
    if let selfProjections {
      let p = try selfProjections(x)
      (q, k, v) = (p[0], p[1], p[2])
    } else if let query, let keyValue {
      guard let context else { throw DiffusionError("cross-attention needs encoder_hidden_states") }
      q = try query(x)[0]
      let p = try keyValue(context)
      (k, v) = (p[0], p[1])
    } else {
      throw DiffusionError("attention has no projections")
    }
    recordAttentionOps(tokens: x.shape[1])
    guard let headGate else { return try out.forward(Tensor.multiHeadAttention(q, k, v, heads: heads, mask: mask), adding: residual) }
    let gate = try GateOps.expand(headGate, channels: heads * headDim, batch: x.shape[0]).unsqueeze(1)
    return try out.forward(Tensor.multiHeadAttention(q * gate, k * gate, v * gate, heads: heads, mask: mask), adding: residual)
  }
}

extension CrossAttention {
  /// Records the attention's multiply-adds (scores and weighted sum) for `tokens` query tokens.
  fileprivate func recordAttentionOps(tokens: Int) {
    let l = Double(tokens)
    OpCounter.record(Double(heads) * (2 * l * l * Double(headDim) + l * l))
  }
}

/// diffusers' `FeedForward` with `activation_fn = "geglu"`: `net.0.proj` doubles the width, one
/// half is gated by GELU of the other, `net.2` projects back.
public final class GEGLUFeedForward: Module {
  public let dim: Int, inner: Int
  let proj: Linear, outProj: Linear

  public init(dim: Int, inner: Int, generator: Generator) throws {
    (self.dim, self.inner) = (dim, inner)
    proj = try Linear(dim, inner * 2, generator: generator)
    outProj = try Linear(inner, dim, generator: generator)
    super.init()
    registerModule("net", ModuleList([ProjectionHolder(proj), Identity(), outProj]))
  }

  public override var summary: String { "GEGLU FeedForward(\(dim) -> \(inner) -> \(dim))" }

  public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, gate: nil) }

  /// `gate` [B, groups] multiplies both halves of the projection (value and gate) group-wise;
  /// `residual` (the shape of x) is added by `net.2`.
  public func forward(_ x: Tensor, gate: Tensor?, residual: Tensor? = nil) throws -> Tensor {
    try outProj.forward(activations(x, gate: gate), adding: residual)
  }

  /// The GEGLU output before `net.2`: value · gelu(gate), both halves gated group-wise.
  public func activations(_ x: Tensor, gate: Tensor?) throws -> Tensor {
    guard let gate else { return try proj(x).geglu() }
    let mask = try GateOps.expand(gate, channels: inner, batch: x.shape[0]).unsqueeze(1)
    let halves = try proj(x).chunk(2, axis: -1).map { try $0 * mask }
    return try halves[0] * halves[1].gelu()
  }
}

/// The `GEGLU` wrapper module: it only holds `proj`, so the names read `ff.net.0.proj.weight`.
final class ProjectionHolder: Module {
  init(_ proj: Linear) {
    super.init()
    registerModule("proj", proj)
  }
}
