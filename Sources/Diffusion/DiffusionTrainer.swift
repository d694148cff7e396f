// DiffusionTrainer: training a UNet on (samples, context) with the scheduler's noise — v or ε target, Min-SNR weights, AdamW, resumable.

import Foundation
import Formats
import NN
import TensorCore

/// Settings of a diffusion training run.
public struct DiffusionTrainingConfig: Sendable {
  public var learningRate: Float = 1e-4
  public var weightDecay: Float = 0.01
  public var warmupSteps = 200
  /// Min-SNR-γ loss weighting (nil: plain MSE).
  public var snrGamma: Float? = 5
  /// Gradient clipping by global norm (nil: none).
  public var clipNorm: Float? = 1
  public var seed: UInt64 = 0
  /// Loss weights with a teacher (APTP fine-tuning): `diffusion`·Min-SNR loss + `distillation`·MSE
  /// to the teacher's output + `block`·mean MSE over the 9 block outputs. Without a teacher only
  /// the diffusion term exists (its weight is then ignored).
  public var diffusionWeight: Float = 1, distillationWeight: Float = 0, blockWeight: Float = 0
  /// Decay of an exponential moving average of the weights, saved as `unet_ema/` (nil: none). The
  /// effective decay warms up as min(decay, (1 + n) / (10 + n)) after n updates, as diffusers'
  /// `EMAModel` does.
  public var emaDecay: Float? = nil
  public init() {}
}

/// Trains a UNet to predict the scheduler's target (ε or v) from noised samples and a
/// cross-attention context, optionally distilling a frozen teacher (an APTP expert's fine-tuning).
/// The randomness of step n is a pure function of (seed, n), and `save`/`resume` keep the
/// weights, AdamW state and step, so a resumed run equals an uninterrupted one.
public final class DiffusionTrainer {
  public let unet: UNet2DConditionModel
  public let teacher: UNet2DConditionModel?
  public let scheduler: NoiseSchedule
  public let config: DiffusionTrainingConfig
  public let optimizer: Adam
  public private(set) var step = 0
  /// The loss terms of the last step (`loss`, `diffusion`, and with a teacher `distillation`, `block`).
  public private(set) var lastTerms: [String: Float] = [:]
  /// The moving average of each parameter (by name), when `emaDecay` is set.
  public private(set) var emaWeights: [String: Tensor] = [:]
  /// EMA updates so far (drives the decay warm-up).
  public private(set) var emaUpdates = 0

  public init(unet: UNet2DConditionModel, scheduler: NoiseSchedule, config: DiffusionTrainingConfig, teacher: UNet2DConditionModel? = nil) {
    self.unet = unet
    self.teacher = teacher
    self.scheduler = scheduler
    self.config = config
    teacher?.eval()
    for p in teacher?.parameters() ?? [] { p.requiresGrad = false }
    unet.train()
    for p in unet.parameters() { p.requiresGrad = true }
    optimizer = Adam.adamW(groups: [ParamGroup(params: unet.parameters(), lr: config.learningRate, weightDecay: config.weightDecay)])
  }

  func generator(_ n: Int) -> Generator { Generator(seed: config.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(n) &* 0x94D0_49BB_1331_11EB &+ 7) }

  /// One step on clean samples [B, C, H, W] (in [-1, 1] or latents) and context [B, L, D]; returns the loss.
  @discardableResult
  public func train(samples: Tensor, context: Tensor, contextMask: Tensor? = nil) throws -> Float {
    let g = generator(step)
    let b = samples.shape[0]
    let timesteps = (0..<b).map { _ in Float(Int(g.next() % UInt64(scheduler.trainSteps))) }
    let noise = Tensor.randn(samples.shape, generator: g)
    let noisy = try scheduler.addNoise(samples, noise: noise, timesteps: timesteps)
    let v = scheduler.config.predictionType == "v_prediction"
    let target = v ? try scheduler.velocity(samples, noise: noise, timesteps: timesteps) : noise
    let blocks = teacher != nil && config.blockWeight > 0
    let student = try unet.forward(noisy, timesteps: timesteps, context: context, contextMask: contextMask, intermediates: blocks)
    let prediction = student.sample
    let snr = try scheduler.snr(timesteps)
    let weights: [Float] = snr.map { s in
      guard let gamma = config.snrGamma else { return 1 }
      let e = v ? s + 1 : s
      return Swift.min(e, gamma) / e
    }
    let perSample = try (prediction - target).pow(2).mean(axes: Array(1..<prediction.rank))
    let diffusion = try (perSample * Tensor.from(weights, shape: [b])).mean()
    var loss = diffusion
    var terms: [String: Float] = ["diffusion": try diffusion.item()]
    if let teacher {
      let reference = try GradMode.noGrad {
        try teacher.forward(noisy, timesteps: timesteps, context: context, contextMask: contextMask, intermediates: blocks)
      }
      let distillation = try (prediction - reference.sample).pow(2).mean()
      loss = try diffusion.scaled(config.diffusionWeight) + distillation.scaled(config.distillationWeight)
      terms["distillation"] = try distillation.item()
      if blocks {
        var sum = Tensor.scalar(0)
        let names = unet.blockOutputNames
        for name in names {
          guard let s = student.intermediates[name], let t = reference.intermediates[name] else { continue }
          sum = try sum + (s - t).pow(2).mean()
        }
        let block = try sum.scaled(1 / Float(names.count))
        loss = try loss + block.scaled(config.blockWeight)
        terms["block"] = try block.item()
      }
    }
    optimizer.groups[0].lr = config.learningRate * LRSchedule.constantWithWarmup(warmup: config.warmupSteps).factor(step)
    optimizer.zeroGrad()
    try loss.backward()
    if let clip = config.clipNorm { clipGradNorm(unet.parameters(), maxNorm: clip) }
    let value = try loss.item()
    if value.isFinite {
      try optimizer.step()
      updateEMA()
    }
    optimizer.zeroGrad()
    step += 1
    terms["loss"] = value
    lastTerms = terms
    return value
  }

  /// Moves the average toward the current weights; starts it from them on the first update (also
  /// when EMA is switched on in a resumed run).
  func updateEMA() {
    guard let decay = config.emaDecay else { return }
    let d = Swift.min(decay, Float(1 + emaUpdates) / Float(10 + emaUpdates))
    for (name, p) in unet.namedParameters() {
      guard let average = emaWeights[name], average.count == p.count else {
        emaWeights[name] = p.contiguousCopy()
        continue
      }
      let source = p.isContiguous ? p : p.contiguousCopy()
      let x = source.data, y = average.data
      for i in 0..<p.count { y[i] = d * y[i] + (1 - d) * x[i] }
    }
    emaUpdates += 1
  }

  /// Writes `unet/` (config.json + diffusion_pytorch_model.safetensors, loadable by diffusers),
  /// `unet_ema/` (the averaged weights, when EMA is on) and `trainer.safetensors` (AdamW state,
  /// EMA state, step) into `folder`, each atomically.
  public func save(in folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder + "/unet", withIntermediateDirectories: true)
    try unet.save(folder: folder + "/unet")
    if !emaWeights.isEmpty { try unet.save(folder: folder + "/unet_ema", replacing: emaWeights) }
    var tensors = optimizer.stateTensors()
    for (name, t) in emaWeights { tensors["ema." + name] = t }
    let state = try tensors.sorted { $0.key < $1.key }.map {
      try TensorPayload(name: $0.key, shape: $0.value.shape, floats: $0.value.toArray())
    }
    let metadata = ["step": String(step), "optimizer_steps": String(optimizer.stepCount), "ema_updates": String(emaUpdates)]
    try Safetensors.save(state, metadata: metadata, to: folder + "/trainer.safetensors")
  }

  /// Restores what `save` wrote.
  public func resume(from folder: String) throws {
    let path = folder + "/trainer.safetensors"
    guard fileExists(path) else { throw DiffusionError(file: folder, "no trainer.safetensors to resume from") }
    try unet.load(from: try SafetensorsCheckpoint.open(folder + "/unet"))
    let file = try SafetensorsCheckpoint.open(path)
    guard let s = file.metadata["step"]?.stringValue.flatMap(Int.init), let o = file.metadata["optimizer_steps"]?.stringValue.flatMap(Int.init) else {
      throw DiffusionError(file: path, "metadata lacks step / optimizer_steps")
    }
    var state: [String: Tensor] = [:]
    var ema: [String: Tensor] = [:]
    for r in file.records {
      if r.name.hasPrefix("ema.") { ema[String(r.name.dropFirst(4))] = try Tensor.reading(r) } else { state[r.name] = try Tensor.reading(r) }
    }
    try optimizer.loadStateTensors(state, stepCount: o)
    step = s
    emaWeights = ema
    emaUpdates = file.metadata["ema_updates"]?.stringValue.flatMap(Int.init) ?? 0
  }
}

extension UNet2DConditionModel {
  /// Saves the model as a diffusers folder: `config.json` and `diffusion_pytorch_model.safetensors`.
  /// `replacing` substitutes tensors by name (a trainer's averaged weights).
  public func save(folder: String, dtype: SafetensorsDType = .f32, replacing: [String: Tensor] = [:]) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let payloads = try state().map { name, t in
      let source = replacing[name] ?? t
      return try TensorPayload(name: name, shape: source.shape, floats: source.toArray(), as: dtype)
    }
    try Safetensors.save(payloads, metadata: ["format": "pt"], to: folder + "/diffusion_pytorch_model.safetensors")
    try AtomicFile.write(to: folder + "/config.json", bytes: Array(JSONWriter.render(config.configValue).utf8))
  }
}
