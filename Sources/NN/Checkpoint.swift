// Checkpoint: tensors from safetensors records, and loading a module's state straight from a checkpoint.

import Formats
import TensorCore

extension Tensor {
  /// A new tensor holding a safetensors record: float dtypes become float32, integer dtypes int64.
  public static func reading(_ record: TensorRecord) throws -> Tensor {
    let t = Tensor(shape: record.shape, dtype: record.engineType == .int64 ? .int64 : .float32, zeroed: false)
    if t.dtype == .int64 {
      try record.readInt64s(into: UnsafeMutableBufferPointer(start: t.intData, count: t.count))
    } else {
      try record.readFloats(into: UnsafeMutableBufferPointer(start: t.data, count: t.count))
    }
    return t
  }
}

/// A checkpoint did not fit a module: names the file and lists every problem.
public struct CheckpointMismatch: Error, CustomStringConvertible {
  public let file: String
  public let problems: StateProblems
  public var description: String { "\(file): checkpoint does not fit the model\n\(problems)" }
}

extension Module {
  /// Loads every state tensor from `checkpoint`, reading each record straight into the module's
  /// storage. `key` maps a checkpoint name to the module's name, or to nil for tensors the model
  /// does not use (e.g. a pooler nobody calls). Missing, unexpected and wrong-shape tensors are all
  /// reported at once with the file's name, and nothing is changed then.
  public func load(from checkpoint: SafetensorsCheckpoint, key: (String) -> String? = { $0 }) throws {
    let own = state()
    let ownByName = Dictionary(own, uniquingKeysWith: { a, _ in a })
    var records: [String: TensorRecord] = [:]
    var problems = StateProblems()
    for record in checkpoint.records {
      guard let name = key(record.name) else { continue }
      if ownByName[name] == nil { problems.unexpected.append(record.name) } else { records[name] = record }
    }
    for (name, t) in own {
      guard let record = records[name] else {
        problems.missing.append(name)
        continue
      }
      if record.shape != t.shape { problems.mismatched.append((name, expected: t.shape, got: record.shape)) }
    }
    guard problems.isEmpty else { throw CheckpointMismatch(file: checkpoint.path, problems: problems) }
    for (name, t) in own {
      guard let record = records[name] else { continue }
      if t.isContiguous && t.dtype == .float32 && record.engineType != .int64 {
        try record.readFloats(into: UnsafeMutableBufferPointer(start: t.data, count: t.count))
      } else {
        let value = try Tensor.reading(record)
        try GradMode.noGrad { try t.assign(value.dtype == t.dtype ? value : value.to(t.dtype)) }
      }
    }
  }
}
