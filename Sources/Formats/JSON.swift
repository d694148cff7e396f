// JSON: a strict, order-preserving JSON parser that detects duplicate keys, and a writer, over ConfigValue.
import Foundation

/// Why a JSON document was rejected, with the 1-based line and column of the problem.
struct JSONParseError: Error {
  enum Reason {
    case syntax(String)
    /// `path` is the chain of keys leading to the object holding the duplicate.
    case duplicateKey(path: [String], key: String)
  }
  let reason: Reason
  let line: Int
  let column: Int

  /// Converts to the public error type for a file.
  func formatError(file: String) -> FormatError {
    switch reason {
    case .syntax(let message):
      return FormatError(.json, file: file, "invalid JSON at line \(line), column \(column): \(message)")
    case .duplicateKey(let path, let key):
      return FormatError.key(
        .duplicate, file: file, ConfigPath.join(path + [key]),
        "appears twice in the same JSON object (second at line \(line), column \(column)); names must be unique")
    }
  }
}

/// Parses JSON into a `ConfigValue`, keeping object key order.
///
/// Unlike `JSONSerialization` it reports duplicate keys instead of silently keeping one, limits nesting depth,
/// and distinguishes integers from floats. `NaN`, `Infinity` and `-Infinity` are accepted, as Python writes them.
public enum JSONParser {
  /// Parses a complete document from bytes; `file` names the source in errors.
  public static func parse(_ bytes: [UInt8], file: String = "<memory>", maxDepth: Int = 256) throws -> ConfigValue {
    try bytes.withUnsafeBufferPointer { buffer in
      try parse(UnsafeRawBufferPointer(buffer), file: file, maxDepth: maxDepth)
    }
  }

  /// Parses a complete document from a string.
  public static func parse(_ text: String, file: String = "<memory>", maxDepth: Int = 256) throws -> ConfigValue {
    try parse(Array(text.utf8), file: file, maxDepth: maxDepth)
  }

  /// Parses a complete document from raw bytes (for example a region of a mapped file).
  public static func parse(_ bytes: UnsafeRawBufferPointer, file: String = "<memory>", maxDepth: Int = 256) throws
    -> ConfigValue
  {
    do {
      return try parseRaw(bytes, maxDepth: maxDepth)
    } catch let error as JSONParseError {
      throw error.formatError(file: file)
    }
  }

  /// Parses without converting errors, so callers can map duplicates to their own vocabulary.
  static func parseRaw(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 256) throws -> ConfigValue {
    var scanner = JSONScanner(bytes: bytes, maxDepth: maxDepth)
    scanner.skipWhitespace()
    let value = try scanner.parseValue(path: [], depth: 0)
    scanner.skipWhitespace()
    if scanner.position < bytes.count { throw scanner.error("unexpected text after the top-level value") }
    return value
  }
}

private struct JSONScanner {
  let bytes: UnsafeRawBufferPointer
  let maxDepth: Int
  var position = 0

  init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  func error(_ message: String) -> JSONParseError {
    let (line, column) = location(of: position)
    return JSONParseError(reason: .syntax(message), line: line, column: column)
  }

  func location(of offset: Int) -> (Int, Int) {
    var line = 1
    var column = 1
    for i in 0..<min(offset, bytes.count) {
      if bytes[i] == UInt8(ascii: "\n") {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return (line, column)
  }

  var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipWhitespace() {
    while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
  }

  mutating func expect(_ literal: String) -> Bool {
    let utf8 = Array(literal.utf8)
    guard position + utf8.count <= bytes.count else { return false }
    for (i, b) in utf8.enumerated() where bytes[position + i] != b { return false }
    position += utf8.count
    return true
  }

  mutating func parseValue(path: [String], depth: Int) throws -> ConfigValue {
    guard let c = current else { throw error("unexpected end of input; expected a value") }
    switch c {
    case UInt8(ascii: "{"): return try parseObject(path: path, depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(path: path, depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"):
      if expect("true") { return .bool(true) }
    case UInt8(ascii: "f"):
      if expect("false") { return .bool(false) }
    case UInt8(ascii: "n"):
      if expect("null") { return .null }
    case UInt8(ascii: "N"):
      if expect("NaN") { return .double(.nan) }
    case UInt8(ascii: "I"):
      if expect("Infinity") { return .double(.infinity) }
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try parseNumber()
    default: break
    }
    throw error("unexpected character '\(printable(c))'; expected a value")
  }

  mutating func parseObject(path: [String], depth: Int) throws -> ConfigValue {
    if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
    position += 1
    var map = ConfigMap()
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      return .map(map)
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else { throw error("expected a string key in an object") }
      let keyStart = position
      let key = try parseString()
      if map[key] != nil {
        let (line, column) = location(of: keyStart)
        throw JSONParseError(reason: .duplicateKey(path: path, key: key), line: line, column: column)
      }
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
      position += 1
      skipWhitespace()
      map[key] = try parseValue(path: path + [key], depth: depth)
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "}"):
        position += 1
        return .map(map)
      default: throw error("expected ',' or '}' in an object")
      }
    }
  }

  mutating func parseArray(path: [String], depth: Int) throws -> ConfigValue {
    if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
    position += 1
    var items: [ConfigValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      return .list(items)
    }
    while true {
      skipWhitespace()
      items.append(try parseValue(path: path + [String(items.count)], depth: depth))
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "]"):
        position += 1
        return .list(items)
      default: throw error("expected ',' or ']' in an array")
      }
    }
  }

  mutating func parseNumber() throws -> ConfigValue {
    let start = position
    if current == UInt8(ascii: "-") {
      position += 1
      if expect("Infinity") { return .double(-.infinity) }
    }
    guard let first = current, isDigit(first) else { throw error("expected a digit") }
    position += 1
    if first != UInt8(ascii: "0") { while let c = current, isDigit(c) { position += 1 } }
    var integral = true
    if current == UInt8(ascii: ".") {
      integral = false
      position += 1
      guard let c = current, isDigit(c) else { throw error("expected a digit after '.'") }
      while let c = current, isDigit(c) { position += 1 }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      integral = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard let c = current, isDigit(c) else { throw error("expected a digit in the exponent") }
      while let c = current, isDigit(c) { position += 1 }
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if integral, let i = Int(text) { return .int(i) }
    guard let d = Double(text) else { throw error("number '\(text)' cannot be represented") }
    return .double(d)
  }

  mutating func parseString() throws -> String {
    position += 1
    var buffer: [UInt8] = []
    while true {
      guard let c = current else { throw error("unterminated string") }
      position += 1
      switch c {
      case UInt8(ascii: "\""):
        guard let s = String(bytes: buffer, encoding: .utf8) else { throw error("string is not valid UTF-8") }
        return s
      case UInt8(ascii: "\\"):
        try parseEscape(into: &buffer)
      case 0..<0x20:
        throw error("control character U+\(String(c, radix: 16)) inside a string must be escaped")
      default:
        buffer.append(c)
      }
    }
  }

  mutating func parseEscape(into buffer: inout [UInt8]) throws {
    guard let e = current else { throw error("unterminated escape") }
    position += 1
    switch e {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(e)
    case UInt8(ascii: "b"): buffer.append(0x08)
    case UInt8(ascii: "f"): buffer.append(0x0C)
    case UInt8(ascii: "n"): buffer.append(0x0A)
    case UInt8(ascii: "r"): buffer.append(0x0D)
    case UInt8(ascii: "t"): buffer.append(0x09)
    case UInt8(ascii: "u"):
      var scalar = try parseHex4()
      if (0xD800..<0xDC00).contains(scalar) {
        guard expect("\\u") else { throw error("unpaired UTF-16 surrogate in \\u escape") }
        let low = try parseHex4()
        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid UTF-16 low surrogate") }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else if (0xDC00..<0xE000).contains(scalar) {
        throw error("unpaired UTF-16 surrogate in \\u escape")
      }
      guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
      buffer.append(contentsOf: Array(String(Character(u)).utf8))
    default:
      throw error("invalid escape '\\\(printable(e))'")
    }
  }

  mutating func parseHex4() throws -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let c = current else { throw error("unterminated \\u escape") }
      let digit: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw error("invalid hex digit in \\u escape")
      }
      value = value * 16 + digit
      position += 1
    }
    return value
  }

  func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

  func printable(_ c: UInt8) -> String {
    c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
  }
}

/// Renders a `ConfigValue` as JSON text, keeping map order.
public enum JSONWriter {
  /// Compact (`pretty: false`) or indented with two spaces.
  public static func render(_ value: ConfigValue, pretty: Bool = true) -> String {
    var out = ""
    write(value, into: &out, indent: pretty ? 0 : nil)
    return out
  }

  private static func write(_ value: ConfigValue, into out: inout String, indent: Int?) {
    switch value {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += number(d)
    case .string(let s): out += quoted(s)
    case .list(let items):
      writeContainer(items.map { (nil, $0) }, open: "[", close: "]", into: &out, indent: indent)
    case .map(let map):
      writeContainer(map.entries.map { ($0.key, $0.value) }, open: "{", close: "}", into: &out, indent: indent)
    }
  }

  private static func writeContainer(
    _ items: [(String?, ConfigValue)], open: String, close: String, into out: inout String, indent: Int?
  ) {
    out += open
    if items.isEmpty {
      out += close
      return
    }
    let inner = indent.map { $0 + 2 }
    for (i, (key, value)) in items.enumerated() {
      if i > 0 { out += "," }
      if let inner { out += "\n" + String(repeating: " ", count: inner) }
      if let key { out += quoted(key) + (indent == nil ? ":" : ": ") }
      write(value, into: &out, indent: inner)
    }
    if let indent { out += "\n" + String(repeating: " ", count: indent) }
    out += close
  }

  /// A double as JSON: always with a '.' or exponent so it reads back as a float; NaN/Infinity as Python writes them.
  static func number(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
    let text = "\(d)"
    return text.contains(".") || text.contains("e") ? text : text + ".0"
  }

  /// A JSON string literal.
  public static func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
