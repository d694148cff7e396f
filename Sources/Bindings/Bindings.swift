// Bindings: installs the native modules (tensor, nn, optim) and types into an interpreter, and
// turns native errors into script diagnostics with the callee's name.

import Datasets
import Diffusion
import Metrics
import Formats
import NN
import Pruning
import Script
import TensorCore
import Text

/// Per-interpreter state the bindings keep: the native types and the default random generator.
public final class BindingContext {
  /// Used by random functions when no `seed:` or `generator:` is given; `tensor.seed(n)` resets it.
  public let generator = Generator(seed: 0)
  public let tensorType = NativeType(name: "Tensor", doc: "An n-dimensional float32 (or int64) array with autograd.")
  public let generatorType = NativeType(name: "Generator", doc: "A seeded random generator (xoshiro256**).")
  public let moduleType = NativeType(name: "Module", doc: "A neural-network layer with named parameters.")
  public let optimizerType = NativeType(name: "Optimizer", doc: "Updates parameters from their gradients.")
  public let sentenceEncoderType = NativeType(
    name: "SentenceEncoder", doc: "A sentence-transformers model: prompts -> vectors (the router's z).")
  public let tokenizerType = NativeType(name: "Tokenizer", doc: "A WordPiece or CLIP BPE tokenizer: text -> token ids.")
  public let clipEncoderType = NativeType(name: "CLIPTextEncoder", doc: "A CLIP text encoder: token ids -> token states.")
  public let unetType = NativeType(name: "UNet", doc: "A UNet2DConditionModel: unet(sample, t, context) -> noise (or v) prediction.")
  public let vaeType = NativeType(name: "VAE", doc: "An AutoencoderKL: encode(images) -> latent distribution, decode(latents) -> images.")
  public let schedulerType = NativeType(name: "Scheduler", doc: "A diffusion noise scheduler (DDIM, DDPM, PNDM, Euler).")
  public let pipelineType = NativeType(name: "Pipeline", doc: "A text-to-image pipeline: generate(prompts, ...) -> images.")
  public let diffusionTrainerType = NativeType(name: "DiffusionTrainer", doc: "Trains a UNet: step(samples, context, mask), save(dir), resume(dir).")
  public let shapesType = NativeType(name: "ShapesWorld", doc: "The built-in captioned shapes dataset.")
  public let captionedImagesType = NativeType(name: "CaptionedImages", doc: "Captioned images on disk (a CC3M or COCO split): captions, images, batches.")
  public let clipModelType = NativeType(name: "CLIP", doc: "A CLIP model: image and text embeddings for CLIP score and CMMD.")
  public let lossLogType = NativeType(name: "LossLog", doc: "A run's log: one map per step; prints as a sparkline per term.")
  public let statsType = NativeType(name: "FIDStats", doc: "Mean and covariance of features (float64) for FID; cacheable with save(path).")
  public let trainerType = NativeType(name: "PruningTrainer", doc: "An APTP pruning run: step(batch), save(dir), resume(dir).")
  public let routerType = NativeType(name: "Router", doc: "An APTP prompt router: route(embeddings) -> experts and codes.")
  public init() {}
}

/// Entry point: makes the native layers available to scripts.
public enum Bindings {
  /// Installs `tensor`, `nn` and `optim` as preloaded modules and global helpers.
  @discardableResult
  public static func install(into interp: Interpreter) -> BindingContext {
    let ctx = BindingContext()
    configureTensorType(ctx)
    configureGeneratorType(ctx)
    configureModuleType(ctx)
    configureOptimizerType(ctx)
    configureTextTypes(ctx)
    configureDiffusionTypes(ctx)
    configureExpertMethods(ctx)
    configurePruningTypes(ctx)
    configureDataTypes(ctx)
    configureCLIPType(ctx)
    let modules: [(String, MapRef)] = [
      ("tensor", tensorModule(ctx)), ("nn", nnModule(ctx)), ("optim", optimModule(ctx)),
      ("st", safetensorsModule(ctx)), ("image", imageModule(ctx)), ("yaml", configModule(format: "YAML")),
      ("json", configModule(format: "JSON")), ("text", textModule(ctx)), ("diffusion", diffusionModule(ctx)), ("pruning", pruningModule(ctx)), ("data", dataModule(ctx)), ("metrics", metricsModule(ctx)), ("plot", plotModule(ctx)),
      ("io", ioModule()),
    ]
    for (name, m) in modules {
      interp.nativeModules[name] = .map(m)
      interp.define(name, .map(m))
    }
    installDescribe(interp)
    installLoad(interp, ctx)
    interp.defineFunction(
      "no_grad", [Parameter("f")],
      doc: "Calls f() with gradient recording off (like `with torch.no_grad():`) and returns its result."
    ) { a in
      try GradMode.noGrad { try a.interpreter.callValue(a[0], []) }
    }
    return ctx
  }
}

/// A native function whose tensor errors become script diagnostics naming the function.
func native(
  _ name: String, _ params: [Parameter], doc: String, _ body: @escaping (Arguments) throws -> Value
) -> NativeFunction {
  NativeFunction(name, params, doc: doc) { a in
    do {
      return try body(a)
    } catch let e as TensorError {
      throw Diagnostic(e.kind == .index ? .index : (e.kind == .argument ? .value : .type), e.description)
    } catch let e as ModuleError {
      throw Diagnostic(.value, e.description)
    } catch let e as FormatError {
      throw Diagnostic(.io, e.description)
    } catch let e as TextError {
      throw Diagnostic(e.file == nil ? .value : .io, e.description)
    } catch let e as DiffusionError {
      throw Diagnostic(e.file == nil ? .value : .io, e.description)
    } catch let e as PruningError {
      throw Diagnostic(e.file == nil ? .value : .io, e.description)
    } catch let e as MetricsError {
      throw Diagnostic(.value, e.description)
    } catch let e as DatasetError {
      throw Diagnostic(.value, e.description)
    } catch let e as CheckpointMismatch {
      throw Diagnostic(.io, e.description)
    }
  }
}

/// Adds `name` to a module map as a native function.
func def(
  _ m: MapRef, _ name: String, _ params: [Parameter], doc: String, _ body: @escaping (Arguments) throws -> Value
) {
  m[name] = .function(native(name, params, doc: doc, body))
}

/// Adds a method to a native type.
func method(
  _ t: NativeType, _ name: String, _ params: [Parameter], doc: String, _ body: @escaping (Arguments) throws -> Value
) {
  t.methods[name] = native(name, params, doc: doc, body)
}

/// Shorthands for parameter lists.
func p(_ name: String) -> Parameter { Parameter(name) }
func p(_ name: String, _ d: DefaultValue) -> Parameter { Parameter(name, default: d) }
