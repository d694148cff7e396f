// PruningTrainer: one APTP pruning step (teacher, routing, gated student, losses, AdamW) and the run's state.

import Diffusion
import Foundation
import NN
import TensorCore

/// One training batch: clean samples (latents, or pixels for a pixel-space UNet), the prompt
/// embeddings the router reads, and the UNet's cross-attention context (with its token mask).
public struct PruningBatch {
  public var samples: Tensor
  public var promptEmbeddings: Tensor
  public var context: Tensor
  public var contextMask: Tensor?

  public init(samples: Tensor, promptEmbeddings: Tensor, context: Tensor, contextMask: Tensor? = nil) {
    (self.samples, self.promptEmbeddings, self.context, self.contextMask) = (samples, promptEmbeddings, context, contextMask)
  }
}

/// The APTP pruning loop's state: the frozen UNet (also the teacher, with all gates on), the
/// architecture predictor and router being trained, the MAC model and AdamW.
public final class PruningTrainer {
  public let config: PruningConfig
  public let unet: UNet2DConditionModel
  public let scheduler: NoiseSchedule
  public let structure: GateStructure
  public let predictor: ArchitecturePredictor
  public let router: ArchitectureRouter
  public let resources: ResourceModel
  public let optimizer: Adam
  /// Completed steps.
  public internal(set) var step = 0
  /// The target on prunable MACs (p').
  public let prunableTarget: Float
  let baseRates: [Float]

  /// Sets up a run for `unet` (frozen) with prompt embeddings of width `promptDim`, counting MACs at
  /// the given latent size and context length; `batchSize` scales the learning rates (√B).
  public init(
    unet: UNet2DConditionModel, scheduler: NoiseSchedule, promptDim: Int, config: PruningConfig, sampleSize: (Int, Int),
    tokens: Int, batchSize: Int
  ) throws {
    try config.validate()
    self.config = config
    self.unet = unet
    self.scheduler = scheduler
    unet.eval()
    for p in unet.parameters() { p.requiresGrad = false }
    structure = try GateStructure(unet: unet, ffGateWidth: config.ffGateWidth)
    let g = Generator(seed: config.seed)
    predictor = try ArchitecturePredictor(structure: structure, inputDim: promptDim, single: config.singleArchitecture, generator: g)
    var relaxation = try GateRelaxation(structure: structure, depthOrder: config.depthOrder)
    relaxation.temperature = config.temperature
    relaxation.base = config.base
    relaxation.nonZeroWidth = config.nonZeroWidth
    router = try ArchitectureRouter(relaxation: relaxation, codes: config.codes, generator: g)
    router.optimalTransport = config.optimalTransport
    router.sinkhornEpsilon = config.sinkhornEpsilon
    router.sinkhornIterations = config.sinkhornIterations
    resources = try ResourceModel(config: unet.config, structure: structure, height: sampleSize.0, width: sampleSize.1, tokens: tokens)
    prunableTarget = Float(try resources.prunableTarget(config.pruningTarget))
    let scale = config.scaleLearningRate ? Float(max(batchSize, 1)).squareRoot() : 1
    baseRates = [config.hypernetLearningRate * scale, config.quantizerLearningRate * scale]
    optimizer = Adam.adamW(groups: [
      ParamGroup(params: predictor.parameters(), lr: baseRates[0], weightDecay: 0),
      ParamGroup(params: router.parameters(), lr: baseRates[1], weightDecay: 0),
    ])
  }

  /// Whether the next step trains the predictor on its own soft vectors (the first phase).
  public var pretraining: Bool { step < config.pretrainSteps }

  /// The generator of step `n`: a pure function of (seed, n), so a resumed run draws the same noise.
  func generator(forStep n: Int) -> Generator {
    Generator(seed: config.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(n) &* 0xBF58_476D_1CE4_E5B9 &+ 1)
  }

  /// One optimisation step; returns every loss term and the mean resource ratio.
  @discardableResult
  public func train(_ batch: PruningBatch) throws -> [String: Float] {
    let terms = try losses(batch, generator: generator(forStep: step), training: true)
    let factor = LRSchedule.constantWithWarmup(warmup: config.warmupSteps).factor(step)
    for i in optimizer.groups.indices { optimizer.groups[i].lr = baseRates[i] * factor }
    optimizer.zeroGrad()
    try terms.total.backward()
    // Like the reference, a step whose gradients are not finite is skipped rather than applied.
    let finite = optimizer.groups.allSatisfy { $0.params.allSatisfy { $0.grad?.toArray().allSatisfy(\.isFinite) ?? true } }
    if finite { try optimizer.step() }
    optimizer.zeroGrad()
    step += 1
    var values = try terms.values()
    values["skipped"] = finite ? 0 : 1
    return values
  }

  /// The same terms without updating anything (validation), routing without noise.
  public func evaluate(_ batch: PruningBatch) throws -> [String: Float] {
    try GradMode.noGrad { try losses(batch, generator: generator(forStep: step), training: false).values() }
  }

  /// The loss terms of one step (aptp-reference §4.6).
  func losses(_ batch: PruningBatch, generator g: Generator, training: Bool) throws -> LossTerms {
    let x0 = batch.samples, b = x0.shape[0]
    let timesteps = (0..<b).map { _ in Float(Int(g.next() % UInt64(scheduler.trainSteps))) }
    let noise = Tensor.randn(x0.shape, generator: g)
    let noisy = try scheduler.addNoise(x0, noise: noise, timesteps: timesteps)
    let target = scheduler.config.predictionType == "v_prediction" ? try scheduler.velocity(x0, noise: noise, timesteps: timesteps) : noise
    let teacher = try GradMode.noGrad {
      try unet.forward(noisy, timesteps: timesteps, context: batch.context, contextMask: batch.contextMask, intermediates: true)
    }
    let logits = try predictor(batch.promptEmbeddings).expand([b, structure.length])
    let gumbel: GumbelNoise = training ? .random(g) : .none
    let soft = try router.relaxation.sample(logits, noise: gumbel)
    let architecture: Tensor
    var experts: [Int] = []
    if pretraining {
      architecture = soft
    } else {
      let routing = training ? try router.train(logits, noise: gumbel) : try router.route(logits)
      architecture = routing.codes
      experts = routing.experts
    }
    let student = try unet.forward(
      noisy, timesteps: timesteps, context: batch.context, contextMask: batch.contextMask, intermediates: true,
      gates: try structure.gates(architecture, for: unet))
    let snr = try scheduler.snr(timesteps)
    let weights = PruningLosses.minSNRWeights(snr: snr, gamma: config.snrGamma, vPrediction: scheduler.config.predictionType == "v_prediction")
    let ratios = try resources.ratios(architecture)
    let names = unet.blockOutputNames
    var t = LossTerms()
    t.diffusion = try PruningLosses.diffusion(student.sample, target, weights: weights)
    t.resource = try config.resourceLoss.value(ratios.mean(), target: prunableTarget)
    t.contrastive = try PruningLosses.contrastive(
      architectures: router.widthDepthNormalize(soft), prompts: batch.promptEmbeddings, tauA: config.contrastiveTau.architecture,
      tauP: config.contrastiveTau.prompt)
    t.distillation = try PruningLosses.distillation(student.sample, teacher.sample)
    t.block = try PruningLosses.blocks(names.compactMap { student.intermediates[$0] }, names.compactMap { teacher.intermediates[$0] })
    t.std = b > 1 ? try PruningLosses.std(ratios) : Tensor.scalar(0)
    t.max = try PruningLosses.max(ratios)
    t.ratio = try ratios.mean()
    t.total = try t.weighted(config.weights)
    t.expertShares = experts.isEmpty ? [] : (0..<config.codes).map { k in Float(experts.filter { $0 == k }.count) / Float(experts.count) }
    return t
  }
}

/// The terms of one step, as tensors (total carries the gradient).
struct LossTerms {
  var diffusion = Tensor.scalar(0), resource = Tensor.scalar(0), contrastive = Tensor.scalar(0)
  var distillation = Tensor.scalar(0), block = Tensor.scalar(0), std = Tensor.scalar(0), max = Tensor.scalar(0)
  var ratio = Tensor.scalar(0), total = Tensor.scalar(0)
  /// Share of the batch's prompts routed to each expert (empty in the pre-training phase).
  var expertShares: [Float] = []

  func weighted(_ w: LossWeights) throws -> Tensor {
    var sum = try diffusion.scaled(w.diffusion) + resource.scaled(w.resource)
    sum = try sum + contrastive.scaled(w.contrastive) + distillation.scaled(w.distillation)
    return try sum + block.scaled(w.block) + std.scaled(w.std) + max.scaled(w.max)
  }

  func values() throws -> [String: Float] {
    var out: [String: Float] = [
      "loss": try total.item(), "diffusion": try diffusion.item(), "resource": try resource.item(),
      "contrastive": try contrastive.item(), "distillation": try distillation.item(), "block": try block.item(),
      "std": try std.item(), "max": try max.item(), "macs_ratio": try ratio.item(),
    ]
    for (k, share) in expertShares.enumerated() { out["expert_\(k)_share"] = share }
    return out
  }
}
