// DiffusionBindings: the `diffusion` module and the UNet, VAE, Scheduler and Pipeline types.

import Diffusion
import Formats
import NN
import Script
import TensorCore
import Text

extension Arguments {
  /// Timesteps as a number, a list of numbers or a tensor.
  func timesteps(_ i: Int, _ ctx: BindingContext) throws -> [Float] {
    switch self[i] {
    case .number(let n): return [Float(n)]
    case .list(let l):
      return try l.items.map { v in
        guard case .number(let n) = v else { throw bad(i, "timestep number, list of numbers or tensor") }
        return Float(n)
      }
    default: return try tensor(i, ctx).toArray()
    }
  }

  /// A config given as a map (decoded with the library's defaults) or a path to a JSON/YAML file.
  func config<T: Decodable>(_ i: Int, _ type: T.Type) throws -> T {
    if case .string(let path) = self[i] { return try loadConfig(type, from: path) }
    return try ConfigValueDecoder(file: "<\(callee) argument>").decode(type, from: try configValue(try map(i).asValue, interpreter))
  }
}

extension MapRef {
  var asValue: Value { .map(self) }
}

extension BindingContext {
  func wrap(unet: UNet2DConditionModel) -> Value { .native(NativeObject(type: unetType, payload: unet)) }
  func wrap(vae: AutoencoderKL) -> Value { .native(NativeObject(type: vaeType, payload: vae)) }
  func wrap(scheduler: NoiseSchedule) -> Value { .native(NativeObject(type: schedulerType, payload: scheduler)) }
  func wrap(pipeline: TextToImagePipeline) -> Value { .native(NativeObject(type: pipelineType, payload: pipeline)) }
}

func diffusionModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "unet", [p("config"), p("seed", .number(0))],
    doc: "A randomly initialised UNet2DConditionModel from a config map or config.json path (diffusers defaults for missing keys).") { a in
    ctx.wrap(unet: try UNet2DConditionModel(try a.config(0, UNet2DConditionConfig.self), generator: Generator(seed: UInt64(try a.int(1)))))
  }
  def(m, "vae", [p("config"), p("seed", .number(0))], doc: "A randomly initialised AutoencoderKL from a config map or path.") { a in
    ctx.wrap(vae: try AutoencoderKL(try a.config(0, AutoencoderKLConfig.self), generator: Generator(seed: UInt64(try a.int(1)))))
  }
  def(m, "scheduler", [p("config")],
    doc: "A scheduler from a scheduler_config.json path/folder or a map with _class_name (DDIMScheduler, DDPMScheduler, PNDMScheduler, EulerDiscreteScheduler).") { a in
    if case .string(let path) = a[0] { return ctx.wrap(scheduler: try Schedulers.load(path)) }
    return ctx.wrap(scheduler: try Schedulers.make(try a.config(0, SchedulerConfig.self)))
  }
  def(m, "trainer", [p("unet"), p("scheduler"), p("lr", .number(1e-4)), p("warmup", .number(200)), p("snr_gamma", .number(5)), p("weight_decay", .number(0.01)), p("clip", .number(1)), p("seed", .number(0)),
    p("teacher", .null), p("diffusion_weight", .number(1)), p("distillation_weight", .number(0)), p("block_weight", .number(0)), p("ema", .null)],
    doc: "A resumable trainer for a UNet on the scheduler's target (v or epsilon) with Min-SNR weights (snr_gamma: nil for plain MSE) and AdamW; with a frozen teacher UNet, loss = diffusion_weight·diffusion + distillation_weight·output MSE + block_weight·block MSE (APTP fine-tuning). ema: a decay (e.g. 0.999) to keep a moving average of the weights, saved as dir/unet_ema.") { a in
    var c = DiffusionTrainingConfig()
    c.learningRate = Float(try a.number(2))
    c.warmupSteps = try a.int(3)
    c.snrGamma = try a.optionalNumber(4).map(Float.init)
    c.weightDecay = Float(try a.number(5))
    c.clipNorm = try a.optionalNumber(6).map(Float.init)
    c.seed = UInt64(max(0, try a.int(7)))
    c.diffusionWeight = Float(try a.number(9))
    c.distillationWeight = Float(try a.number(10))
    c.blockWeight = Float(try a.number(11))
    if let decay = try a.optionalNumber(12) {
      guard decay > 0, decay < 1 else { throw a.bad(12, "decay between 0 and 1") }
      c.emaDecay = Float(decay)
    }
    let teacher = a.isNil(8) ? nil : try a.native(8, UNet2DConditionModel.self, "UNet")
    let t = DiffusionTrainer(
      unet: try a.native(0, UNet2DConditionModel.self, "UNet"), scheduler: try a.native(1, NoiseSchedule.self, "Scheduler"), config: c,
      teacher: teacher)
    return .native(NativeObject(type: ctx.diffusionTrainerType, payload: t))
  }
  def(m, "pipeline", [p("unet"), p("scheduler"), p("text"), p("vae", .null)],
    doc: "A text-to-image pipeline from parts: text is a SentenceEncoder (token states) or a pipeline folder's text encoder; no vae = pixel space.") { a in
    ctx.wrap(pipeline: try TextToImagePipeline(
      unet: try a.native(0, UNet2DConditionModel.self, "UNet"), scheduler: try a.native(1, NoiseSchedule.self, "Scheduler"),
      vae: a.isNil(3) ? nil : try a.native(3, AutoencoderKL.self, "VAE"), promptEncoder: try promptEncoder(a, 2)))
  }
  return m
}

/// The prompt encoder argument: a SentenceEncoder (token states) or another pipeline's encoder.
private func promptEncoder(_ a: Arguments, _ i: Int) throws -> any PromptEncoder {
  guard case .native(let o) = a[i] else { throw a.bad(i, "SentenceEncoder or Pipeline") }
  switch o.payload {
  case let e as SentenceEncoder: return TokenStatePromptEncoder(e)
  case let p as TextToImagePipeline: return p.promptEncoder
  default: throw a.bad(i, "SentenceEncoder or Pipeline")
  }
}

extension Arguments {
  /// The payload of a native argument of the given class.
  func native<T>(_ i: Int, _ type: T.Type, _ what: String) throws -> T {
    guard case .native(let o) = self[i], let v = o.payload as? T else { throw bad(i, what) }
    return v
  }
}
