// MetricsBindings: the `metrics` module — FID, CMMD and CLIP score on feature tensors.

import Formats
import Metrics
import NN
import Script
import TensorCore

/// Features [N, D] as row-major floats.
private func rows(_ a: Arguments, _ i: Int, _ ctx: BindingContext) throws -> (values: [Float], n: Int, d: Int) {
  let t = try a.tensor(i, ctx)
  guard t.rank == 2 else { throw a.bad(i, "feature tensor [N, D]") }
  return (t.toArray(), t.shape[0], t.shape[1])
}

func metricsModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "fid", [p("features1"), p("features2")],
    doc: "Fréchet distance between two feature sets [N, D] (float64 statistics, eigen-based trace of the matrix square root).") { a in
    let x = try rows(a, 0, ctx), y = try rows(a, 1, ctx)
    var s1 = FeatureStatistics(dimension: x.d), s2 = FeatureStatistics(dimension: y.d)
    try s1.add(x.values, rows: x.n)
    try s2.add(y.values, rows: y.n)
    return .number(try frechetDistance(s1, s2))
  }
  def(m, "cmmd", [p("x"), p("y"), p("sigma", .number(10)), p("scale", .number(1000))],
    doc: "CMMD: Gaussian-kernel MMD (biased) between embedding sets [N, D] and [M, D], times scale.") { a in
    let x = try rows(a, 0, ctx), y = try rows(a, 1, ctx)
    guard x.d == y.d else { throw a.bad(1, "embeddings of width \(x.d)") }
    return .number(try cmmd(x.values, rows: x.n, y.values, rows: y.n, dimension: x.d, sigma: try a.number(2), scale: try a.number(3)))
  }
  def(m, "clip_score", [p("images"), p("texts"), p("scale", .number(100))],
    doc: "scale · mean cosine of paired image and text embeddings [N, D] (the reference's CLIP score, not clamped).") { a in
    let x = try rows(a, 0, ctx), y = try rows(a, 1, ctx)
    guard x.n == y.n, x.d == y.d else { throw a.bad(1, "text embeddings [\(x.n), \(x.d)]") }
    return .number(try clipScore(images: x.values, texts: y.values, rows: x.n, dimension: x.d, logitScale: try a.number(2)))
  }
  def(m, "inception", [p("path")],
    doc: "The FID InceptionV3 from converted pytorch-fid weights (safetensors); call it on images [N, 3, H, W] in [0, 1] for [N, 2048] features.") { a in
    ctx.wrap(module: try InceptionV3.load(try a.string(0)))
  }
  def(m, "clip", [p("path")], doc: "A transformers CLIPModel folder (with its preprocessor_config.json, if any).") { a in
    let folder = try a.string(0)
    let processorPath = folder + "/preprocessor_config.json"
    let processor = fileExists(processorPath) ? CLIPImageProcessor(config: try ConfigLoader.load(processorPath)) : CLIPImageProcessor()
    return .native(NativeObject(type: ctx.clipModelType, payload: CLIPBox(try CLIPModel.load(folder: folder), processor)))
  }
  return m
}

/// A CLIP model with its image preprocessing.
final class CLIPBox {
  let model: CLIPModel
  let processor: CLIPImageProcessor
  init(_ model: CLIPModel, _ processor: CLIPImageProcessor) {
    self.model = model
    self.processor = processor
  }
}

func configureCLIPType(_ ctx: BindingContext) {
  let t = ctx.clipModelType
  let clip = { (a: Arguments) in try a.payload(CLIPBox.self, "CLIP") }
  t.describe = { o in (o.payload as? CLIPBox).map { "<CLIP projection \($0.model.config.projectionDim), image \($0.processor.cropWidth)px>" } ?? "<CLIP>" }
  method(t, "images", [p("pixels"), p("normalize", .bool(true))], doc: "Image embeddings [N, D] of preprocessed pixel values [N, 3, H, W].") { a in
    ctx.wrap(try GradMode.noGrad { try clip(a).model.imageEmbeddings(try a.tensor(0, ctx), normalize: try a.bool(1)) })
  }
  method(t, "texts", [p("ids"), p("normalize", .bool(true))], doc: "Text embeddings [N, D] of token ids [N, L] (int64).") { a in
    ctx.wrap(try GradMode.noGrad { try clip(a).model.textEmbeddings(try a.tensor(0, ctx), normalize: try a.bool(1)) })
  }
  method(t, "preprocess", [p("image")], doc: "Pixel values [1, 3, h, w] of an image file (CLIPImageProcessor: resize, center crop, normalise).") { a in
    let path = try a.string(0)
    let image = path.lowercased().hasSuffix(".png") ? try PNG.read(path) : try JPEG.read(path)
    return ctx.wrap(try clip(a).processor(image))
  }
  t.properties["scale"] = NativeProperty(doc: "exp(logit_scale).") { o in .number(Double((try? (o.payload as? CLIPBox)?.model.scale) ?? 0)) }
  t.properties["model"] = NativeProperty(doc: "The model as a Module.") { o in
    guard let b = o.payload as? CLIPBox else { return .null }
    return ctx.wrap(module: b.model)
  }
}
