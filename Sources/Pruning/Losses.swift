// Losses: APTP's resource loss and regularisers on the per-sample resource ratios.

import Foundation
import TensorCore

/// The resource loss on the batch-mean ratio r against the (converted) target p.
public enum ResourceLoss: String, Sendable {
  /// |log(r / p)|.
  case log
  /// |r − p|.
  case mae
  /// (r − p)².
  case mse

  /// The loss for the scalar tensor `ratio`.
  public func value(_ ratio: Tensor, target p: Float) throws -> Tensor {
    guard p > 0 else { throw PruningError("the resource target must be positive, got \(p)") }
    switch self {
    case .log: return try (ratio / p).log().abs()
    case .mae: return try (ratio - p).abs()
    case .mse: return try (ratio - p).pow(2)
    }
  }

  public init(name: String) throws {
    guard let v = ResourceLoss(rawValue: name) else { throw PruningError("resource loss type \"\(name)\" is not one of log, mae, mse") }
    self = v
  }
}
