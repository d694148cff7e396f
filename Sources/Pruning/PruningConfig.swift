// PruningConfig: the settings of a pruning run, with the reference's defaults (configs/pruning/sd-2-1_*.yaml).

import Formats

/// Everything a pruning run needs besides the models and data; defaults are the reference's.
public struct PruningConfig: Sendable, Equatable {
  // Router and relaxation.
  public var codes = 8
  public var temperature: Float = 0.4, base: Float = 3
  public var depthOrder: [Int]? = [-1, -2, 0, 1, -3, -4, 2, 3, -5, -6, 4, 5, -7, 6]
  public var nonZeroWidth = true
  public var optimalTransport = true
  public var sinkhornEpsilon: Float = 0.05, sinkhornIterations = 3
  public var ffGateWidth = 32
  public var singleArchitecture = false
  // Targets and losses.
  public var pruningTarget = 0.6
  public var resourceLoss = ResourceLoss.log
  public var weights = LossWeights()
  public var snrGamma: Float? = 5
  public var contrastiveTau: (architecture: Float, prompt: Float) = (0.03, 0.03)
  // Optimisation.
  public var hypernetLearningRate: Float = 2e-4, quantizerLearningRate: Float = 2e-4
  /// Multiply learning rates by √(batch size) (the reference's `scale_lr`).
  public var scaleLearningRate = true
  public var warmupSteps = 100
  public var maxSteps = 5000
  public var pretrainSteps = 500
  public var seed: UInt64 = 0
  public var checkpointEvery = 500

  public init() {}

  public static func == (a: PruningConfig, b: PruningConfig) -> Bool {
    a.codes == b.codes && a.temperature == b.temperature && a.base == b.base && a.depthOrder == b.depthOrder
      && a.pruningTarget == b.pruningTarget && a.maxSteps == b.maxSteps && a.seed == b.seed && a.weights == b.weights
      && a.hypernetLearningRate == b.hypernetLearningRate && a.quantizerLearningRate == b.quantizerLearningRate
  }

  /// Checks values that would make the run meaningless, naming the key.
  public func validate() throws {
    var problems: [String] = []
    if codes < 1 { problems.append("model.quantizer.num_arch_vq_codebook_embeddings must be at least 1 (got \(codes))") }
    if !(pruningTarget > 0 && pruningTarget <= 1) { problems.append("training.losses.resource_loss.pruning_target must be in (0, 1] (got \(pruningTarget))") }
    if temperature <= 0 { problems.append("model.quantizer.quantizer_T must be positive (got \(temperature))") }
    if maxSteps < 0 || pretrainSteps < 0 || warmupSteps < 0 { problems.append("step counts must not be negative") }
    if sinkhornIterations < 0 || sinkhornEpsilon <= 0 { problems.append("sinkhorn epsilon must be positive and iterations non-negative") }
    guard problems.isEmpty else { throw PruningError(problems.joined(separator: "; ")) }
  }
}

/// The weights of the loss terms (the Pruner ignores the yaml's diffusion weight: it is 1).
public struct LossWeights: Sendable, Equatable {
  public var diffusion: Float = 1, resource: Float = 2, contrastive: Float = 100
  public var distillation: Float = 0.2, block: Float = 0.2, std: Float = 0.1, max: Float = 0.1
  public init() {}
}
