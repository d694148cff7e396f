// Router: APTP's quantizer — K architecture codes, resource-shaped cosine routing, balanced Sinkhorn assignment.

import Foundation
import NN
import TensorCore

/// SwAV-style Sinkhorn balancing of scores [B, K] (ε, iterations) in float32 as the reference:
/// Q = exp(S/ε)ᵀ normalised; rows (codes) to 1/K and columns (samples) to 1/B alternately;
/// returns B·Qᵀ [B, K] (each row sums to 1).
public func sinkhorn(_ scores: [Float], batch b: Int, codes k: Int, epsilon: Float = 0.05, iterations: Int = 3) -> [Float] {
  var q = [Float](repeating: 0, count: k * b)  // [K, B]
  for i in 0..<b { for j in 0..<k { q[j * b + i] = expf(scores[i * k + j] / epsilon) } }
  let total = q.reduce(0, +)
  for i in q.indices { q[i] /= total }
  for _ in 0..<iterations {
    for j in 0..<k {
      var row: Float = 0
      for i in 0..<b { row += q[j * b + i] }
      for i in 0..<b { q[j * b + i] = q[j * b + i] / row / Float(k) }
    }
    for i in 0..<b {
      var column: Float = 0
      for j in 0..<k { column += q[j * b + i] }
      for j in 0..<k { q[j * b + i] = q[j * b + i] / column / Float(b) }
    }
  }
  var out = [Float](repeating: 0, count: b * k)
  for i in 0..<b { for j in 0..<k { out[i * k + j] = q[j * b + i] * Float(b) } }
  return out
}

/// What routing a batch gives: the codes of the chosen experts (soft in training, 0/1 at
/// inference), the expert per prompt, and the cosine scores [B, K].
public struct Routing {
  public let codes: Tensor
  public let experts: [Int]
  public let scores: Tensor
}

/// The reference's `StructureVectorQuantizer`: `embedding.weight` [K, length] (orthogonal init)
/// and `embedding_gs`, the last training-time Gumbel-sigmoid sample of the codes (the experts'
/// architectures at inference).
public final class ArchitectureRouter: Module {
  public let relaxation: GateRelaxation
  public let codeCount: Int
  public let codebook: Tensor
  public private(set) var sampledCodes: Tensor
  public var optimalTransport = true
  public var sinkhornEpsilon: Float = 0.05, sinkhornIterations = 3
  /// Per-column weights for resource-aware normalisation (off in every reference config).
  public var prunableMacsTemplate: Tensor? = nil
  let sqrtTemplate: Tensor

  public init(relaxation: GateRelaxation, codes k: Int, generator: Generator = Generator(seed: 0)) throws {
    guard k >= 1 else { throw PruningError("num_arch_vq_codebook_embeddings must be at least 1, got \(k)") }
    self.relaxation = relaxation
    codeCount = k
    let length = relaxation.structure.length
    codebook = orthogonalMatrix(k, length, generator: generator)
    sampledCodes = codebook.detach().contiguousCopy()
    var template: [Float] = []
    for w in relaxation.structure.widthList { template += Array(repeating: (1 / Float(w)).squareRoot(), count: w) }
    template += Array(repeating: 1, count: relaxation.structure.depthCount)
    sqrtTemplate = try Tensor.from(template, shape: [1, length])
    super.init()
    registerModule("embedding", ParameterHolder(codebook))
    registerBuffer("embedding_gs", sampledCodes)
  }

  public override var summary: String { "ArchitectureRouter(\(codeCount) codes of \(relaxation.structure.length))" }

  /// Resource-shaped embedding: hardened gates, except that a depth-gated entry's width columns
  /// are soft width × soft depth; scaled so every group weighs the same (aptp-reference §2.4).
  public func widthDepthNormalize(_ x: Tensor) throws -> Tensor {
    let s = relaxation.structure
    var pieces: [Tensor] = []
    for e in s.entries {
      let slice = try x.narrow(1, start: e.widthOffset, length: e.widthSum)
      if let d = e.depthColumn {
        pieces.append(try slice * x.narrow(1, start: d, length: 1))
      } else {
        pieces.append(try hardThreshold(slice))
      }
    }
    if s.depthCount > 0 { pieces.append(try hardThreshold(x.narrow(1, start: s.sumWidth, length: s.depthCount))) }
    var y = try Tensor.cat(pieces, axis: 1) * sqrtTemplate
    if let t = prunableMacsTemplate { y = try y * t }
    return y
  }

  /// Cosine scores [B, K] between relaxed logits and codes (both resource-normalised).
  public func scores(_ relaxedLogits: Tensor, codes: Tensor) throws -> Tensor {
    try normalizedRows(widthDepthNormalize(relaxedLogits)).matmul(normalizedRows(widthDepthNormalize(codes)).transpose(0, 1))
  }

  /// Training: re-samples the codes with `noise` (stored as the experts' codes), assigns each
  /// prompt by Sinkhorn-balanced (or plain) cosine routing of its noisy logits, and returns the
  /// soft codes of the assigned experts, differentiable with respect to the codebook.
  public func train(_ logits: Tensor, noise: GumbelNoise) throws -> Routing {
    try check(logits)
    let sampled = try relaxation.sample(codebook, noise: noise)
    try sampledCodes.assign(sampled.detach())
    let (experts, s) = try GradMode.noGrad { () throws -> ([Int], Tensor) in
      let s = try scores(try relaxation.sample(logits, noise: noise), codes: sampledCodes)
      return (try assign(s), s)
    }
    let index = Tensor(ints: experts.map(Int64.init), shape: [experts.count])
    return Routing(codes: try sampled.indexSelect(0, index), experts: experts, scores: s)
  }

  /// Inference: each prompt goes to the most similar stored code (no balancing); returns the
  /// experts' hard 0/1 codes. Without noise the result depends only on the prompt.
  public func route(_ logits: Tensor, noise: GumbelNoise = .none) throws -> Routing {
    try check(logits)
    return try GradMode.noGrad {
      let s = try scores(try relaxation.sample(logits, noise: noise), codes: sampledCodes)
      let experts = argmaxRows(s)
      let index = Tensor(ints: experts.map(Int64.init), shape: [experts.count])
      return Routing(codes: try hardThreshold(sampledCodes.indexSelect(0, index)), experts: experts, scores: s)
    }
  }

  /// The stored codes, hardened: one architecture per expert.
  public var expertCodes: Tensor { get throws { try hardThreshold(sampledCodes) } }

  func assign(_ scores: Tensor) throws -> [Int] {
    guard optimalTransport else { return argmaxRows(scores) }
    let (b, k) = (scores.shape[0], scores.shape[1])
    let q = sinkhorn(scores.toArray(), batch: b, codes: k, epsilon: sinkhornEpsilon, iterations: sinkhornIterations)
    return argmaxRows(try Tensor.from(q, shape: [b, k]))
  }

  func argmaxRows(_ t: Tensor) -> [Int] {
    let (rows, cols) = (t.shape[0], t.shape[1]), v = t.toArray()
    return (0..<rows).map { r in
      var best = 0
      for c in 1..<max(cols, 1) where v[r * cols + c] > v[r * cols + best] { best = c }
      return best
    }
  }

  func check(_ logits: Tensor) throws {
    guard logits.rank == 2, logits.shape[1] == relaxation.structure.length else {
      throw PruningError("architecture logits must be [batch, \(relaxation.structure.length)], got \(logits.shape)")
    }
  }
}

/// Registers one tensor as the parameter `weight` of a child module (`embedding.weight`).
final class ParameterHolder: Module {
  init(_ t: Tensor) {
    super.init()
    registerParameter("weight", t)
  }
}
