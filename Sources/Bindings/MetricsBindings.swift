// MetricsBindings: the `metrics` module — FID, CMMD and CLIP score on feature tensors.

import Foundation
import Formats
import Metrics
import NN
import Text
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
  def(m, "fid", [p("a"), p("b")],
    doc: "Fréchet distance between two feature sets [N, D] or FID statistics (float64, eigen-based trace of the matrix square root).") { a in
    func stats(_ i: Int) throws -> FeatureStatistics {
      if case .native(let o) = a[i], let s = o.payload as? StatsBox { return s.stats }
      let x = try rows(a, i, ctx)
      var s = FeatureStatistics(dimension: x.d)
      try s.add(x.values, rows: x.n)
      return s
    }
    return .number(try frechetDistance(try stats(0), try stats(1)))
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
  installFeatureFunctions(m, ctx)
  def(m, "inception", [p("path"), p("mode", .string("legacy"))],
    doc: "The FID InceptionV3 from converted pytorch-fid weights (safetensors); call it on images [N, 3, H, W] in [0, 1] for [N, 2048] features. mode \"clean\" resizes image files to 299 with Pillow's bicubic first (clean-fid's clean mode) when used with metrics.features.") { a in
    let model = try InceptionV3.load(try a.string(0))
    switch try a.string(1) {
    case "legacy", "legacy_pytorch": return ctx.wrap(module: model)
    case "clean": return .native(NativeObject(type: ctx.moduleType, payload: CleanInception(model)))
    default: throw a.bad(1, "\"legacy\" or \"clean\"")
    }
  }
  def(m, "clip", [p("path")], doc: "A transformers CLIPModel folder (with its preprocessor_config.json, if any).") { a in
    let folder = try a.string(0)
    let processorPath = folder + "/preprocessor_config.json"
    let processor = fileExists(processorPath) ? CLIPImageProcessor(config: try ConfigLoader.load(processorPath)) : CLIPImageProcessor()
    let tokenizer = fileExists(folder + "/vocab.json") && fileExists(folder + "/merges.txt") ? try CLIPTokenizer.load(folder: folder) : nil
    return .native(NativeObject(type: ctx.clipModelType, payload: CLIPBox(try CLIPModel.load(folder: folder), processor, tokenizer)))
  }
  return m
}

/// A CLIP model with its image preprocessing.
final class CLIPBox {
  let model: CLIPModel
  let processor: CLIPImageProcessor
  /// The folder's tokenizer (vocab.json + merges.txt), when it ships one.
  let tokenizer: CLIPTokenizer?
  init(_ model: CLIPModel, _ processor: CLIPImageProcessor, _ tokenizer: CLIPTokenizer?) {
    self.model = model
    self.processor = processor
    self.tokenizer = tokenizer
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
  method(t, "prompts", [p("prompts"), p("normalize", .bool(true))],
    doc: "Text embeddings [N, D] of prompts, tokenized with the folder's CLIP tokenizer (padded to its length).") { a in
    let box = try clip(a)
    guard let tokenizer = box.tokenizer else { throw Diagnostic(.value, "this CLIP folder has no tokenizer (vocab.json + merges.txt)") }
    let ids = tokenizer.batch(try a.prompts(0), length: tokenizer.maxLength).ids
    return ctx.wrap(try GradMode.noGrad { try box.model.textEmbeddings(ids, normalize: try a.bool(1)) })
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

/// The Inception network in clean-fid's "clean" mode: image files are resized to 299 x 299 with
/// Pillow's bicubic filter before the network (whose own bilinear resize is then the identity).
final class CleanInception: Module {
  let model: InceptionV3
  init(_ model: InceptionV3) {
    self.model = model
    super.init()
    registerModule("inception", model)
  }
  override var summary: String { "InceptionV3(FID, clean-fid clean mode)" }
  override func forward(_ images: Tensor) throws -> Tensor { try model.features(images) }
}

/// FID feature statistics kept native (a 2048 x 2048 covariance is too big for script values).
final class StatsBox {
  let stats: FeatureStatistics
  init(_ stats: FeatureStatistics) { self.stats = stats }
}

/// The image files of a folder that metrics read, sorted by name.
func imageFiles(_ folder: String) throws -> [String] {
  guard isDirectory(folder) else { throw FormatError(.io, file: folder, "no such folder") }
  let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
    let n = $0.lowercased()
    return n.hasSuffix(".png") || n.hasSuffix(".jpg") || n.hasSuffix(".jpeg") || n.hasSuffix(".npy")
  }.sorted()
  guard !names.isEmpty else { throw FormatError(.io, file: folder, "holds no .png, .jpg or .npy images") }
  return names.map { folder + "/" + $0 }
}

/// An image file as 8-bit RGB.
func readRGB(_ path: String) throws -> Image {
  let lower = path.lowercased()
  let image = lower.hasSuffix(".npy") ? try NPY.readImage(path) : lower.hasSuffix(".png") ? try PNG.read(path) : try JPEG.read(path)
  switch image.channels {
  case 3: return image
  case 1, 2, 4:
    var rgb = [UInt8](repeating: 0, count: image.width * image.height * 3)
    for p in 0..<(image.width * image.height) {
      for c in 0..<3 { rgb[p * 3 + c] = image.pixels[p * image.channels + (image.channels >= 3 ? c : 0)] }
    }
    return try Image(width: image.width, height: image.height, channels: 3, pixels: rgb)
  default: throw FormatError(.image, file: path, "unsupported channel count \(image.channels)")
  }
}

/// RGB images to [N, 3, H, W] floats in [0, 1] (all the same size).
func imageTensor(_ images: [Image]) throws -> Tensor {
  guard let first = images.first else { throw MetricsError("no images") }
  let (w, h) = (first.width, first.height)
  let out = Tensor(shape: [images.count, 3, h, w], zeroed: false)
  for (n, im) in images.enumerated() {
    guard im.width == w, im.height == h else { throw MetricsError("images in one batch must share a size (\(w)x\(h) vs \(im.width)x\(im.height))") }
    for c in 0..<3 { for p in 0..<(w * h) { out.data[((n * 3) + c) * w * h + p] = Float(im.pixels[p * 3 + c]) / 255 } }
  }
  return out
}

extension BindingContext {
  /// Features of image files with Inception (any size, batched by size) or CLIP (its preprocessing);
  /// unreadable files are skipped and returned.
  func features(_ paths: [String], net: Value, batch: Int) throws -> (Tensor, [String]) {
    var rows: [Tensor] = [], skipped: [String] = []
    var pending: [Image] = []
    func flush() throws {
      guard !pending.isEmpty else { return }
      rows.append(try extract(pending, net: net))
      pending = []
    }
    for path in paths {
      guard let image = try? readRGB(path) else {
        skipped.append(path)
        continue
      }
      if let last = pending.last, last.width != image.width || last.height != image.height { try flush() }
      pending.append(image)
      if pending.count >= batch { try flush() }
    }
    try flush()
    guard !rows.isEmpty else { throw MetricsError("no readable images (\(skipped.count) skipped)") }
    return (try Tensor.cat(rows, axis: 0), skipped)
  }

  func extract(_ images: [Image], net: Value) throws -> Tensor {
    guard case .native(let o) = net else { throw Diagnostic(.type, "net must be metrics.inception(...) or metrics.clip(...)") }
    return try GradMode.noGrad {
      if let clip = o.payload as? CLIPBox {
        let pixels = try Tensor.cat(try images.map { try clip.processor($0) }, axis: 0)
        return try clip.model.imageEmbeddings(pixels)
      }
      if let clean = o.payload as? CleanInception {
        return try clean.model.features(try imageTensor(try images.map { try $0.resized(width: 299, height: 299, filter: .bicubic) }))
      }
      if let module = o.payload as? Module { return try module.forward(try imageTensor(images)) }
      throw Diagnostic(.type, "net must be metrics.inception(...) or metrics.clip(...)")
    }
  }
}

func installFeatureFunctions(_ m: MapRef, _ ctx: BindingContext) {
  def(m, "image_files", [p("folder")], doc: "The .png/.jpg/.npy files of a folder, sorted by name.") { a in
    .list(ListRef(try imageFiles(try a.string(0)).map { .string($0) }))
  }
  def(m, "features", [p("images"), p("net"), p("batch", .number(32))],
    doc: "{features [N, D], skipped}: features of a folder or list of image files with metrics.inception or metrics.clip; unreadable files are skipped and listed.") { a in
    let paths: [String]
    switch a[0] {
    case .string(let folder): paths = try imageFiles(folder)
    case .list(let l): paths = try l.items.map { v in
        guard case .string(let s) = v else { throw a.bad(0, "folder or list of file paths") }
        return s
      }
    default: throw a.bad(0, "folder or list of file paths")
    }
    let (features, skipped) = try ctx.features(paths, net: a[1], batch: max(1, try a.int(2)))
    return .map(MapRef([("features", ctx.wrap(features)), ("skipped", .list(ListRef(skipped.map { .string($0) })))]))
  }
  def(m, "stats", [p("features")], doc: "FID statistics (mean, covariance in float64) of features [N, D]; .save(path) caches them.") { a in
    let t = try a.tensor(0, ctx)
    guard t.rank == 2 else { throw a.bad(0, "features [N, D]") }
    var s = FeatureStatistics(dimension: t.shape[1])
    try s.add(t.toArray(), rows: t.shape[0])
    return .native(NativeObject(type: ctx.statsType, payload: StatsBox(s)))
  }
  def(m, "load_stats", [p("path")], doc: "FID statistics saved with stats.save(path).") { a in
    .native(NativeObject(type: ctx.statsType, payload: StatsBox(try FeatureStatistics.load(try a.string(0)))))
  }
  let t = ctx.statsType
  t.describe = { o in (o.payload as? StatsBox).map { "<FIDStats \($0.stats.count) samples, \($0.stats.dimension)-d>" } ?? "<FIDStats>" }
  method(t, "save", [p("path")], doc: "Writes mean and covariance (float64) and the count as safetensors, atomically.") { a in
    try a.payload(StatsBox.self, "FIDStats").stats.save(try a.string(0))
    return .null
  }
  t.properties["count"] = NativeProperty(doc: "Number of samples.") { o in .number(Double((o.payload as? StatsBox)?.stats.count ?? 0)) }
}
