// Layouts: recognises HuggingFace folder layouts (diffusers pipelines and models, transformers and
// sentence-transformers models, tokenizers, schedulers) and describes them for people.
import Foundation

/// What a folder (or file) holds, as `describeFolder` found it.
public struct FolderDescription: Sendable, CustomStringConvertible {
  /// The recognised layouts; the raw value is the human name.
  public enum Kind: String, Sendable {
    case diffusersPipeline = "diffusers pipeline"
    case diffusersModel = "diffusers model"
    case transformersModel = "transformers model"
    case sentenceTransformers = "sentence-transformers model"
    case tokenizer
    case scheduler = "diffusers scheduler"
    case safetensorsFile = "safetensors file"
    case unknown
  }

  /// A named part of a pipeline or sentence-transformers model.
  public struct Component: Sendable {
    /// The key in `model_index.json` or `modules.json` (`unet`, `1`, ...).
    public let name: String
    /// `diffusers` / `transformers` for pipeline entries; the module type for sentence-transformers.
    public let library: String?
    /// The class that loads the part (`UNet2DConditionModel`, `Pooling(mean, dim 384)`, ...).
    public let className: String?
    /// The part's own description, when its folder exists.
    public let folder: FolderDescription?
  }

  /// The folder or file described.
  public let path: String
  /// What the folder holds.
  public let kind: Kind
  /// `_class_name` (diffusers), `architectures[0]` (transformers), `tokenizer_class`, ...
  public let className: String?
  /// Files directly in the folder, sorted.
  public let files: [String]
  /// Safetensors weight files or index found.
  public let weightFiles: [String]
  /// Total parameters from safetensors headers (summed over components for a pipeline); nil without weights.
  public let parameterCount: Int?
  /// The parts of a pipeline or sentence-transformers model.
  public let components: [Component]
  /// Remarks such as missing component folders or unreadable weight formats.
  public let notes: [String]

  public var description: String { render(indent: "", label: nil).joined(separator: "\n") }

  func render(indent: String, label: String?) -> [String] {
    var line = indent + (label.map { $0 + ": " } ?? "") + kind.rawValue
    if let className { line += " " + className }
    if label == nil { line += " at " + path }
    var details: [String] = []
    if let parameterCount { details.append(formatCount(parameterCount) + " parameters") }
    if !weightFiles.isEmpty { details.append(weightFiles.joined(separator: ", ")) }
    if details.isEmpty, kind == .tokenizer || kind == .scheduler { details.append(files.joined(separator: ", ")) }
    if !details.isEmpty { line += " (" + details.joined(separator: "; ") + ")" }
    var lines = [line]
    for c in components {
      if let folder = c.folder {
        lines += folder.render(indent: indent + "  ", label: c.name)
      } else {
        let library = c.library.flatMap { lib in c.className?.hasPrefix(lib) == true ? nil : lib }
        lines.append(indent + "  " + c.name + ": " + [library, c.className].compactMap { $0 }.joined(separator: " "))
      }
    }
    for note in notes { lines.append(indent + "  note: " + note) }
    return lines
  }
}

/// `1234567` as `1,234,567 (1.23M)`.
func formatCount(_ n: Int) -> String {
  var digits = Array(String(n))
  var grouped = ""
  while digits.count > 3 {
    grouped = "," + String(digits.suffix(3)) + grouped
    digits.removeLast(3)
  }
  grouped = String(digits) + grouped
  let units: [(Double, String)] = [(1e9, "B"), (1e6, "M"), (1e3, "K")]
  for (scale, unit) in units where Double(n) >= scale {
    return grouped + " (" + String(format: "%.2f", Double(n) / scale) + unit + ")"
  }
  return grouped
}

private let tokenizerFiles = [
  "tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt", "special_tokens_map.json",
  "spiece.model", "sentencepiece.bpe.model",
]

/// Detects and describes the HuggingFace layout of `path` (a folder, or a single `.safetensors` file).
/// Throws when the path is missing or a config or weight file in it is malformed.
public func describeFolder(_ path: String) throws -> FolderDescription {
  if fileExists(path) {
    guard path.hasSuffix(".safetensors") || path.hasSuffix(".safetensors.index.json") else {
      throw FormatError(.layout, file: path, "expected a folder or a .safetensors file")
    }
    let checkpoint = try SafetensorsCheckpoint.open(path)
    return FolderDescription(
      path: path, kind: .safetensorsFile, className: nil, files: [AtomicFile.splitPath(path).name],
      weightFiles: checkpoint.files.map { AtomicFile.splitPath($0.path).name },
      parameterCount: checkpoint.elementCount, components: [],
      notes: ["\(checkpoint.records.count) tensors"])
  }
  guard isDirectory(path) else { throw FormatError(.io, file: path, "no such file or folder") }
  let files = try listFiles(path)
  let has = Set(files)
  if has.contains("model_index.json") { return try describePipeline(path, files: files) }
  if has.contains("modules.json") { return try describeSentenceTransformer(path, files: files) }
  if has.contains("scheduler_config.json") {
    let config = try ConfigLoader.load(path + "/scheduler_config.json")
    return FolderDescription(
      path: path, kind: .scheduler, className: config["_class_name"]?.stringValue, files: files, weightFiles: [],
      parameterCount: nil, components: [], notes: [])
  }
  if has.contains("config.json") {
    let config = try ConfigLoader.load(path + "/config.json")
    let diffusersWeights = has.contains { $0.hasPrefix("diffusion_pytorch_model") }
    let isDiffusers = diffusersWeights || config["_class_name"] != nil
    let className =
      isDiffusers
      ? config["_class_name"]?.stringValue
      : (config["architectures"]?.listValue?.first?.stringValue ?? config["model_type"]?.stringValue)
    let (weights, count, notes) = try weightsSummary(path, files: files, stem: isDiffusers ? "diffusion_pytorch_model" : "model")
    return FolderDescription(
      path: path, kind: isDiffusers ? .diffusersModel : .transformersModel, className: className, files: files,
      weightFiles: weights, parameterCount: count, components: [], notes: notes)
  }
  if has.contains(where: tokenizerFiles.contains) {
    var className: String?
    if has.contains("tokenizer_config.json") {
      className = try ConfigLoader.load(path + "/tokenizer_config.json")["tokenizer_class"]?.stringValue
    }
    return FolderDescription(
      path: path, kind: .tokenizer, className: className, files: files.filter(tokenizerFiles.contains),
      weightFiles: [], parameterCount: nil, components: [], notes: [])
  }
  return FolderDescription(
    path: path, kind: .unknown, className: nil, files: files, weightFiles: [], parameterCount: nil, components: [],
    notes: ["no model_index.json, modules.json, config.json, scheduler_config.json or tokenizer files"])
}

private func listFiles(_ path: String) throws -> [String] {
  do {
    return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
  } catch {
    throw FormatError(.io, file: path, "cannot list the folder: \(error.localizedDescription)")
  }
}

/// The safetensors weights of a model folder with stem `model` or `diffusion_pytorch_model`.
private func weightsSummary(_ path: String, files: [String], stem: String) throws -> ([String], Int?, [String]) {
  let single = stem + ".safetensors"
  let index = single + ".index.json"
  if files.contains(single) {
    return ([single], try SafetensorsCheckpoint.open(path + "/" + single).elementCount, [])
  }
  if files.contains(index) {
    let checkpoint = try SafetensorsCheckpoint.open(path + "/" + index)
    let shards = checkpoint.files.map { AtomicFile.splitPath($0.path).name }
    return ([index] + shards, checkpoint.elementCount, [])
  }
  if let other = files.first(where: { $0.hasSuffix(".safetensors") }) {
    return ([other], try SafetensorsCheckpoint.open(path + "/" + other).elementCount, [])
  }
  if files.contains(where: { $0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".ckpt") }) {
    return ([], nil, ["only pickled PyTorch weights (.bin/.pt/.ckpt), which are not read; convert to safetensors"])
  }
  return ([], nil, ["no weights"])
}

private func describePipeline(_ path: String, files: [String]) throws -> FolderDescription {
  let index = try ConfigLoader.load(path + "/model_index.json")
  guard case .map(let map) = index else {
    throw FormatError(.layout, file: path + "/model_index.json", "expected a JSON object")
  }
  var components: [FolderDescription.Component] = []
  var notes: [String] = []
  var total = 0
  var anyWeights = false
  for (name, value) in map where !name.hasPrefix("_") {
    guard case .list(let pair) = value, pair.count == 2 else { continue }
    guard let library = pair[0].stringValue, let className = pair[1].stringValue else { continue }
    let folder = path + "/" + name
    var sub: FolderDescription?
    if isDirectory(folder) {
      sub = try describeFolder(folder)
      if let count = sub?.parameterCount {
        total += count
        anyWeights = true
      }
    } else {
      notes.append("\(name)/ is listed in model_index.json but missing")
    }
    components.append(.init(name: name, library: library, className: className, folder: sub))
  }
  for required in ["unet", "vae", "text_encoder", "tokenizer", "scheduler"]
  where !components.contains(where: { $0.name == required }) {
    notes.append("model_index.json lists no \(required)")
  }
  return FolderDescription(
    path: path, kind: .diffusersPipeline, className: index["_class_name"]?.stringValue, files: files,
    weightFiles: [], parameterCount: anyWeights ? total : nil, components: components, notes: notes)
}

private func describeSentenceTransformer(_ path: String, files: [String]) throws -> FolderDescription {
  let modules = try ConfigLoader.load([SentenceTransformerModule].self, from: path + "/modules.json")
  var components: [FolderDescription.Component] = []
  var total: Int?
  var notes: [String] = []
  for module in modules.sorted(by: { $0.idx < $1.idx }) {
    let folder = module.path.isEmpty ? path : path + "/" + module.path
    var sub: FolderDescription?
    var className: String? = module.shortType
    if module.shortType == "Transformer" {
      let (weights, count, weightNotes) = try weightsSummary(folder, files: try listFiles(folder), stem: "model")
      if fileExists(folder + "/config.json") {
        let config = try ConfigLoader.load(folder + "/config.json")
        className = config["architectures"]?.listValue?.first?.stringValue ?? className
      }
      sub = FolderDescription(
        path: folder, kind: .transformersModel, className: className, files: [], weightFiles: weights,
        parameterCount: count, components: [], notes: weightNotes)
      total = count
    } else if module.shortType == "Pooling", fileExists(folder + "/config.json") {
      let pooling = try ConfigLoader.load(PoolingConfig.self, from: folder + "/config.json")
      className = "Pooling(\(pooling.modes.joined(separator: "+")), dim \(pooling.wordEmbeddingDimension))"
    } else if !module.path.isEmpty, !isDirectory(folder) {
      notes.append("\(module.path)/ is listed in modules.json but missing")
    }
    components.append(.init(name: module.name, library: module.shortType, className: className, folder: sub))
  }
  return FolderDescription(
    path: path, kind: .sentenceTransformers, className: "SentenceTransformer", files: files, weightFiles: [],
    parameterCount: total, components: components, notes: notes)
}
