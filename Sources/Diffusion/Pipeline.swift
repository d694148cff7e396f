// Pipeline: text-to-image generation — prompt encoding, classifier-free guidance, the denoising loop, decoding.

import Foundation
import Formats
import NN
import TensorCore
import Text

/// Settings of one generation (diffusers' `__call__` arguments).
public struct GenerationOptions {
  public var steps = 50
  /// Classifier-free guidance scale; guidance is off at 1 or below.
  public var guidance: Float = 7.5
  /// Negative prompts (one per prompt, or one for all); empty strings by default.
  public var negative: [String]? = nil
  /// Image size in pixels (default: the UNet's sample_size times the VAE factor).
  public var height: Int? = nil, width: Int? = nil
  /// Seeds the initial noise when `latents` is not given.
  public var seed: UInt64 = 0
  /// Explicit initial latents [B, C, h, w] (used as given, times the scheduler's init sigma).
  public var latents: Tensor? = nil

  public init() {}
}

/// The result: images [B, C, H, W] in [0, 1] and the final latents.
public struct GenerationOutput {
  public let images: Tensor
  public let latents: Tensor
}

/// Stable Diffusion's text-to-image loop over any prompt encoder, UNet, scheduler and optional
/// VAE (none: the UNet works in pixel space).
public final class TextToImagePipeline {
  public let unet: UNet2DConditionModel
  public let scheduler: NoiseSchedule
  public let vae: AutoencoderKL?
  public let promptEncoder: any PromptEncoder

  /// Called after every step with (step index, timestep, latents); throwing stops the loop.
  public typealias StepCallback = (Int, Float, Tensor) throws -> Void

  public init(unet: UNet2DConditionModel, scheduler: NoiseSchedule, vae: AutoencoderKL?, promptEncoder: any PromptEncoder) throws {
    let width = unet.config.crossAttentionDim.perBlock(unet.config.blockOutChannels.count)[0]
    guard promptEncoder.contextWidth == width else {
      throw DiffusionError("the text encoder gives \(promptEncoder.contextWidth)-wide states but the UNet's cross_attention_dim is \(width)")
    }
    if let vae, vae.config.latentChannels != unet.config.inChannels {
      throw DiffusionError("the VAE has \(vae.config.latentChannels) latent channels but the UNet takes \(unet.config.inChannels)")
    }
    (self.unet, self.scheduler, self.vae, self.promptEncoder) = (unet, scheduler, vae, promptEncoder)
  }

  /// Pixels per latent pixel (1 without a VAE).
  public var scaleFactor: Int { vae?.downsamplingFactor ?? 1 }

  /// Generates one image per prompt.
  public func generate(_ prompts: [String], options: GenerationOptions = .init(), callback: StepCallback? = nil) throws
    -> GenerationOutput
  {
    guard !prompts.isEmpty else { throw DiffusionError("generate needs at least one prompt") }
    return try GradMode.noGrad {
      let guided = options.guidance > 1
      let context = try encodePrompts(prompts, negative: options.negative, guided: guided)
      try scheduler.setTimesteps(options.steps)
      var latents = try initialLatents(count: prompts.count, options)
      for (i, t) in scheduler.timesteps.enumerated() {
        let input = try scheduler.scaleModelInput(guided ? Tensor.cat([latents, latents], axis: 0) : latents, timestep: t)
        var prediction = try unet.forward(input, timesteps: [t], context: context.states, contextMask: context.mask).sample
        if guided {
          let halves = try prediction.chunk(2, axis: 0)
          prediction = try halves[0] + (halves[1] - halves[0]).scaled(options.guidance)
        }
        latents = try scheduler.step(prediction, timestep: t, sample: latents).prevSample
        try callback?(i, t, latents)
      }
      return GenerationOutput(images: try decode(latents), latents: latents)
    }
  }

  /// Context for the UNet batch: negatives first, then the prompts, when guidance is on.
  func encodePrompts(_ prompts: [String], negative: [String]?, guided: Bool) throws -> (states: Tensor, mask: Tensor?) {
    guard guided else { return try promptEncoder.context(prompts) }
    var negatives = negative ?? Array(repeating: "", count: prompts.count)
    if negatives.count == 1 { negatives = Array(repeating: negatives[0], count: prompts.count) }
    guard negatives.count == prompts.count else {
      throw DiffusionError("got \(negatives.count) negative prompts for \(prompts.count) prompts (give one, or one per prompt)")
    }
    return try promptEncoder.context(negatives + prompts)
  }

  func initialLatents(count: Int, _ o: GenerationOptions) throws -> Tensor {
    let f = scaleFactor, defaultSize = (unet.config.sampleSize?.first ?? 64) * f
    let (h, w) = (o.height ?? defaultSize, o.width ?? defaultSize)
    let shape = [count, unet.config.inChannels, h / f, w / f]
    guard h > 0, w > 0, h % f == 0, w % f == 0 else {
      throw DiffusionError("image size \(h)x\(w) must be positive and divisible by the VAE factor \(f)")
    }
    if let given = o.latents {
      guard given.shape == shape else { throw DiffusionError("latents must be \(shape), got \(given.shape)") }
      return try given.scaled(scheduler.initNoiseSigma)
    }
    return try Tensor.randn(shape, generator: Generator(seed: o.seed)).scaled(scheduler.initNoiseSigma)
  }

  /// Latents -> images in [0, 1] (through the VAE after dividing by its scaling factor).
  public func decode(_ latents: Tensor) throws -> Tensor {
    let raw = try vae.map { try $0.decode(latents.scaled(1 / $0.scalingFactor)) } ?? latents
    return try (raw.scaled(0.5) + 0.5).clamp(min: 0, max: 1)
  }
}
