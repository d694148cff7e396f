// ConfigLoader: YAML (Yams) and JSON configs to and from ConfigValue, and `key.path=value` command-line overrides.
import Foundation
import Yams

/// Loads and saves config trees, and applies dotted overrides.
public enum ConfigLoader {
  /// Loads a `.yaml`/`.yml` or `.json` file (other extensions: JSON if the text starts with `{` or `[`, else YAML).
  public static func load(_ path: String) throws -> ConfigValue {
    let bytes = try readFileBytes(path, limit: 64 << 20)
    if path.hasSuffix(".json") { return try JSONParser.parse(bytes, file: path) }
    if !(path.hasSuffix(".yaml") || path.hasSuffix(".yml")),
      let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
      first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    {
      return try JSONParser.parse(bytes, file: path)
    }
    guard let text = String(bytes: bytes, encoding: .utf8) else {
      throw FormatError(.yaml, file: path, "file is not valid UTF-8 text")
    }
    return try parseYAML(text, file: path)
  }

  /// Loads a file and decodes it into a typed config.
  public static func load<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
    try ConfigValueDecoder(file: path).decode(type, from: load(path))
  }

  /// Parses YAML text (the first document). An empty document is an empty map.
  public static func parseYAML(_ text: String, file: String = "<memory>") throws -> ConfigValue {
    try checkNesting(text, file: file)
    let node: Node?
    do {
      node = try Yams.compose(yaml: text)
    } catch {
      throw FormatError(.yaml, file: file, "invalid YAML: \(yamlMessage(error))")
    }
    guard let node else { return .map(ConfigMap()) }
    return try convert(node, path: [], file: file, depth: 0)
  }

  /// Rejects pathologically deep flow nesting (`[[[[...`) or indentation before handing text to the recursive
  /// YAML composer, so hostile input gives an error instead of exhausting the stack.
  static func checkNesting(_ text: String, file: String, limit: Int = 256) throws {
    var depth = 0
    var column = 0
    var atLineStart = true
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
      case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
      case UInt8(ascii: "\n"):
        atLineStart = true
        column = 0
        continue
      default: break
      }
      if atLineStart {
        if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") {
          column += 1
        } else {
          atLineStart = false
        }
      }
      if depth > limit || column > 8 * limit {
        throw FormatError(.yaml, file: file, "nesting deeper than \(limit) levels")
      }
    }
  }

  /// Saves `value` to `path` atomically, as JSON for `.json` and YAML otherwise.
  public static func save(_ value: ConfigValue, to path: String) throws {
    let text = path.hasSuffix(".json") ? JSONWriter.render(value) + "\n" : YAMLWriter.render(value)
    try AtomicFile.write(to: path, bytes: Array(text.utf8))
  }

  private static func yamlMessage(_ error: Error) -> String {
    if let e = error as? YamlError {
      switch e {
      case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
        .composer(_, let problem, let mark, _):
        return "line \(mark.line), column \(mark.column): \(problem)"
      default: return "\(e)"
      }
    }
    return "\(error)"
  }

  private static func convert(_ node: Node, path: [String], file: String, depth: Int) throws -> ConfigValue {
    guard depth < 256 else {
      throw FormatError.key(.yaml, file: file, ConfigPath.join(path), "nesting deeper than 256 levels")
    }
    switch node {
    case .scalar(let scalar): return scalarValue(scalar)
    case .sequence(let sequence):
      return .list(
        try sequence.enumerated().map { try convert($1, path: path + [String($0)], file: file, depth: depth + 1) })
    case .mapping(let mapping):
      var map = ConfigMap()
      var merged = ConfigMap()
      for (keyNode, valueNode) in mapping {
        guard case .scalar(let keyScalar) = keyNode else {
          throw FormatError.key(.yaml, file: file, ConfigPath.join(path), "map keys must be scalars")
        }
        if tagName(keyNode.tag) == .merge {
          try mergeSources(valueNode, path: path, file: file, depth: depth, into: &merged)
          continue
        }
        let key = keyScalar.string
        if map[key] != nil {
          let line = keyScalar.mark.map { " (line \($0.line))" } ?? ""
          throw FormatError.key(.duplicate, file: file, ConfigPath.join(path + [key]), "appears twice in the same map\(line)")
        }
        map[key] = try convert(valueNode, path: path + [key], file: file, depth: depth + 1)
      }
      for (k, v) in merged where map[k] == nil { map[k] = v }
      return .map(map)
    }
  }

  private static func mergeSources(
    _ node: Node, path: [String], file: String, depth: Int, into merged: inout ConfigMap
  ) throws {
    let sources: [Node]
    switch node {
    case .sequence(let s): sources = Array(s)
    default: sources = [node]
    }
    for source in sources {
      guard case .map(let m) = try convert(source, path: path, file: file, depth: depth + 1) else {
        throw FormatError.key(.yaml, file: file, ConfigPath.join(path + ["<<"]), "a merge key needs a map or a list of maps")
      }
      for (k, v) in m where merged[k] == nil { merged[k] = v }
    }
  }

  /// The name of a resolved tag (`Tag.name` is internal to Yams; its description is the name). Resolve through
  /// `Node.tag`: a plain scalar's own `tag` stays implicit until then.
  static func tagName(_ tag: Tag) -> Tag.Name { Tag.Name(rawValue: tag.description) }

  /// A YAML scalar as a value, by the tag Yams' default resolver gives it (YAML 1.1 style booleans, ints, floats).
  static func scalarValue(_ scalar: Node.Scalar) -> ConfigValue {
    switch tagName(Node.scalar(scalar).tag) {
    case .null: return .null
    case .bool: return Bool.construct(from: scalar).map(ConfigValue.bool) ?? .string(scalar.string)
    case .int:
      if let i = Int.construct(from: scalar) { return .int(i) }
      return Double.construct(from: scalar).map(ConfigValue.double) ?? .string(scalar.string)
    case .float: return Double.construct(from: scalar).map(ConfigValue.double) ?? .string(scalar.string)
    default: return .string(scalar.string)
    }
  }

  /// Parses one override value with YAML rules: `200` -> int, `2e-4` -> float, `true` -> bool, `null` or empty
  /// -> null, `[1,2]` -> list, `{a: 1}` -> map, anything else -> string (quotes force a string: `'"42"'`).
  public static func parseScalar(_ text: String) throws -> ConfigValue {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty { return .null }
    guard (try? checkNesting(trimmed, file: "<override>")) != nil else { return .string(trimmed) }
    do {
      if let node = try Yams.compose(yaml: trimmed) {
        return try convert(node, path: [], file: "<override>", depth: 0)
      }
    } catch {}
    return .string(trimmed)
  }

  /// Splits `key.path=value` into the path and the parsed value.
  public static func parseOverride(_ text: String) throws -> (path: String, value: ConfigValue) {
    guard let eq = text.firstIndex(of: "=") else {
      throw FormatError(.config, file: "<command line>", "override '\(text)' must look like key.path=value")
    }
    let path = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
    guard !path.isEmpty, !ConfigPath.split(path).isEmpty else {
      throw FormatError(.config, file: "<command line>", "override '\(text)' has an empty key path")
    }
    return (path, try parseScalar(String(text[text.index(after: eq)...])))
  }

  /// Applies `key.path=value` overrides in order, creating missing maps along the way.
  public static func applyOverrides(_ overrides: [String], to config: inout ConfigValue) throws {
    for text in overrides {
      let (path, value) = try parseOverride(text)
      do {
        try config.setValue(value, at: path)
      } catch let error as FormatError {
        throw FormatError(error.kind, file: "<command line>", subject: error.subject, error.message)
      }
    }
  }
}
