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

/// The loss terms of a pruning or fine-tuning step (aptp-reference §4.2-4.7).
public enum PruningLosses {
  /// Min-SNR-γ weights per timestep: min(SNR, γ)/SNR, with SNR + 1 for v-prediction; 1 without γ.
  public static func minSNRWeights(snr: [Float], gamma: Float?, vPrediction: Bool) -> [Float] {
    guard let gamma else { return snr.map { _ in 1 } }
    return snr.map { s in
      let v = vPrediction ? s + 1 : s
      return Swift.min(v, gamma) / v
    }
  }

  /// mean_b(w_b · mean over the sample of (pred − target)²).
  public static func diffusion(_ pred: Tensor, _ target: Tensor, weights: [Float]) throws -> Tensor {
    guard pred.shape == target.shape, pred.rank >= 1, weights.count == pred.shape[0] else {
      throw PruningError("diffusion loss: prediction \(pred.shape), target \(target.shape) and \(weights.count) weights do not fit")
    }
    let perSample = try (pred - target).pow(2).mean(axes: Array(1..<pred.rank))
    return try (perSample * Tensor.from(weights, shape: [weights.count])).mean()
  }

  /// Mean squared error against a detached teacher.
  public static func distillation(_ student: Tensor, _ teacher: Tensor) throws -> Tensor {
    try (student - teacher.detach()).pow(2).mean()
  }

  /// The mean of the per-block distillation losses.
  public static func blocks(_ student: [Tensor], _ teacher: [Tensor]) throws -> Tensor {
    guard student.count == teacher.count, !student.isEmpty else { throw PruningError("block loss needs matching, non-empty block lists") }
    var total = try distillation(student[0], teacher[0])
    for (s, t) in zip(student.dropFirst(), teacher.dropFirst()) { total = try total + distillation(s, t) }
    return try total / Float(student.count)
  }

  /// −std(R) (unbiased) over the batch. When every ratio is the same the value is 0 and so is
  /// the gradient (torch's 0/0 gradient there is NaN, which the reference survives only by
  /// skipping such batches).
  public static func std(_ ratios: Tensor) throws -> Tensor {
    let values = ratios.toArray()
    guard values.count > 1, let first = values.first, values.contains(where: { $0 != first }) else { return Tensor.scalar(0) }
    return try ratios.std().neg()
  }

  /// 1 − max_b R_b.
  public static func max(_ ratios: Tensor) throws -> Tensor { try 1 - ratios.max() }

  /// Binary cross-entropy between the softmax similarity matrices of architecture embeddings
  /// (τ_a) and prompt embeddings (τ_p), rows L2-normalised; logs clamped at −100 like PyTorch.
  public static func contrastive(architectures a: Tensor, prompts p: Tensor, tauA: Float, tauP: Float) throws -> Tensor {
    let na = try normalizedRows(a), np = try normalizedRows(p.detach())
    let simA = try (na.matmul(na.transpose(0, 1)) / tauA).softmax(axis: -1)
    let simP = try (np.matmul(np.transpose(0, 1)) / tauP).softmax(axis: -1)
    let logA = try simA.log().clamp(min: -100), log1mA = try (1 - simA).log().clamp(min: -100)
    return try (simP * logA + (1 - simP) * log1mA).mean().neg()
  }

  /// The architecture-similarity matrix the contrastive loss compares (for inspection).
  public static func similarity(_ x: Tensor, tau: Float) throws -> Tensor {
    let n = try normalizedRows(x)
    return try (n.matmul(n.transpose(0, 1)) / tau).softmax(axis: -1)
  }
}
