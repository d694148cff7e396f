// FormatsBindings: the `st` (safetensors), `image`, `yaml` and `json` modules and `describe(path)`.

import Formats
import NN
import Script
import TensorCore

func safetensorsModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "load", [p("path")], doc: "Every tensor of a .safetensors file (or sharded index, or model folder) as a map name -> tensor.") { a in
    let ckpt = try SafetensorsCheckpoint.open(try a.string(0))
    return .map(MapRef(try ckpt.records.map { ($0.name, ctx.wrap(try Tensor.reading($0))) }))
  }
  def(m, "info", [p("path")], doc: "Names, dtypes and shapes of the tensors and the metadata, without reading the data.") { a in
    let ckpt = try SafetensorsCheckpoint.open(try a.string(0))
    let tensors = ckpt.records.map { r in
      Value.map(MapRef([("name", .string(r.name)), ("dtype", .string(r.dtype.rawValue)),
        ("shape", .list(ListRef(r.shape.map { .number(Double($0)) })))]))
    }
    return .map(MapRef([("tensors", .list(ListRef(tensors))), ("metadata", scriptValue(.map(ckpt.metadata)))]))
  }
  def(m, "save", [p("path"), p("tensors"), p("metadata", .null), p("dtype", .string("F32"))],
    doc: "Writes a map name -> tensor atomically (temp file, fsync, rename); dtype F32, F16 or BF16 for float tensors.") { a in
    guard let dtype = SafetensorsDType(rawValue: try a.string(3).uppercased()) else { throw a.bad(3, "\"F32\", \"F16\" or \"BF16\"") }
    var payloads: [TensorPayload] = []
    for (k, v) in try a.map(1).entries {
      let t = try ctx.tensor(from: v) { "tensor '\(k)'" }
      if t.dtype == .int64 {
        payloads.append(try TensorPayload(name: k.description, shape: t.shape, int64s: t.toInts()))
      } else {
        payloads.append(try TensorPayload(name: k.description, shape: t.shape, floats: t.toArray(), as: dtype))
      }
    }
    var metadata: [String: String]? = nil
    if !a[2].isNull { metadata = Dictionary(uniqueKeysWithValues: try a.map(2).entries.map { ($0.0.description, a.interpreter.displayString($0.1)) }) }
    try Safetensors.save(payloads, metadata: metadata, to: try a.string(0))
    return .null
  }
  return m
}

func imageModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  func range(_ a: Arguments, _ i: Int) throws -> Image.FloatRange {
    switch try a.string(i) {
    case "0,1": return .zeroToOne
    case "-1,1": return .minusOneToOne
    default: throw a.bad(i, "\"0,1\" or \"-1,1\"")
    }
  }
  func image(_ t: Tensor, _ r: Image.FloatRange) throws -> Image {
    guard t.rank == 3, [1, 3, 4].contains(t.shape[0]) else {
      throw Diagnostic(.value, "image tensors are [C, H, W] with 1, 3 or 4 channels, got \(shapeString(t.shape))")
    }
    return try Image(chw: t.toArray(), width: t.shape[2], height: t.shape[1], channels: t.shape[0], range: r)
  }
  def(m, "load", [p("path"), p("range", .string("0,1"))], doc: "A PNG or JPEG as a [C, H, W] float tensor in [0, 1] (or [-1, 1]).") { a in
    let img = try Image.read(try a.string(0))
    return ctx.wrap(Tensor(img.floatsCHW(try range(a, 1)), shape: [img.channels, img.height, img.width]))
  }
  def(m, "save", [p("path"), p("tensor"), p("range", .string("0,1"))], doc: "Writes a [C, H, W] tensor as an 8-bit PNG, atomically.") { a in
    try image(try a.tensor(1, ctx), try range(a, 2)).write(to: try a.string(0))
    return .null
  }
  def(m, "grid", [p("path"), p("images"), p("cols", .number(4)), p("labels", .null), p("range", .string("0,1"))],
    doc: "Writes a labelled grid of [C, H, W] tensors as a PNG.") { a in
    let r = try range(a, 4)
    let images = try tensorList(a, 1, ctx).map { try image($0, r) }
    let labels = a[3].isNull ? nil : try a.list(3).map { a.interpreter.displayString($0) }
    try ImageGrid.write(images, columns: try a.int(2), labels: labels, to: try a.string(0))
    return .null
  }
  def(m, "resize", [p("image"), p("size"), p("filter", .string("bicubic")), p("range", .string("0,1"))],
    doc: "Resizes a [C, H, W] image tensor to [height, width] exactly as Pillow does (antialiased when shrinking); "
      + "filters: nearest, box, bilinear, hamming, bicubic, lanczos. Values are rounded to 8 bits like Pillow.") { a in
    guard let filter = ResampleFilter(rawValue: try a.string(2)) else { throw a.bad(2, ResampleFilter.allCases.map(\.rawValue).joined(separator: ", ")) }
    let size = try a.ints(1)
    guard size.count == 2, size.allSatisfy({ $0 > 0 }) else { throw a.bad(1, "[height, width]") }
    let r = try range(a, 3)
    let out = try image(try a.tensor(0, ctx), r).resized(width: size[1], height: size[0], filter: filter)
    return ctx.wrap(Tensor(out.floatsCHW(r), shape: [out.channels, out.height, out.width]))
  }
  def(m, "hflip", [p("image")], doc: "The [C, H, W] image tensor mirrored left to right (torchvision's RandomHorizontalFlip).") { a in
    let t = try a.tensor(0, ctx)
    guard t.rank == 3 else { throw Diagnostic(.value, "image tensors are [C, H, W], got \(shapeString(t.shape))") }
    return ctx.wrap(try translatingErrors { try t.flip([2]) })
  }
  def(m, "center_crop", [p("image"), p("size"), p("range", .string("0,1"))], doc: "The centered [height, width] crop of a [C, H, W] image tensor.") { a in
    let size = try a.ints(1)
    guard size.count == 2 else { throw a.bad(1, "[height, width]") }
    let r = try range(a, 2)
    let out = try image(try a.tensor(0, ctx), r).centerCropped(width: size[1], height: size[0])
    return ctx.wrap(Tensor(out.floatsCHW(r), shape: [out.channels, out.height, out.width]))
  }
  return m
}

/// `yaml` and `json`: load a file into maps and lists, save them back.
func configModule(format: String) -> MapRef {
  let m = MapRef()
  def(m, "load", [p("path"), p("overrides", .null), p("schema", .null)],
    doc: "Reads a \(format) file into maps and lists. `overrides`: [\"training.max_train_steps=200\", ...] applied on top. "
      + "`schema: \"aptp\"` checks the original APTP config keys: unknown keys print a warning with a suggestion, wrong types fail.") { a in
    let path = try a.string(0)
    var value = try ConfigLoader.load(path)
    if !a[1].isNull {
      try ConfigLoader.applyOverrides(try a.list(1).map { a.interpreter.displayString($0) }, to: &value)
    }
    if let schemaName = try a.optionalString(2), schemaName != "none" {
      guard schemaName == "aptp" else { throw a.bad(2, "\"aptp\" or \"none\"") }
      let report = ConfigSchema.aptp.validate(value)
      for w in report.warnings { a.interpreter.output("\(path): \(w)\n") }
      try report.throwIfErrors(file: path)
    }
    return scriptValue(value)
  }
  def(m, "save", [p("path"), p("value")], doc: "Writes a value as \(format) (the format follows the file extension).") { a in
    try ConfigLoader.save(try configValue(a[1], a.interpreter), to: try a.string(0))
    return .null
  }
  return m
}

func installDescribe(_ interp: Interpreter) {
  interp.define("describe", .function(native("describe", [p("path")],
    doc: "What a folder is: a diffusers pipeline or model, a transformers or sentence-transformers model, a tokenizer.") { a in
    .string(String(describing: try describeFolder(try a.string(0))))
  }))
}

func scriptValue(_ c: ConfigValue) -> Value {
  switch c {
  case .null: return .null
  case .bool(let b): return .bool(b)
  case .int(let i): return .number(Double(i))
  case .double(let d): return .number(d)
  case .string(let s): return .string(s)
  case .list(let l): return .list(ListRef(l.map(scriptValue)))
  case .map(let m): return .map(MapRef(m.entries.map { ($0.key, scriptValue($0.value)) }))
  }
}

func configValue(_ v: Value, _ interp: Interpreter) throws -> ConfigValue {
  switch v {
  case .null: return .null
  case .bool(let b): return .bool(b)
  case .number(let n): return n == n.rounded() && Swift.abs(n) < 9e15 ? .int(Int(n)) : .double(n)
  case .string(let s): return .string(s)
  case .list(let l): return .list(try l.items.map { try configValue($0, interp) })
  case .map(let m): return .map(ConfigMap(try m.entries.map { ($0.0.description, try configValue($0.1, interp)) }))
  default: throw Diagnostic(.type, "cannot store a \(v.typeName) in a config file")
  }
}
