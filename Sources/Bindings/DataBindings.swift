// DataBindings: the `data` module (the shapes world) and the diffusion trainer type.

import Datasets
import Diffusion
import Formats
import Script
import TensorCore

func dataModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "shapes", [p("seed", .number(0)), p("resolution", .number(32)), p("train", .number(50_000)), p("validation", .number(1_000))],
    doc: "The shapes world: sample i of a split is a pure function of (seed, split, i); images [3, r, r] in [-1, 1] with captions.") { a in
    let r = try a.int(1)
    guard r >= 8, r <= 512 else { throw a.bad(1, "resolution in 8...512") }
    let world = ShapesWorld(seed: UInt64(max(0, try a.int(0))), resolution: r, trainCount: max(0, try a.int(2)), validationCount: max(0, try a.int(3)))
    return .native(NativeObject(type: ctx.shapesType, payload: ShapesBox(world)))
  }
  def(m, "cc3m", [p("folder"), p("split", .string("train"))],
    doc: "A Conceptual Captions split in the original's layout: folder/Train_GCC-training.tsv + folder/training/<row>_<hash> (or the validation pair).") { a in
    .native(NativeObject(type: ctx.captionedImagesType, payload: try CaptionedImages.cc3m(folder: try a.string(0), split: try a.string(1))))
  }
  def(m, "coco", [p("folder"), p("split", .string("train")), p("year", .number(2014))],
    doc: "MS-COCO captions (one row per annotation, file order): folder/annotations/captions_<split><year>.json + folder/images/<split><year>/.") { a in
    .native(NativeObject(type: ctx.captionedImagesType, payload: try CaptionedImages.coco(folder: try a.string(0), split: try a.string(1), year: try a.int(2))))
  }
  def(m, "coco30k", [p("folder"), p("count", .number(30_000)), p("seed", .number(42)), p("year", .number(2014))],
    doc: "The original's COCO-30k evaluation set: first caption per val image, then numpy's seed-42 choice without replacement.") { a in
    let seed = try a.int(2)
    guard seed >= 0, seed <= Int(UInt32.max) else { throw a.bad(2, "seed in 0...2^32-1") }
    return .native(NativeObject(type: ctx.captionedImagesType, payload: try CaptionedImages.coco30k(
      folder: try a.string(0), count: try a.int(1), seed: UInt32(seed), year: try a.int(3))))
  }
  return m
}

/// Holds the (value-type) world as a native payload.
final class ShapesBox {
  let world: ShapesWorld
  init(_ world: ShapesWorld) { self.world = world }
}

extension Arguments {
  func split(_ i: Int) throws -> ShapesWorld.Split {
    guard let s = ShapesWorld.Split(rawValue: try string(i)) else { throw bad(i, "\"train\" or \"validation\"") }
    return s
  }
}

func configureDataTypes(_ ctx: BindingContext) {
  let t = ctx.shapesType
  let world = { (a: Arguments) in try a.payload(ShapesBox.self, "ShapesWorld").world }
  t.describe = { o in
    guard let w = (o.payload as? ShapesBox)?.world else { return "<ShapesWorld>" }
    return "<ShapesWorld seed \(w.seed), \(w.resolution)px, \(w.trainCount) train / \(w.validationCount) validation>"
  }
  method(t, "batch", [p("split"), p("indices")], doc: "{images [N, 3, r, r] in [-1, 1], captions, complexity} for sample indices of a split.") { a in
    let (images, captions, scenes) = try world(a).batch(try a.split(0), try a.ints(1))
    return .map(MapRef([
      ("images", ctx.wrap(images)), ("captions", .list(ListRef(captions.map { .string($0) }))),
      ("complexity", .list(ListRef(scenes.map { .number(Double($0.complexity)) }))),
      ("objects", .list(ListRef(scenes.map { .number(Double($0.objects.count)) }))),
    ]))
  }
  method(t, "caption", [p("split"), p("index")], doc: "The caption of one sample.") { a in
    let w = try world(a), s = try a.split(0), i = try a.int(1)
    guard i >= 0, i < w.count(s) else { throw a.bad(1, "index in 0..<\(w.count(s))") }
    return .string(w.scene(s, i).caption)
  }
  t.properties["resolution"] = NativeProperty(doc: "Image side in pixels.") { o in .number(Double((o.payload as? ShapesBox)?.world.resolution ?? 0)) }
  t.properties["seed"] = NativeProperty(doc: "The world's seed.") { o in .number(Double((o.payload as? ShapesBox)?.world.seed ?? 0)) }
  method(t, "size", [p("split")], doc: "Number of samples in a split.") { a in .number(Double(try world(a).count(try a.split(0)))) }
  method(t, "report", [p("split"), p("count", .null)],
    doc: "The split's distribution over its first `count` scenes: {scenes, objects, complexity, mean_complexity, with_relation, kinds, colors} (count maps keyed by value).") { a in
    let r = try world(a).report(try a.split(0), count: try a.optionalInt(1))
    let counts = { (d: [Int: Int]) in Value.map(MapRef(d.sorted { $0.key < $1.key }.map { (String($0.key), .number(Double($0.value))) })) }
    let named = { (d: [String: Int]) in Value.map(MapRef(d.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })) }
    return .map(MapRef([
      ("scenes", .number(Double(r.scenes))), ("objects", counts(r.objects)), ("complexity", counts(r.complexity)),
      ("mean_complexity", .number(r.meanComplexity)), ("with_relation", .number(Double(r.withRelation))),
      ("kinds", named(r.kinds)), ("colors", named(r.colors)),
    ]))
  }
  method(t, "export_cc3m", [p("folder"), p("train", .null), p("validation", .null)],
    doc: "Writes both splits in the CC3M layout (TSV + extension-less PNG files) under folder; counts default to the world's split sizes.") { a in
    try world(a).exportCC3M(to: try a.string(0), train: try a.optionalInt(1), validation: try a.optionalInt(2))
    return .null
  }
  configureCaptionedImagesType(ctx)

  let d = ctx.diffusionTrainerType
  let trainer = { (a: Arguments) in try a.payload(DiffusionTrainer.self, "DiffusionTrainer") }
  d.describe = { o in (o.payload as? DiffusionTrainer).map { "<DiffusionTrainer step \($0.step), lr \($0.config.learningRate)>" } ?? "<DiffusionTrainer>" }
  method(d, "step", [p("samples"), p("context"), p("mask", .null)], doc: "One training step; returns the (Min-SNR weighted) loss.") { a in
    .number(Double(try trainer(a).train(samples: try a.tensor(0, ctx), context: try a.tensor(1, ctx), contextMask: try a.optionalTensor(2, ctx))))
  }
  method(d, "save", [p("dir")], doc: "Writes dir/unet (a diffusers folder), dir/unet_ema (the averaged weights, when the trainer keeps an EMA) and dir/trainer.safetensors, each atomically.") { a in
    try trainer(a).save(in: try a.string(0))
    return .null
  }
  method(d, "resume", [p("dir")], doc: "Restores weights, AdamW state and step from dir; returns the step.") { a in
    try trainer(a).resume(from: try a.string(0))
    return .number(Double(try trainer(a).step))
  }
  d.properties["step"] = NativeProperty(doc: "Completed steps.") { o in .number(Double((o.payload as? DiffusionTrainer)?.step ?? 0)) }
  d.properties["terms"] = NativeProperty(doc: "The last step's loss terms {loss, diffusion, distillation?, block?}.") { o in
    .map(MapRef(((o.payload as? DiffusionTrainer)?.lastTerms ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) }))
  }
}

func configureCaptionedImagesType(_ ctx: BindingContext) {
  let t = ctx.captionedImagesType
  let split = { (a: Arguments) in try a.payload(CaptionedImages.self, "CaptionedImages") }
  t.describe = { o in (o.payload as? CaptionedImages).map { "<CaptionedImages \($0.folder): \($0.samples.count) rows>" } ?? "<CaptionedImages>" }
  method(t, "path", [p("index")], doc: "The image file of sample index.") { a in
    let s = try split(a), i = try a.int(0)
    guard i >= 0, i < s.samples.count else { throw a.bad(0, "index in 0..<\(s.samples.count)") }
    return .string(s.samples[i].path)
  }
  method(t, "size", [], doc: "Number of images found (rows without an image are absent).") { a in .number(Double(try split(a).samples.count)) }
  method(t, "caption", [p("index")], doc: "The caption of sample index.") { a in
    let s = try split(a), i = try a.int(0)
    guard i >= 0, i < s.samples.count else { throw a.bad(0, "index in 0..<\(s.samples.count)") }
    return .string(s.samples[i].caption)
  }
  method(t, "captions", [], doc: "All captions in row order (prompt-only iteration, e.g. for filtering).") { a in
    .list(ListRef(try split(a).samples.map { .string($0.caption) }))
  }
  method(t, "batch", [p("indices"), p("resolution", .number(512)), p("seed", .null), p("generator", .null)],
    doc: "{images [N, 3, r, r] in [-1, 1], captions, skipped}: resize shortest side, center crop, random flip when a seed or generator is given; corrupt images are skipped and listed.") { a in
    var random = try a.optionalInt(2) != nil
    if case .native = a[3] { random = true }
    let flips = random ? try a.generator(seed: 2, generator: 3, ctx) : nil
    let (images, captions, skipped) = try split(a).batch(try a.ints(0), resolution: try a.int(1), flips: flips)
    return .map(MapRef([
      ("images", ctx.wrap(images)), ("captions", .list(ListRef(captions.map { .string($0) }))),
      ("skipped", .list(ListRef(skipped.map { .string($0) }))),
    ]))
  }
}
