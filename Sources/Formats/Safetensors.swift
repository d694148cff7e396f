// Safetensors: a memory-mapped safetensors file and its tensor records, with zero-copy bytes and Float/Int64 views.

/// One tensor of a safetensors file: its name, dtype, shape and where its bytes are.
///
/// The record keeps the mapped file alive, so `withUnsafeBytes` never copies and stays valid for the record's
/// lifetime. Conversion to the engine's element types happens only on `floats()` / `int64s()`.
public struct TensorRecord: Sendable {
  /// The tensor's name in the header.
  public let name: String
  /// The dtype stored in the file.
  public let dtype: SafetensorsDType
  /// The shape; `[]` is a scalar.
  public let shape: [Int]
  /// Absolute byte range of the data within the file.
  public let byteRange: Range<Int>
  /// The product of `shape`.
  public let elementCount: Int
  let file: MappedFile

  /// The dtype the tensor had on disk, kept after conversion so it can be written back the same way.
  public var originalDType: SafetensorsDType { dtype }
  /// The engine element type `floats()`/`int64s()` produce for this tensor.
  public var engineType: EngineElementType { dtype.engineType }
  /// The file the tensor lives in.
  public var path: String { file.path }
  /// Byte count of the data.
  public var byteCount: Int { byteRange.count }

  /// Calls `body` with the raw little-endian bytes, without copying.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(file.bytes(byteRange))
  }

  /// A copy of the raw bytes.
  public func bytes() -> [UInt8] { withUnsafeBytes { Array($0) } }

  /// The elements converted to Float: F16 through Float16, BF16 by widening the bits, F64 narrowed,
  /// integers converted, BOOL as 0/1.
  public func floats() -> [Float] {
    [Float](unsafeUninitializedCapacity: elementCount) { out, initialized in
      convertFloats(into: out)
      initialized = elementCount
    }
  }

  /// Converts the elements to Float directly into `destination` (at least `elementCount` values), so a tensor
  /// library can fill its own storage without an intermediate array. F32 data is copied with `pread`.
  public func readFloats(into destination: UnsafeMutableBufferPointer<Float>) throws {
    guard destination.count >= elementCount else {
      throw FormatError.tensor(
        .shape, file: file.path, name, "needs a buffer of \(elementCount) floats, got \(destination.count)")
    }
    convertFloats(into: destination)
  }

  private func convertFloats(into out: UnsafeMutableBufferPointer<Float>) {
    guard let target = out.baseAddress, elementCount > 0 else { return }
    if dtype == .f32 { return file.copy(byteRange, to: target) }
    file.willRead(byteRange)
    withUnsafeBytes { raw in
      if let source = raw.baseAddress { dtype.convertToFloat(source, count: elementCount, into: target) }
    }
  }

  /// The elements converted to Int64 (integer and BOOL dtypes). Float dtypes throw: converting them would truncate.
  public func int64s() throws -> [Int64] {
    try checkIntegral()
    return [Int64](unsafeUninitializedCapacity: elementCount) { out, initialized in
      convertInt64s(into: out)
      initialized = elementCount
    }
  }

  /// Converts integer or BOOL elements to Int64 directly into `destination` (at least `elementCount` values).
  public func readInt64s(into destination: UnsafeMutableBufferPointer<Int64>) throws {
    try checkIntegral()
    guard destination.count >= elementCount else {
      throw FormatError.tensor(
        .shape, file: file.path, name, "needs a buffer of \(elementCount) int64s, got \(destination.count)")
    }
    convertInt64s(into: destination)
  }

  private func checkIntegral() throws {
    guard !dtype.isFloatingPoint else {
      throw FormatError.tensor(
        .dtype, file: file.path, name, "has dtype \(dtype); int64s() needs an integer or BOOL dtype (use floats())")
    }
  }

  private func convertInt64s(into out: UnsafeMutableBufferPointer<Int64>) {
    guard let target = out.baseAddress, elementCount > 0 else { return }
    if dtype == .i64 { return file.copy(byteRange, to: target) }
    withUnsafeBytes { raw in
      if let source = raw.baseAddress { dtype.convertToInt64(source, count: elementCount, into: target) }
    }
  }
}

extension TensorRecord: CustomStringConvertible {
  public var description: String { "\(name): \(dtype)\(shapeText(shape))" }
}

/// A safetensors file opened through a read-only memory map; the header is validated on open.
public final class SafetensorsFile: @unchecked Sendable {
  /// The path as given.
  public let path: String
  /// The tensors in header order.
  public let records: [TensorRecord]
  /// `__metadata__` in header order (empty when absent).
  public let metadataEntries: [(key: String, value: String)]
  /// The mapping, shared with every record.
  public let mapping: MappedFile
  private let index: [String: Int]

  /// Opens and validates `path`. Throws a `FormatError` naming the file and tensor for any malformed header.
  public init(path: String) throws {
    let mapping = try MappedFile(path: path)
    let header = try SafetensorsHeader.parse(mapping.bytes(0..<mapping.size), file: path)
    self.path = path
    self.mapping = mapping
    metadataEntries = header.metadata
    records = header.entries.map { e in
      TensorRecord(
        name: e.name, dtype: e.dtype, shape: e.shape,
        byteRange: (header.dataStart + e.begin)..<(header.dataStart + e.end), elementCount: e.elementCount,
        file: mapping)
    }
    var index: [String: Int] = [:]
    for (i, r) in records.enumerated() { index[r.name] = i }
    self.index = index
  }

  /// `__metadata__` as a dictionary.
  public var metadata: [String: String] {
    Dictionary(metadataEntries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
  }

  /// Tensor names in header order.
  public var names: [String] { records.map(\.name) }

  /// The record named `name`, if present.
  public subscript(name: String) -> TensorRecord? { index[name].map { records[$0] } }

  /// The record named `name`, or an error naming the file and the tensor.
  public func record(_ name: String) throws -> TensorRecord {
    guard let r = self[name] else {
      throw FormatError.tensor(.header, file: path, name, "no such tensor in this file (\(records.count) tensors)")
    }
    return r
  }

  /// Total number of elements over all tensors (the parameter count of a checkpoint).
  public var elementCount: Int { records.reduce(0) { $0 + $1.elementCount } }
}

/// Validation of safetensors bytes held in memory (used by fuzz tests and by callers holding downloaded data).
public enum Safetensors {
  /// Validates a complete safetensors file image and returns its tensors as `(name, dtype, shape, byte range)`.
  public static func validate(_ bytes: [UInt8], file: String = "<memory>") throws -> [(
    name: String, dtype: SafetensorsDType, shape: [Int], byteRange: Range<Int>
  )] {
    try bytes.withUnsafeBytes { raw in
      let header = try SafetensorsHeader.parse(raw, file: file)
      return header.entries.map {
        (name: $0.name, dtype: $0.dtype, shape: $0.shape, byteRange: (header.dataStart + $0.begin)..<(header.dataStart + $0.end))
      }
    }
  }
}
