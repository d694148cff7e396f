// SafetensorsCheckpoint: one view over a single safetensors file or a sharded `*.safetensors.index.json` checkpoint.

/// A checkpoint made of one or more safetensors files, seen as one name -> tensor map.
public struct SafetensorsCheckpoint: Sendable {
  /// The file or index the checkpoint was opened from.
  public let path: String
  /// The opened shard files (one for an unsharded checkpoint).
  public let files: [SafetensorsFile]
  /// The tensors, sorted by name.
  public let records: [TensorRecord]
  /// Metadata: the `__metadata__` of a single file, or the index's `metadata` object (e.g. `total_size`).
  public let metadata: ConfigMap
  private let index: [String: Int]

  /// Opens a `.safetensors` file, a `.safetensors.index.json` index, or a folder holding one of
  /// `model.safetensors[.index.json]` / `diffusion_pytorch_model.safetensors[.index.json]`.
  public static func open(_ path: String) throws -> SafetensorsCheckpoint {
    if path.hasSuffix(".json") { return try openIndex(path) }
    if isDirectory(path) {
      for stem in ["model", "diffusion_pytorch_model"] {
        let single = path + "/" + stem + ".safetensors"
        if fileExists(single) { return try open(single) }
        let index = single + ".index.json"
        if fileExists(index) { return try openIndex(index) }
      }
      throw FormatError(.layout, file: path, "folder holds no model.safetensors or diffusion_pytorch_model.safetensors (or index)")
    }
    let file = try SafetensorsFile(path: path)
    var metadata = ConfigMap()
    for (k, v) in file.metadataEntries { metadata[k] = .string(v) }
    return SafetensorsCheckpoint(path: path, files: [file], records: file.records, metadata: metadata)
  }

  /// Opens a sharded checkpoint from its index, checking that every shard exists and holds the names mapped to it.
  public static func openIndex(_ indexPath: String) throws -> SafetensorsCheckpoint {
    let json = try JSONParser.parse(try readFileBytes(indexPath, limit: 256 << 20), file: indexPath)
    guard case .map(let top) = json else {
      throw FormatError(.shard, file: indexPath, "index must be a JSON object with a 'weight_map', found a \(json.typeName)")
    }
    guard case .map(let weightMap)? = top["weight_map"] else {
      throw FormatError.key(.shard, file: indexPath, "weight_map", "expected a map of tensor names to shard file names")
    }
    var metadata = ConfigMap()
    if let meta = top["metadata"] {
      guard case .map(let m) = meta else {
        throw FormatError.key(.metadata, file: indexPath, "metadata", "expected a map, found a \(meta.typeName)")
      }
      metadata = m
    }
    let folder = AtomicFile.splitPath(indexPath).folder
    var namesByShard: [String: [String]] = [:]
    var shardOrder: [String] = []
    for (name, value) in weightMap {
      guard case .string(let shard) = value else {
        throw FormatError.key(.shard, file: indexPath, "weight_map.\(name)", "expected a shard file name, found \(value)")
      }
      guard isPlainRelativePath(shard) else {
        throw FormatError.key(
          .shard, file: indexPath, "weight_map.\(name)",
          "shard '\(shard)' must be a file name inside the index's folder (no absolute paths or '..')")
      }
      if namesByShard[shard] == nil { shardOrder.append(shard) }
      namesByShard[shard, default: []].append(name)
    }
    var files: [SafetensorsFile] = []
    var records: [TensorRecord] = []
    for shard in shardOrder {
      let names = namesByShard[shard] ?? []
      let shardPath = folder + "/" + shard
      guard fileExists(shardPath) else {
        let others = names.count > 1 ? " (and \(names.count - 1) more)" : ""
        throw FormatError(
          .shard, file: indexPath, subject: "shard '\(shard)'",
          "does not exist at \(shardPath); the weight_map maps tensor '\(names[0])'\(others) to it")
      }
      let file = try SafetensorsFile(path: shardPath)
      for name in names {
        guard let record = file[name] else {
          throw FormatError.tensor(
            .shard, file: indexPath, name, "is mapped to shard '\(shard)' but that shard has no tensor of that name")
        }
        records.append(record)
      }
      files.append(file)
    }
    return SafetensorsCheckpoint(path: indexPath, files: files, records: records, metadata: metadata)
  }

  init(path: String, files: [SafetensorsFile], records: [TensorRecord], metadata: ConfigMap) {
    self.path = path
    self.files = files
    self.records = records.sorted { $0.name < $1.name }
    self.metadata = metadata
    var index: [String: Int] = [:]
    for (i, r) in self.records.enumerated() { index[r.name] = i }
    self.index = index
  }

  /// Tensor names, sorted.
  public var names: [String] { records.map(\.name) }

  /// The record named `name`, if present.
  public subscript(name: String) -> TensorRecord? { index[name].map { records[$0] } }

  /// The record named `name`, or an error naming the checkpoint and the tensor.
  public func record(_ name: String) throws -> TensorRecord {
    guard let r = self[name] else {
      throw FormatError.tensor(.header, file: path, name, "no such tensor in this checkpoint (\(records.count) tensors)")
    }
    return r
  }

  /// Total number of elements (the parameter count).
  public var elementCount: Int { records.reduce(0) { $0 + $1.elementCount } }

  private static func isPlainRelativePath(_ path: String) -> Bool {
    !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
  }
}
