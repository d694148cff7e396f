// Samplers: diffusers' DDIM, DDPM, PNDM (PLMS, skip_prk_steps) and Euler discrete steps over the shared schedule.

import Foundation
import Formats
import TensorCore

/// DDIMScheduler (η = 0 is deterministic; η > 0 adds noise from `noise` or `generator`).
public final class DDIMScheduler: NoiseSchedule {
  public var eta: Float = 0
  /// ᾱ used when the previous timestep is below 0.
  public var finalAlphaCumprod: Float { config.setAlphaToOne ? 1 : alphasCumprod[0] }

  public override func step(_ output: Tensor, timestep: Float, sample: Tensor, noise: Tensor? = nil, generator: Generator? = nil) throws -> SchedulerStep {
    guard let n = inferenceSteps else { throw DiffusionError("DDIMScheduler: call set_timesteps before step") }
    let t = try index(timestep), prev = t - trainSteps / n
    let a = alphasCumprod[t], aPrev = prev >= 0 ? alphasCumprod[prev] : finalAlphaCumprod
    var (x0, eps) = try originalAndNoise(output, sample: sample, alphaProd: a)
    if config.clipSample {
      let r = Float(config.clipSampleRange)
      x0 = try x0.clamp(min: -r, max: r)
      eps = try (sample - x0.scaled(a.squareRoot())).scaled(1 / (1 - a).squareRoot())
    }
    let variance = (1 - aPrev) / (1 - a) * (1 - a / aPrev)
    let std = eta * variance.squareRoot()
    var prevSample = try x0.scaled(aPrev.squareRoot()) + eps.scaled((1 - aPrev - std * std).squareRoot())
    if eta > 0 {
      let z = noise ?? Tensor.randn(sample.shape, generator: generator ?? Generator(seed: 0))
      prevSample = try prevSample + z.scaled(std)
    }
    return SchedulerStep(prevSample: prevSample, predOriginal: x0)
  }
}

/// DDPMScheduler with `fixed_small` (or `fixed_large`) variance. Without `setTimesteps` it steps
/// t -> t − 1 (training schedule); after it, to the next inference timestep.
public final class DDPMScheduler: NoiseSchedule {
  func previous(_ t: Int) -> Int {
    guard inferenceSteps != nil, let i = timesteps.firstIndex(of: Float(t)) else { return t - 1 }
    return i + 1 < timesteps.count ? Int(timesteps[i + 1]) : -1
  }

  /// The posterior variance at t: (1 − ᾱ_prev) / (1 − ᾱ_t) · β_t, at least 1e-20.
  public func variance(_ timestep: Float) throws -> Float {
    let t = try index(timestep), prev = previous(t)
    let a = alphasCumprod[t], aPrev = prev >= 0 ? alphasCumprod[prev] : 1
    let beta = 1 - a / aPrev
    if config.varianceType == "fixed_large" { return beta }
    return max((1 - aPrev) / (1 - a) * beta, 1e-20)
  }

  public override func step(_ output: Tensor, timestep: Float, sample: Tensor, noise: Tensor? = nil, generator: Generator? = nil) throws -> SchedulerStep {
    let t = try index(timestep), prev = previous(t)
    let a = alphasCumprod[t], aPrev = prev >= 0 ? alphasCumprod[prev] : 1
    let b = 1 - a, bPrev = 1 - aPrev, alphaT = a / aPrev, betaT = 1 - alphaT
    var (x0, _) = try originalAndNoise(output, sample: sample, alphaProd: a)
    if config.clipSample {
      let r = Float(config.clipSampleRange)
      x0 = try x0.clamp(min: -r, max: r)
    }
    var prevSample = try x0.scaled(aPrev.squareRoot() * betaT / b) + sample.scaled(alphaT.squareRoot() * bPrev / b)
    if t > 0 {
      let z = noise ?? Tensor.randn(sample.shape, generator: generator ?? Generator(seed: 0))
      prevSample = try prevSample + z.scaled(try variance(timestep).squareRoot())
    }
    return SchedulerStep(prevSample: prevSample, predOriginal: x0)
  }
}

/// PNDMScheduler with `skip_prk_steps` (PLMS): a linear multistep method over the last up to
/// four model outputs; the second timestep repeats for its warm-up. It keeps history, so one
/// instance serves one generation (`setTimesteps` resets it).
public final class PNDMScheduler: NoiseSchedule {
  var history: [Tensor] = []
  var counter = 0
  var warmupSample: Tensor? = nil
  public var finalAlphaCumprod: Float { config.setAlphaToOne ? 1 : alphasCumprod[0] }

  public required init(_ config: SchedulerConfig) throws {
    guard config.skipPrkSteps else {
      throw DiffusionError("PNDMScheduler: only skip_prk_steps = true (PLMS, what Stable Diffusion uses) is supported")
    }
    try super.init(config)
  }

  public override func setTimesteps(_ n: Int) throws {
    let ascending = try spacedTimesteps(n).reversed().map(Float.init)
    let plms = Array(ascending.dropLast()) + (ascending.count >= 2 ? [ascending[ascending.count - 2]] : []) + [ascending[ascending.count - 1]]
    timesteps = plms.reversed()
    inferenceSteps = n
    history = []
    counter = 0
    warmupSample = nil
  }

  public override func step(_ output: Tensor, timestep: Float, sample: Tensor, noise: Tensor? = nil, generator: Generator? = nil) throws -> SchedulerStep {
    guard let n = inferenceSteps else { throw DiffusionError("PNDMScheduler: call set_timesteps before step") }
    let stride = trainSteps / n
    var t = try index(timestep), prev = t - stride
    if counter != 1 {
      history = Array(history.suffix(3)) + [output]
    } else {
      prev = t
      t += stride
    }
    var combined = output, x = sample
    switch (history.count, counter) {
    case (1, 0): warmupSample = sample
    case (1, 1):
      combined = try (output + history[0]).scaled(0.5)
      x = warmupSample ?? sample
      warmupSample = nil
    case (2, _): combined = try (history[1].scaled(3) - history[0]).scaled(0.5)
    case (3, _): combined = try (history[2].scaled(23) - history[1].scaled(16) + history[0].scaled(5)).scaled(1 / 12)
    default:
      let e = history.suffix(4).map { $0 }
      combined = try (e[3].scaled(55) - e[2].scaled(59) + e[1].scaled(37) - e[0].scaled(9)).scaled(1 / 24)
    }
    let prevSample = try previousSample(x, t: t, prev: prev, output: combined)
    counter += 1
    return SchedulerStep(prevSample: prevSample, predOriginal: nil)
  }

  /// Formula (9) of the PNDM paper, as diffusers' `_get_prev_sample`.
  func previousSample(_ sample: Tensor, t: Int, prev: Int, output: Tensor) throws -> Tensor {
    guard t < trainSteps else { throw DiffusionError("PNDMScheduler: timestep \(t) is beyond the schedule") }
    let a = alphasCumprod[t], aPrev = prev >= 0 ? alphasCumprod[prev] : finalAlphaCumprod
    let b = 1 - a, bPrev = 1 - aPrev
    var eps = output
    if config.predictionType == "v_prediction" { eps = try output.scaled(a.squareRoot()) + sample.scaled(b.squareRoot()) }
    let sampleCoeff = (aPrev / a).squareRoot()
    let denominator = a * bPrev.squareRoot() + (a * b * aPrev).squareRoot()
    return try sample.scaled(sampleCoeff) - eps.scaled((aPrev - a) / denominator)
  }
}

/// EulerDiscreteScheduler (deterministic, s_churn = 0): σ_t = √((1 − ᾱ)/ᾱ) interpolated at the
/// inference timesteps, inputs scaled by 1/√(σ² + 1), first-order steps in σ.
public final class EulerDiscreteScheduler: NoiseSchedule {
  public private(set) var sigmas: [Float] = []
  var stepIndex = 0

  public override func setTimesteps(_ n: Int) throws {
    let discrete = try spacedTimesteps(n)
    let table = alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
    sigmas = discrete.map { t in Float(Self.interpolate(Double(t), table)) } + [0]
    timesteps = discrete.map(Float.init)
    inferenceSteps = n
    stepIndex = 0
    let maxSigma = sigmas.max() ?? 0
    initNoiseSigma = ["linspace", "trailing"].contains(config.timestepSpacing) ? maxSigma : (maxSigma * maxSigma + 1).squareRoot()
  }

  /// np.interp over the table's integer positions.
  static func interpolate(_ x: Double, _ table: [Float]) -> Double {
    if x <= 0 { return Double(table[0]) }
    if x >= Double(table.count - 1) { return Double(table[table.count - 1]) }
    let i = Int(x.rounded(.down)), f = x - Double(i)
    return Double(table[i]) + (Double(table[i + 1]) - Double(table[i])) * f
  }

  func sigmaIndex(_ timestep: Float) throws -> Int {
    guard !sigmas.isEmpty else { throw DiffusionError("EulerDiscreteScheduler: call set_timesteps before stepping") }
    if stepIndex < timesteps.count, timesteps[stepIndex] == timestep { return stepIndex }
    guard let i = timesteps.firstIndex(of: timestep) else {
      throw DiffusionError("EulerDiscreteScheduler: timestep \(timestep) is not one of the inference timesteps")
    }
    return i
  }

  public override func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor {
    let sigma = sigmas[try sigmaIndex(timestep)]
    return try sample.scaled(1 / (sigma * sigma + 1).squareRoot())
  }

  public override func step(_ output: Tensor, timestep: Float, sample: Tensor, noise: Tensor? = nil, generator: Generator? = nil) throws -> SchedulerStep {
    let i = try sigmaIndex(timestep)
    let sigma = sigmas[i]
    let x0: Tensor
    switch config.predictionType {
    case "v_prediction": x0 = try output.scaled(-sigma / (sigma * sigma + 1).squareRoot()) + sample.scaled(1 / (sigma * sigma + 1))
    case "sample": x0 = output
    default: x0 = try sample - output.scaled(sigma)
    }
    let derivative = try (sample - x0).scaled(1 / sigma)
    let prevSample = try sample + derivative.scaled(sigmas[i + 1] - sigma)
    stepIndex = i + 1
    return SchedulerStep(prevSample: prevSample, predOriginal: x0)
  }
}

/// Builds the scheduler a `scheduler_config.json` names (`_class_name`).
public enum Schedulers {
  public static let supported = ["DDIMScheduler", "DDPMScheduler", "PNDMScheduler", "EulerDiscreteScheduler"]

  public static func make(_ config: SchedulerConfig) throws -> NoiseSchedule {
    switch config.className ?? "DDPMScheduler" {
    case "DDIMScheduler": return try DDIMScheduler(config)
    case "DDPMScheduler": return try DDPMScheduler(config)
    case "PNDMScheduler": return try PNDMScheduler(config)
    case "EulerDiscreteScheduler": return try EulerDiscreteScheduler(config)
    case let other: throw DiffusionError("scheduler \"\(other)\" is not supported (\(supported.joined(separator: ", ")))")
    }
  }

  /// Loads `scheduler_config.json` from a folder (or the file itself).
  public static func load(_ path: String) throws -> NoiseSchedule {
    let file = path.hasSuffix(".json") ? path : path + "/scheduler_config.json"
    do { return try make(try loadConfig(SchedulerConfig.self, from: file)) } catch let e as DiffusionError {
      throw DiffusionError(file: file, e.message)
    }
  }
}
