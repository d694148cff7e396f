// FusedProjections: several Linear layers over one input whose parameters are views into one buffer.

import TensorCore

/// Projections of one input (q, k, v) whose weights and biases are views into one fused buffer,
/// so inference runs them as a single GEMM with no copying, while each stays a separate
/// parameter (`to_q.weight`, ...) for loading, saving and training.
public struct FusedProjections {
  /// The individual layers (register these under their library names).
  public let layers: [Linear]
  let weight: Tensor, bias: Tensor?

  /// `count` layers `inFeatures -> outFeatures` with PyTorch's Linear initialisation.
  public init(count: Int, inFeatures: Int, outFeatures: Int, bias: Bool = true, generator: Generator) throws {
    guard count > 0, inFeatures > 0, outFeatures > 0 else {
      throw ModuleError.argument("FusedProjections: \(count) x (\(inFeatures) -> \(outFeatures)) must be positive")
    }
    let bound = 1 / Float(inFeatures).squareRoot()
    let weight = Tensor.rand([count * outFeatures, inFeatures], low: -bound, high: bound, generator: generator)
    let fusedBias = bias ? Tensor.rand([count * outFeatures], low: -bound, high: bound, generator: generator) : nil
    (self.weight, self.bias) = (weight, fusedBias)
    layers = try (0..<count).map { i in
      try Linear(
        weight: weight.narrow(0, start: i * outFeatures, length: outFeatures),
        bias: fusedBias?.narrow(0, start: i * outFeatures, length: outFeatures))
    }
  }

  /// All projections of x side by side, [..., count·out], from one GEMM. With autograd the
  /// layers' weights (and biases) are stacked by `cat`, so each gets its slice of the one weight
  /// gradient; for consumers that take the fused result whole (`multiHeadSelfAttention`).
  public func fused(_ x: Tensor) throws -> Tensor {
    for layer in layers { OpCounter.record(OpCounter.linear(x, out: layer.outFeatures, bias: bias != nil)) }
    let recording = GradMode.isEnabled && layers.contains { $0.weight.requiresGrad || ($0.bias?.requiresGrad ?? false) }
    guard recording else { return try Tensor.linear(x, weight: weight, bias: bias) }
    let stackedBias = bias == nil ? nil : try Tensor.cat(layers.compactMap { $0.bias }, axis: 0)
    return try Tensor.linear(x, weight: Tensor.cat(layers.map { $0.weight }, axis: 0), bias: stackedBias)
  }

  /// Each projection of x: views of one [..., count·out] GEMM result when no gradient is
  /// recorded; with autograd, separate layers (slices of a fused result would each send a
  /// full-width zero-padded gradient back).
  public func callAsFunction(_ x: Tensor) throws -> [Tensor] {
    let recording = GradMode.isEnabled && layers.contains { $0.weight.requiresGrad || ($0.bias?.requiresGrad ?? false) }
    if recording || x.requiresGrad && GradMode.isEnabled { return try layers.map { try $0(x) } }
    let fused = try fused(x)
    return try layers.enumerated().map { i, layer in
      try fused.narrow(fused.rank - 1, start: i * layer.outFeatures, length: layer.outFeatures)
    }
  }
}
