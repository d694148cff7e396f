// TransformerParts: pieces shared by the text encoders — head split/merge, activations, padding masks, grouping modules.

import NN
import TensorCore

public enum TransformerParts {
  /// Multi-head attention of already projected q, k, v [B, L, H·d] with an additive mask.
  public static func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?, causal: Bool = false) throws -> Tensor {
    try Tensor.multiHeadAttention(q, k, v, heads: heads, mask: mask, causal: causal)
  }

  /// The activation a transformers config names in `hidden_act`.
  static func activation(_ name: String) throws -> @Sendable (Tensor) throws -> Tensor {
    switch name {
    case "gelu": return { try $0.gelu() }
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return { try $0.gelu(.tanh) }
    case "quick_gelu": return { try $0.quickGelu() }
    case "relu": return { try $0.relu() }
    case "silu", "swish": return { try $0.silu() }
    default: throw TextError("hidden_act \"\(name)\" is not supported (gelu, gelu_new, quick_gelu, relu, silu)")
    }
  }

  /// Checks token ids: int64 [batch, length] with length within the model's positions.
  static func checkIds(_ ids: Tensor, maxPositions: Int, model: String = "model") throws {
    guard ids.rank == 2, ids.dtype == .int64 else { throw TextError("token ids must be int64 [batch, length], got \(ids.shape)") }
    guard ids.shape[1] <= maxPositions else {
      throw TextError("\(ids.shape[1]) tokens exceed the \(model)'s \(maxPositions) positions; truncate the prompt")
    }
  }

  /// An int64 attention mask [B, L] (1 = token, 0 = padding) as an additive key mask [B, 1, 1, L].
  static func keyMask(_ mask: Tensor) throws -> Tensor {
    guard mask.rank == 2 else { throw TextError("attention mask must be [batch, length], got \(mask.shape)") }
    let m = mask.toInts()
    let values = m.map { $0 != 0 ? Float(0) : -Float.infinity }
    return try Tensor.from(values, shape: [mask.shape[0], 1, 1, mask.shape[1]])
  }

  /// The checkpoint-name mapping for models saved inside a wrapper (`bert.`, `text_model.`):
  /// strips the first matching prefix and drops the names the encoder never uses.
  static func checkpointKey(prefixes: [String], ignored: [String]) -> @Sendable (String) -> String? {
    { name in
      var n = name
      for p in prefixes where n.hasPrefix(p) {
        n = String(n.dropFirst(p.count))
        break
      }
      return ignored.contains { n == $0 || n.hasPrefix($0 + ".") } ? nil : n
    }
  }
}
