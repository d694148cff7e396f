// DiffusionTypes: methods and properties of the UNet, VAE, Scheduler and Pipeline script types.

import Diffusion
import Formats
import NN
import Script
import TensorCore

func configureDiffusionTypes(_ ctx: BindingContext) {
  configureUNetType(ctx)
  configureVAEType(ctx)
  configureSchedulerType(ctx)
  configurePipelineType(ctx)
}

private func configureUNetType(_ ctx: BindingContext) {
  let t = ctx.unetType
  installModuleBehaviour(on: t, ctx)
  t.call = native("UNet", [p("sample"), p("t"), p("context"), p("mask", .null)],
    doc: "The prediction for sample [B, C, H, W] at timestep(s) t given context [B, L, D]; mask [B, L] (1 = keep) hides padding tokens.") { a in
    let unet = try a.payload(UNet2DConditionModel.self, "UNet")
    return ctx.wrap(try unet.forward(
      try a.tensor(0, ctx), timesteps: try a.timesteps(1, ctx), context: try a.tensor(2, ctx), contextMask: try a.optionalTensor(3, ctx)).sample)
  }
  method(t, "intermediates", [p("sample"), p("t"), p("context"), p("mask", .null)],
    doc: "{sample, time_embedding, down_blocks.i.res_samples.j, mid_block, up_blocks.i, ...}: every block's output in one call.") { a in
    let unet = try a.payload(UNet2DConditionModel.self, "UNet")
    let out = try unet.forward(
      try a.tensor(0, ctx), timesteps: try a.timesteps(1, ctx), context: try a.tensor(2, ctx), contextMask: try a.optionalTensor(3, ctx),
      intermediates: true)
    return .map(MapRef([("sample", ctx.wrap(out.sample))] + out.intermediates.sorted { $0.key < $1.key }.map { ($0.key, ctx.wrap($0.value)) }))
  }
  t.properties["config"] = NativeProperty(doc: "The model's config.json values.") { o in
    guard let u = o.payload as? UNet2DConditionModel else { return .null }
    return unetConfigValue(u.config)
  }
}

/// The main UNet config values as a script map (for inspection and teaching).
private func unetConfigValue(_ c: UNet2DConditionConfig) -> Value {
  let ints = { (v: [Int]) in Value.list(ListRef(v.map { .number(Double($0)) })) }
  let strings = { (v: [String]) in Value.list(ListRef(v.map { .string($0) })) }
  return .map(MapRef([
    ("in_channels", .number(Double(c.inChannels))), ("out_channels", .number(Double(c.outChannels))),
    ("block_out_channels", ints(c.blockOutChannels)), ("down_block_types", strings(c.downBlockTypes)),
    ("up_block_types", strings(c.upBlockTypes)), ("heads_per_block", ints(c.headsPerBlock)),
    ("cross_attention_dim", ints(c.crossAttentionDim.perBlock(c.blockOutChannels.count))),
    ("layers_per_block", ints(c.layersPerBlock.perBlock(c.blockOutChannels.count))),
    ("norm_num_groups", .number(Double(c.normNumGroups ?? 32))), ("use_linear_projection", .bool(c.useLinearProjection)),
    ("sample_size", c.sampleSize?.first.map { .number(Double($0)) } ?? .null),
  ]))
}

private func configureVAEType(_ ctx: BindingContext) {
  let t = ctx.vaeType
  installModuleBehaviour(on: t, ctx)
  method(t, "encode", [p("images")], doc: "{mean, logvar, std} of the latent distribution of images [B, C, H, W] in [-1, 1].") { a in
    let d = try a.payload(AutoencoderKL.self, "VAE").encode(try a.tensor(0, ctx))
    return .map(MapRef([("mean", ctx.wrap(d.mean)), ("logvar", ctx.wrap(d.logvar)), ("std", ctx.wrap(try d.std))]))
  }
  method(t, "sample", [p("images"), p("seed", .number(0))], doc: "A latent sample mean + std·ε (seeded), not yet multiplied by scaling_factor.") { a in
    let d = try a.payload(AutoencoderKL.self, "VAE").encode(try a.tensor(0, ctx))
    return ctx.wrap(try d.sample(generator: Generator(seed: UInt64(try a.int(1)))))
  }
  method(t, "decode", [p("latents")], doc: "Images [B, C, H·f, W·f] from latents already divided by scaling_factor.") { a in
    ctx.wrap(try a.payload(AutoencoderKL.self, "VAE").decode(try a.tensor(0, ctx)))
  }
  t.properties["scaling_factor"] = NativeProperty(doc: "Latents are multiplied by this after encoding.") { o in
    .number(Double((o.payload as? AutoencoderKL)?.scalingFactor ?? 1))
  }
}

private func configureSchedulerType(_ ctx: BindingContext) {
  let t = ctx.schedulerType
  t.describe = { o in
    guard let s = o.payload as? NoiseSchedule else { return "<Scheduler>" }
    return "<\(s.name) \(s.config.betaSchedule) \(s.config.predictionType), \(s.timesteps.count) inference steps>"
  }
  let sched = { (a: Arguments) in try a.payload(NoiseSchedule.self, "Scheduler") }
  method(t, "set_timesteps", [p("steps")], doc: "Chooses `steps` inference timesteps (timestep_spacing, steps_offset).") { a in
    try sched(a).setTimesteps(try a.int(0))
    return .null
  }
  method(t, "step", [p("output"), p("t"), p("sample"), p("noise", .null), p("seed", .null)],
    doc: "One denoising step: {prev_sample, pred_original} (noise/seed feed stochastic samplers such as DDPM).") { a in
    let s = try sched(a)
    let generator = try a.optionalInt(4).map { Generator(seed: UInt64($0)) }
    let r = try s.step(try a.tensor(0, ctx), timestep: try a.timesteps(1, ctx)[0], sample: try a.tensor(2, ctx), noise: try a.optionalTensor(3, ctx), generator: generator)
    return .map(MapRef([("prev_sample", ctx.wrap(r.prevSample)), ("pred_original", r.predOriginal.map(ctx.wrap) ?? .null)]))
  }
  method(t, "add_noise", [p("original"), p("noise"), p("t")], doc: "√ᾱ_t·x0 + √(1−ᾱ_t)·noise, t one per sample or one for all.") { a in
    ctx.wrap(try sched(a).addNoise(try a.tensor(0, ctx), noise: try a.tensor(1, ctx), timesteps: try a.timesteps(2, ctx)))
  }
  method(t, "velocity", [p("original"), p("noise"), p("t")], doc: "The v-prediction target √ᾱ_t·noise − √(1−ᾱ_t)·x0.") { a in
    ctx.wrap(try sched(a).velocity(try a.tensor(0, ctx), noise: try a.tensor(1, ctx), timesteps: try a.timesteps(2, ctx)))
  }
  method(t, "scale_model_input", [p("sample"), p("t")], doc: "The UNet input at t (divides by √(σ²+1) for Euler, identity otherwise).") { a in
    ctx.wrap(try sched(a).scaleModelInput(try a.tensor(0, ctx), timestep: try a.timesteps(1, ctx)[0]))
  }
  method(t, "snr", [p("t")], doc: "Signal-to-noise ratio ᾱ/(1−ᾱ) per timestep, as a list.") { a in
    .list(ListRef(try sched(a).snr(try a.timesteps(0, ctx)).map { .number(Double($0)) }))
  }
  t.properties["timesteps"] = NativeProperty(doc: "The inference timesteps after set_timesteps.") { o in
    .list(ListRef(((o.payload as? NoiseSchedule)?.timesteps ?? []).map { .number(Double($0)) }))
  }
  t.properties["init_noise_sigma"] = NativeProperty(doc: "Standard deviation of the initial noise.") { o in
    .number(Double((o.payload as? NoiseSchedule)?.initNoiseSigma ?? 1))
  }
  t.properties["alphas_cumprod"] = NativeProperty(doc: "ᾱ_t for every train timestep, as a tensor.") { o in
    ctx.wrap(Tensor((o.payload as? NoiseSchedule)?.alphasCumprod ?? []))
  }
  t.properties["train_steps"] = NativeProperty(doc: "num_train_timesteps.") { o in .number(Double((o.payload as? NoiseSchedule)?.trainSteps ?? 0)) }
}

private func configurePipelineType(_ ctx: BindingContext) {
  let t = ctx.pipelineType
  t.describe = { o in
    guard let p = o.payload as? TextToImagePipeline else { return "<Pipeline>" }
    return "<Pipeline \(p.unet.summary), \(p.scheduler.name), \(p.vae == nil ? "pixel space" : "VAE /\(p.scaleFactor)")>"
  }
  method(t, "generate",
    [p("prompts"), p("steps", .number(50)), p("guidance", .number(7.5)), p("seed", .number(0)), p("negative", .null),
     p("height", .null), p("width", .null), p("latents", .null), p("callback", .null)],
    doc: "Images [B, C, H, W] in [0, 1] for a prompt or list of prompts; callback(step, t, latents) runs after every step.") { a in
    let pipe = try a.payload(TextToImagePipeline.self, "Pipeline")
    var o = GenerationOptions()
    o.steps = try a.int(1)
    o.guidance = Float(try a.number(2))
    o.seed = UInt64(max(0, try a.int(3)))
    o.negative = a.isNil(4) ? nil : try a.prompts(4)
    o.height = try a.optionalInt(5)
    o.width = try a.optionalInt(6)
    o.latents = try a.optionalTensor(7, ctx)
    let callback = a[8]
    let interp = a.interpreter
    let out = try pipe.generate(try a.prompts(0), options: o, callback: a.isNil(8) ? nil : { i, step, latents in
      _ = try interp.callValue(callback, [.number(Double(i)), .number(Double(step)), ctx.wrap(latents)])
    })
    return ctx.wrap(out.images)
  }
  t.properties["unet"] = NativeProperty(doc: "The UNet.") { o in (o.payload as? TextToImagePipeline).map { ctx.wrap(unet: $0.unet) } ?? .null }
  t.properties["vae"] = NativeProperty(doc: "The VAE (nil for pixel-space models).") { o in
    (o.payload as? TextToImagePipeline)?.vae.map { ctx.wrap(vae: $0) } ?? .null
  }
  t.properties["scheduler"] = NativeProperty(doc: "The scheduler.") { o in
    (o.payload as? TextToImagePipeline).map { ctx.wrap(scheduler: $0.scheduler) } ?? .null
  }
}
