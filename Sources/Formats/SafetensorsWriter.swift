// SafetensorsWriter: writes safetensors files atomically from Float/Int64/raw values, in the order given.

/// One tensor to write: a name, a target dtype, a shape and the values.
public struct TensorPayload: Sendable {
  enum Values: Sendable {
    case floats([Float])
    case int64s([Int64])
    case bytes([UInt8])
  }

  /// The tensor's name in the header.
  public let name: String
  /// The dtype written to the file.
  public let dtype: SafetensorsDType
  /// The shape written to the header.
  public let shape: [Int]
  let values: Values

  /// Float values stored as F32, F16 (round-to-nearest-even) or BF16 (round-to-nearest-even, as PyTorch).
  public init(name: String, shape: [Int], floats: [Float], as dtype: SafetensorsDType = .f32) throws {
    guard dtype == .f32 || dtype == .f16 || dtype == .bf16 else {
      throw FormatError.tensor(.dtype, file: "<writer>", name, "Float values can be written as F32, F16 or BF16, not \(dtype)")
    }
    self.name = name
    self.dtype = dtype
    self.shape = shape
    values = .floats(floats)
    try checkCount(floats.count)
  }

  /// Int64 values stored as I64.
  public init(name: String, shape: [Int], int64s: [Int64]) throws {
    self.name = name
    dtype = .i64
    self.shape = shape
    values = .int64s(int64s)
    try checkCount(int64s.count)
  }

  /// Raw little-endian bytes already in `dtype` (U8 images, BOOL masks, or a record copied through unchanged).
  public init(name: String, shape: [Int], rawBytes: [UInt8], dtype: SafetensorsDType) throws {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    values = .bytes(rawBytes)
    guard let count = Self.elementCount(shape), rawBytes.count == count * dtype.size else {
      throw FormatError.tensor(
        .shape, file: "<writer>", name,
        "shape \(shapeText(shape)) x \(dtype) does not match \(rawBytes.count) bytes of data")
    }
  }

  /// A tensor copied unchanged from a record of an opened file.
  public init(copying record: TensorRecord) throws {
    try self.init(name: record.name, shape: record.shape, rawBytes: record.bytes(), dtype: record.dtype)
  }

  private func checkCount(_ count: Int) throws {
    guard let expected = Self.elementCount(shape), expected == count else {
      throw FormatError.tensor(
        .shape, file: "<writer>", name, "shape \(shapeText(shape)) does not match \(count) values")
    }
  }

  static func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
      guard d >= 0 else { return nil }
      let (p, o) = n.multipliedReportingOverflow(by: d)
      if o { return nil }
      n = p
    }
    return n
  }

  var byteCount: Int {
    switch values {
    case .floats(let f): return f.count * dtype.size
    case .int64s(let i): return i.count * 8
    case .bytes(let b): return b.count
    }
  }

  /// Writes the encoded bytes to `sink`, converting in chunks so no full-size copy is made.
  func encode(into sink: inout FileSink) throws {
    switch values {
    case .bytes(let b): try sink.write(b)
    case .int64s(let values): try values.withUnsafeBytes { try sink.write($0) }
    case .floats(let values):
      switch dtype {
      case .f32: try values.withUnsafeBytes { try sink.write($0) }
      case .f16: try Self.writeConverted(values, into: &sink, FloatBits.floatToHalf)
      default: try Self.writeConverted(values, into: &sink, FloatBits.floatToBFloat16)
      }
    }
  }

  private static func writeConverted(_ values: [Float], into sink: inout FileSink, _ convert: (Float) -> UInt16) throws {
    let chunk = 1 << 16
    var buffer = [UInt16](repeating: 0, count: chunk)
    var start = 0
    while start < values.count {
      let n = min(chunk, values.count - start)
      for i in 0..<n { buffer[i] = convert(values[start + i]).littleEndian }
      try buffer.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<(2 * n)])) }
      start += n
    }
  }
}

extension Safetensors {
  /// Writes `tensors` to `path` atomically (temp file in the same folder, fsync, rename, fsync the folder).
  ///
  /// Tensors are laid out in the order given (the Python library instead sorts by dtype size and name; both
  /// orders are valid files). The header is compact JSON with `__metadata__` first, padded with spaces to a
  /// multiple of 8 bytes as the Python library pads it; metadata keys are written sorted.
  public static func save(_ tensors: [TensorPayload], metadata: [String: String]? = nil, to path: String) throws {
    let header = try headerBytes(tensors, metadata: metadata, file: path)
    try AtomicFile.write(to: path) { sink in
      var length = UInt64(header.count).littleEndian
      try Swift.withUnsafeBytes(of: &length) { try sink.write($0) }
      try sink.write(header)
      for tensor in tensors { try tensor.encode(into: &sink) }
    }
  }

  /// The padded JSON header for `tensors`; throws for duplicate or reserved names.
  static func headerBytes(_ tensors: [TensorPayload], metadata: [String: String]?, file: String) throws -> [UInt8] {
    var seen = Set<String>()
    var json = "{"
    var first = true
    if let metadata, !metadata.isEmpty {
      let items = metadata.keys.sorted().map { JSONWriter.quoted($0) + ":" + JSONWriter.quoted(metadata[$0] ?? "") }
      json += "\"__metadata__\":{" + items.joined(separator: ",") + "}"
      first = false
    }
    var offset = 0
    for tensor in tensors {
      guard tensor.name != "__metadata__" else {
        throw FormatError.tensor(.header, file: file, tensor.name, "'__metadata__' is reserved and cannot name a tensor")
      }
      guard seen.insert(tensor.name).inserted else {
        throw FormatError.tensor(.duplicate, file: file, tensor.name, "appears twice in the list to save; names must be unique")
      }
      let end = offset + tensor.byteCount
      if !first { json += "," }
      first = false
      json += JSONWriter.quoted(tensor.name) + ":{\"dtype\":\"\(tensor.dtype)\",\"shape\":["
      json += tensor.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}"
      offset = end
    }
    json += "}"
    var bytes = Array(json.utf8)
    let padding = (8 - bytes.count % 8) % 8
    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
    return bytes
  }
}
