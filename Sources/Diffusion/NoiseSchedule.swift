// NoiseSchedule: the beta/alpha schedule every scheduler shares, inference timestep spacing, add_noise, velocity, SNR.

import Foundation
import Formats
import TensorCore

/// One denoising step's result.
public struct SchedulerStep {
  /// x_{t-1}.
  public let prevSample: Tensor
  /// The model's estimate of x_0 at this step (nil for PNDM, which does not form one).
  public let predOriginal: Tensor?
}

/// The part of diffusers' schedulers that does not depend on the sampler: betas (linear,
/// scaled_linear, squaredcos_cap_v2 or trained), alphas and their cumulative product in float32
/// as diffusers computes them, forward noising and the velocity target.
public class NoiseSchedule {
  public let config: SchedulerConfig
  public let betas: [Float], alphas: [Float], alphasCumprod: [Float]
  /// The inference timesteps after `setTimesteps` (descending).
  public internal(set) var timesteps: [Float] = []
  public internal(set) var inferenceSteps: Int? = nil
  /// The standard deviation of the initial noise (1 except for sigma-parameterised schedulers).
  public internal(set) var initNoiseSigma: Float = 1

  public var name: String { config.className ?? String(describing: type(of: self)) }
  public var trainSteps: Int { config.numTrainTimesteps }

  public required init(_ config: SchedulerConfig) throws {
    guard config.numTrainTimesteps >= 2 else { throw DiffusionError("num_train_timesteps must be at least 2, got \(config.numTrainTimesteps)") }
    guard ["epsilon", "v_prediction", "sample"].contains(config.predictionType) else {
      throw DiffusionError("prediction_type \"\(config.predictionType)\" is not supported (epsilon, v_prediction, sample)")
    }
    self.config = config
    betas = try Self.makeBetas(config)
    alphas = betas.map { 1 - $0 }
    var product: Double = 1
    alphasCumprod = alphas.map { a in
      product *= Double(a)  // torch's cumprod accumulates in double and rounds each output
      return Float(product)
    }
  }

  static func makeBetas(_ c: SchedulerConfig) throws -> [Float] {
    let n = c.numTrainTimesteps
    if let trained = c.trainedBetas {
      guard trained.count == n else { throw DiffusionError("trained_betas has \(trained.count) values for \(n) timesteps") }
      return trained.map { Float($0) }
    }
    switch c.betaSchedule {
    case "linear": return linspace(Float(c.betaStart), Float(c.betaEnd), n)
    case "scaled_linear": return linspace(Float(c.betaStart.squareRoot()), Float(c.betaEnd.squareRoot()), n).map { $0 * $0 }
    case "squaredcos_cap_v2":
      let alphaBar = { (t: Double) in pow(cos((t + 0.008) / 1.008 * Double.pi / 2), 2) }
      return (0..<n).map { i in Float(min(1 - alphaBar(Double(i + 1) / Double(n)) / alphaBar(Double(i) / Double(n)), 0.999)) }
    default:
      throw DiffusionError("beta_schedule \"\(c.betaSchedule)\" is not supported (linear, scaled_linear, squaredcos_cap_v2)")
    }
  }

  /// torch.linspace in float32: start + i·step for the first half, end − (n−1−i)·step for the rest.
  static func linspace(_ start: Float, _ end: Float, _ n: Int) -> [Float] {
    let step = (end - start) / Float(n - 1)
    return (0..<n).map { i in i < n / 2 ? start + step * Float(i) : end - step * Float(n - 1 - i) }
  }

  /// The train timesteps used at inference, by `timestep_spacing` and `steps_offset` (descending).
  func spacedTimesteps(_ n: Int) throws -> [Int] {
    let total = trainSteps
    guard n >= 1, n <= total else { throw DiffusionError("inference steps must be in 1...\(total), got \(n)") }
    switch config.timestepSpacing {
    case "leading":
      let ratio = total / n
      return (0..<n).reversed().map { $0 * ratio + config.stepsOffset }
    case "trailing":
      let ratio = Double(total) / Double(n)
      return stride(from: Double(total), to: 0, by: -ratio).map { Int(($0).rounded(.toNearestOrEven)) - 1 }
    case "linspace":
      return (0..<n).map { i in Int((Double(total - 1) * Double(i) / Double(max(n - 1, 1))).rounded(.toNearestOrEven)) }.reversed()
    default:
      throw DiffusionError("timestep_spacing \"\(config.timestepSpacing)\" is not supported (leading, trailing, linspace)")
    }
  }

  /// A train timestep as an index into the schedule, or an error naming the valid range.
  func index(_ t: Float) throws -> Int {
    guard t.isFinite, t == t.rounded(), t >= 0, Int(t) < trainSteps else {
      throw DiffusionError("timestep \(t) is not an integer in 0..<\(trainSteps)")
    }
    return Int(t)
  }

  /// Per-sample coefficients as a [B, 1, ..., 1] tensor that broadcasts over `like`.
  func perSample(_ values: [Float], like x: Tensor) throws -> Tensor {
    try Tensor.from(values, shape: [values.count] + Array(repeating: 1, count: max(x.rank - 1, 0)))
  }

  /// x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, with one timestep per sample (or one for all).
  public func addNoise(_ original: Tensor, noise: Tensor, timesteps: [Float]) throws -> Tensor {
    let (a, s) = try coefficients(timesteps, batch: original.shape.first ?? 1)
    return try original * perSample(a, like: original) + noise * perSample(s, like: noise)
  }

  /// The v-prediction target √ᾱ_t · ε − √(1 − ᾱ_t) · x_0.
  public func velocity(_ sample: Tensor, noise: Tensor, timesteps: [Float]) throws -> Tensor {
    let (a, s) = try coefficients(timesteps, batch: sample.shape.first ?? 1)
    return try noise * perSample(a, like: noise) - sample * perSample(s, like: sample)
  }

  /// Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) (used by Min-SNR loss weighting).
  public func snr(_ timesteps: [Float]) throws -> [Float] {
    try timesteps.map { t in
      let a = alphasCumprod[try index(t)]
      return a / (1 - a)
    }
  }

  private func coefficients(_ timesteps: [Float], batch: Int) throws -> ([Float], [Float]) {
    let ts = timesteps.count == 1 ? Array(repeating: timesteps[0], count: batch) : timesteps
    guard ts.count == batch else { throw DiffusionError("got \(timesteps.count) timesteps for a batch of \(batch)") }
    let acp = try ts.map { alphasCumprod[try index($0)] }
    return (acp.map { $0.squareRoot() }, acp.map { (1 - $0).squareRoot() })
  }

  /// x_0 and ε from a model output at ᾱ_t, by prediction type.
  func originalAndNoise(_ output: Tensor, sample: Tensor, alphaProd a: Float) throws -> (Tensor, Tensor) {
    let b = 1 - a
    switch config.predictionType {
    case "v_prediction":
      return (try sample.scaled(a.squareRoot()) - output.scaled(b.squareRoot()), try output.scaled(a.squareRoot()) + sample.scaled(b.squareRoot()))
    case "sample":
      return (output, try (sample - output.scaled(a.squareRoot())).scaled(1 / b.squareRoot()))
    default:
      return (try (sample - output.scaled(b.squareRoot())).scaled(1 / a.squareRoot()), output)
    }
  }

  /// Sets the inference timesteps; subclasses add their own state.
  public func setTimesteps(_ n: Int) throws {
    timesteps = try spacedTimesteps(n).map(Float.init)
    inferenceSteps = n
  }

  /// The model input at `timestep` (identity except for sigma-parameterised schedulers).
  public func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor { sample }

  /// One denoising step; `noise` (or draws from `generator`) is used by stochastic samplers.
  public func step(_ output: Tensor, timestep: Float, sample: Tensor, noise: Tensor? = nil, generator: Generator? = nil) throws -> SchedulerStep {
    throw DiffusionError("\(name) does not implement step")
  }
}
