// TokenBatch: token ids of several texts padded to one length, with attention masks, as tensors.

import TensorCore

/// What every tokenizer offers: ids for one text (special tokens added, truncated to the model's
/// length) and the id used for padding.
public protocol TextTokenizer: Sendable {
  /// Token ids of `text` with the special tokens of a single sequence, truncated to `maxLength`.
  func encode(_ text: String) -> [Int]
  /// The token strings of `text` (special tokens included), for inspection.
  func tokenStrings(_ text: String) -> [String]
  /// The id written into padding positions.
  var padId: Int { get }
  /// The most tokens one encoded sequence may have, special tokens included.
  var maxLength: Int { get }
}

/// Ids of a batch of texts padded on the right to a common length. The mask is 1 for real tokens
/// and 0 for padding; it never comes from comparing ids with the pad id (SD2's pad id 0 is also `!`).
public struct TokenBatch: Sendable {
  /// Per text, its ids without padding.
  public let sequences: [[Int]]
  /// The padded length.
  public let length: Int
  public let padId: Int

  /// Pads `sequences` to `length`, or to the longest sequence when `length` is nil.
  public init(_ sequences: [[Int]], padId: Int, length: Int? = nil) {
    self.sequences = sequences
    self.padId = padId
    self.length = Swift.max(length ?? 0, sequences.map(\.count).max() ?? 0)
  }

  /// Int64 ids [N, length].
  public var ids: Tensor {
    var flat = [Int64](repeating: Int64(padId), count: sequences.count * length)
    for (i, s) in sequences.enumerated() {
      for (j, id) in s.enumerated() { flat[i * length + j] = Int64(id) }
    }
    return Tensor(ints: flat, shape: [sequences.count, length])
  }

  /// Int64 attention mask [N, length].
  public var mask: Tensor {
    var flat = [Int64](repeating: 0, count: sequences.count * length)
    for (i, s) in sequences.enumerated() {
      for j in 0..<s.count { flat[i * length + j] = 1 }
    }
    return Tensor(ints: flat, shape: [sequences.count, length])
  }
}

extension TextTokenizer {
  /// Encodes every text and pads to the longest (or to `length`, e.g. 77 for CLIP).
  public func batch(_ texts: [String], length: Int? = nil) -> TokenBatch {
    TokenBatch(texts.map { encode($0) }, padId: padId, length: length)
  }
}
