// SafetensorsHeader: parses and validates the 8-byte length + JSON header of a safetensors file, trusting nothing.

/// The validated header of a safetensors file.
struct SafetensorsHeader {
  struct Entry {
    let name: String
    let dtype: SafetensorsDType
    let shape: [Int]
    let elementCount: Int
    /// Offsets relative to the start of the data region.
    let begin: Int
    let end: Int
  }

  /// Entries in header order.
  let entries: [Entry]
  /// `__metadata__`, in header order.
  let metadata: [(key: String, value: String)]
  /// Absolute offset of the data region (8 + header length).
  let dataStart: Int

  /// Largest header accepted, as in the reference implementation.
  static let maxHeaderLength = 100_000_000

  /// Parses and validates the header of the file whose complete bytes are `bytes`.
  static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> SafetensorsHeader {
    guard bytes.count >= 8 else {
      throw FormatError(
        .header, file: file, "file is \(bytes.count) bytes; a safetensors file starts with an 8-byte header length")
    }
    let declared = bytes.loadUnaligned(as: UInt64.self).littleEndian
    let available = bytes.count - 8
    guard declared <= UInt64(available) else {
      throw FormatError(
        .header, file: file,
        "header length \(declared) is larger than the file: only \(available) bytes follow the 8-byte length field")
    }
    let headerLength = Int(declared)
    guard headerLength <= maxHeaderLength else {
      throw FormatError(.header, file: file, "header length \(headerLength) exceeds the \(maxHeaderLength)-byte limit")
    }
    let json = try parseJSON(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)]), file: file)
    guard case .map(let top) = json else {
      throw FormatError(
        .header, file: file,
        "header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}, found a \(json.typeName)")
    }
    let dataSize = available - headerLength
    var entries: [Entry] = []
    var metadata: [(key: String, value: String)] = []
    for (name, value) in top {
      if name == "__metadata__" {
        metadata = try parseMetadata(value, file: file)
      } else {
        entries.append(try parseEntry(name, value, dataSize: dataSize, file: file))
      }
    }
    try checkCoverage(entries, dataSize: dataSize, file: file)
    return SafetensorsHeader(entries: entries, metadata: metadata, dataStart: 8 + headerLength)
  }

  private static func parseJSON(_ bytes: UnsafeRawBufferPointer, file: String) throws -> ConfigValue {
    do {
      return try JSONParser.parseRaw(bytes, maxDepth: 16)
    } catch let error as JSONParseError {
      switch error.reason {
      case .syntax(let message):
        throw FormatError(
          .header, file: file, "header is not valid JSON (line \(error.line), column \(error.column): \(message))")
      case .duplicateKey(let path, let key):
        if path.isEmpty {
          throw FormatError.tensor(
            .duplicate, file: file, key, "appears twice in the header; tensor names must be unique")
        }
        let owner = path[0]
        let inner = ConfigPath.join(Array(path.dropFirst()) + [key])
        let label = owner == "__metadata__" ? "key '__metadata__.\(inner)'" : "tensor '\(owner)'"
        let what = owner == "__metadata__" ? "appears twice" : "has key '\(inner)' twice"
        throw FormatError(.duplicate, file: file, subject: label, "\(what); header keys must be unique")
      }
    }
  }

  private static func parseMetadata(_ value: ConfigValue, file: String) throws -> [(key: String, value: String)] {
    guard case .map(let map) = value else {
      throw FormatError.key(
        .metadata, file: file, "__metadata__", "expected a map of strings to strings, found a \(value.typeName)")
    }
    return try map.map { key, item in
      guard case .string(let text) = item else {
        throw FormatError.key(
          .metadata, file: file, "__metadata__.\(key)", "expected a string value, found \(item.typeName) \(item)")
      }
      return (key: key, value: text)
    }
  }

  private static func parseEntry(_ name: String, _ value: ConfigValue, dataSize: Int, file: String) throws -> Entry {
    func fail(_ kind: FormatError.Kind, _ message: String) -> FormatError {
      FormatError.tensor(kind, file: file, name, message)
    }
    guard case .map(let info) = value else {
      throw fail(.header, "expected an object with dtype, shape and data_offsets, found a \(value.typeName)")
    }
    guard let dtypeValue = info["dtype"] else { throw fail(.header, "missing 'dtype'") }
    guard let shapeValue = info["shape"] else { throw fail(.header, "missing 'shape'") }
    guard let offsetsValue = info["data_offsets"] else { throw fail(.header, "missing 'data_offsets'") }
    guard case .string(let dtypeName) = dtypeValue, let dtype = SafetensorsDType(rawValue: dtypeName) else {
      throw fail(.dtype, "unknown dtype \(dtypeValue); expected one of \(SafetensorsDType.spellings)")
    }
    guard case .list(let dims) = shapeValue else {
      throw fail(.shape, "shape must be a list of non-negative integers, found \(shapeValue)")
    }
    var shape: [Int] = []
    var count = 1
    for dim in dims {
      guard case .int(let d) = dim, d >= 0 else {
        throw fail(.shape, "shape must be a list of non-negative integers, found \(shapeValue)")
      }
      shape.append(d)
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow else { throw fail(.shape, "shape \(shapeValue) has more elements than fit in 64 bits") }
      count = product
    }
    let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
    guard !overflow else { throw fail(.shape, "shape \(shapeValue) x \(dtype) needs more bytes than fit in 64 bits") }
    guard case .list(let offsets) = offsetsValue, offsets.count == 2,
      case .int(let begin) = offsets[0], case .int(let end) = offsets[1], begin >= 0, begin <= end
    else {
      throw fail(.offsets, "data_offsets must be [begin, end] with 0 <= begin <= end, found \(offsetsValue)")
    }
    guard end <= dataSize else {
      throw fail(
        .offsets,
        "data_offsets [\(begin),\(end)] run past the end of the data region, which is \(dataSize) bytes")
    }
    guard end - begin == byteCount else {
      throw fail(
        .shape,
        "shape \(shapeText(shape)) x \(dtype) needs \(byteCount) bytes but data_offsets [\(begin),\(end)] span \(end - begin)"
      )
    }
    return Entry(name: name, dtype: dtype, shape: shape, elementCount: count, begin: begin, end: end)
  }

  /// The data region must be covered exactly: sorted by offset, each tensor starts where the previous ends.
  private static func checkCoverage(_ entries: [Entry], dataSize: Int, file: String) throws {
    let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
    var position = 0
    var previous: Entry?
    for entry in sorted {
      if entry.begin < position, let previous {
        throw FormatError.tensor(
          .offsets, file: file, entry.name,
          "data_offsets [\(entry.begin),\(entry.end)] overlap tensor '\(previous.name)' at [\(previous.begin),\(previous.end)]; tensors must not share bytes"
        )
      }
      if entry.begin > position {
        let after = previous.map { "the previous tensor '\($0.name)' ends at \(position)" } ?? "the data region starts at 0"
        throw FormatError.tensor(
          .offsets, file: file, entry.name,
          "starts at \(entry.begin) but \(after): bytes [\(position),\(entry.begin)) belong to no tensor; the data region must be covered without holes"
        )
      }
      position = entry.end
      previous = entry
    }
    if position != dataSize {
      throw FormatError(
        .offsets, file: file,
        "the data region is \(dataSize) bytes but the tensors cover only [0,\(position)); trailing bytes belong to no tensor"
      )
    }
  }
}
