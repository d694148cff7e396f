// EncoderLayer: the post-LayerNorm transformer layer of BERT and MPNet, with either library's parameter names.

import NN
import TensorCore

/// A text model that turns token ids [B, L] (and a 0/1 mask) into token states [B, L, D].
public protocol TokenEncoder: AnyObject {
  /// Width of the token states.
  var hiddenSize: Int { get }
  /// The longest sequence the position embeddings cover.
  var maxPositions: Int { get }
  /// The last layer's token states [B, L, D]; padding positions (mask 0) are computed but meaningless.
  func lastHiddenState(ids: Tensor, mask: Tensor?) throws -> Tensor
}

/// One BERT/MPNet layer: self-attention, residual + LayerNorm, activation MLP, residual + LayerNorm.
final class EncoderLayer: Module {
  enum Naming { case bert, mpnet }

  let qkv: FusedProjections
  let attentionOut: Linear, attentionNorm: LayerNorm
  let intermediate: Linear, output: Linear, outputNorm: LayerNorm
  let heads: Int
  let activation: @Sendable (Tensor) throws -> Tensor

  init(
    naming: Naming, hidden: Int, heads: Int, intermediateSize: Int, activation: String, eps: Float,
    generator: Generator
  ) throws {
    guard heads > 0, hidden % heads == 0 else {
      throw TextError("hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)")
    }
    qkv = try FusedProjections(count: 3, inFeatures: hidden, outFeatures: hidden, generator: generator)
    let (query, key, value) = (qkv.layers[0], qkv.layers[1], qkv.layers[2])
    attentionOut = try Linear(hidden, hidden, generator: generator)
    attentionNorm = try LayerNorm(hidden, eps: eps)
    intermediate = try Linear(hidden, intermediateSize, generator: generator)
    output = try Linear(intermediateSize, hidden, generator: generator)
    outputNorm = try LayerNorm(hidden, eps: eps)
    self.heads = heads
    self.activation = try TransformerParts.activation(activation)
    super.init()
    switch naming {
    case .bert:
      registerModule(
        "attention",
        ModuleGroup([
          ("self", ModuleGroup([("query", query), ("key", key), ("value", value)])),
          ("output", ModuleGroup([("dense", attentionOut), ("LayerNorm", attentionNorm)])),
        ]))
    case .mpnet:
      registerModule(
        "attention",
        ModuleGroup([
          ("attn", ModuleGroup([("q", query), ("k", key), ("v", value), ("o", attentionOut)])),
          ("LayerNorm", attentionNorm),
        ]))
    }
    registerModule("intermediate", ModuleGroup([("dense", intermediate)]))
    registerModule("output", ModuleGroup([("dense", output), ("LayerNorm", outputNorm)]))
  }

  /// x [B, L, D]; `bias` is added to the attention scores (key padding mask, relative positions).
  func forward(_ x: Tensor, bias: Tensor?) throws -> Tensor {
    let p = try qkv(x)
    let context = try TransformerParts.attend(p[0], p[1], p[2], heads: heads, mask: bias)
    let attended = try attentionNorm(attentionOut(context) + x)
    return try outputNorm(output(activation(intermediate(attended))) + attended)
  }
}
