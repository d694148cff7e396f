// ConfigSchema: a tree of known config keys with types; validation warns about unknown keys ("did you mean")
// and reports wrong types as errors.

/// The expected shape of a config value.
public struct ConfigSchema: Sendable {
  /// The shapes a value can have.
  public indirect enum Kind: Sendable {
    case any
    case bool
    case int
    /// An int or a float.
    case number
    /// A string, optionally restricted to some values.
    case string(allowed: [String]?)
    case list(ConfigSchema)
    /// A map with known keys, in documentation order.
    case object([(key: String, schema: ConfigSchema)])
    /// A map with free keys whose values all follow one schema.
    case dictionary(ConfigSchema)
    /// Any of several shapes (e.g. int or string).
    case oneOf([ConfigSchema])
  }

  /// The expected shape.
  public let kind: Kind
  /// Whether `null` is accepted.
  public let nullable: Bool
  /// A short description shown in messages and help.
  public let doc: String?

  /// A schema of the given shape.
  public init(_ kind: Kind, nullable: Bool = false, doc: String? = nil) {
    self.kind = kind
    self.nullable = nullable
    self.doc = doc
  }

  /// Any value, including null.
  public static let any = ConfigSchema(.any, nullable: true)
  /// Shorthands for scalar schemas.
  public static let bool = ConfigSchema(.bool)
  public static let int = ConfigSchema(.int)
  public static let number = ConfigSchema(.number)
  public static let string = ConfigSchema(.string(allowed: nil))
  /// A string restricted to `allowed` values.
  public static func string(_ allowed: [String]) -> ConfigSchema { ConfigSchema(.string(allowed: allowed)) }
  /// A list whose elements follow `element`.
  public static func list(_ element: ConfigSchema) -> ConfigSchema { ConfigSchema(.list(element)) }
  /// A map with known keys.
  public static func object(_ fields: KeyValuePairs<String, ConfigSchema>) -> ConfigSchema {
    ConfigSchema(.object(fields.map { (key: $0.key, schema: $0.value) }))
  }
  /// A map with free keys and values following `value`.
  public static func dictionary(_ value: ConfigSchema) -> ConfigSchema { ConfigSchema(.dictionary(value)) }
  /// A value matching any of `options`.
  public static func oneOf(_ options: [ConfigSchema]) -> ConfigSchema { ConfigSchema(.oneOf(options)) }

  /// The same schema accepting `null`.
  public var orNull: ConfigSchema { ConfigSchema(kind, nullable: true, doc: doc) }
  /// The same schema with a description.
  public func doc(_ text: String) -> ConfigSchema { ConfigSchema(kind, nullable: nullable, doc: text) }

  /// The schema of the value at a dotted path, if the path is known.
  public func schema(at path: String) -> ConfigSchema? {
    var node = self
    for component in ConfigPath.split(path) {
      switch node.kind {
      case .object(let fields):
        guard let next = fields.first(where: { $0.key == component })?.schema else { return nil }
        node = next
      case .dictionary(let value), .list(let value): node = value
      default: return nil
      }
    }
    return node
  }

  /// Every known leaf path, dotted (`training.optim.scale_lr`).
  public var knownPaths: [String] {
    var out: [String] = []
    collectPaths(prefix: [], into: &out)
    return out
  }

  private func collectPaths(prefix: [String], into out: inout [String]) {
    guard case .object(let fields) = kind else {
      if !prefix.isEmpty { out.append(ConfigPath.join(prefix)) }
      return
    }
    for (key, schema) in fields { schema.collectPaths(prefix: prefix + [key], into: &out) }
  }

  /// A type name for messages: `int`, `list of string`, `one of: int, string`, ...
  public var typeDescription: String {
    let base: String
    switch kind {
    case .any: base = "any value"
    case .bool: base = "bool"
    case .int: base = "int"
    case .number: base = "number"
    case .string(let allowed):
      base = allowed.map { "one of " + $0.map { "'\($0)'" }.joined(separator: ", ") } ?? "string"
    case .list(let e): base = "list of \(e.typeDescription)"
    case .object: base = "map"
    case .dictionary(let v): base = "map of \(v.typeDescription)"
    case .oneOf(let options): base = options.map(\.typeDescription).joined(separator: " or ")
    }
    return nullable ? base + " or null" : base
  }
}

/// One finding of a validation.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
  /// Unknown keys are warnings; wrong types are errors.
  public enum Severity: String, Sendable { case warning, error }
  /// How serious the finding is.
  public let severity: Severity
  /// Dotted path of the offending key.
  public let path: String
  /// What is wrong.
  public let message: String
  /// A known key that is probably meant, for unknown keys.
  public let suggestion: String?

  public var description: String {
    let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
    return "\(severity): key '\(path)': \(message)\(hint)"
  }
}

/// The result of validating a config against a schema.
public struct ConfigReport: Sendable, CustomStringConvertible {
  /// Every finding, in document order.
  public internal(set) var issues: [ConfigIssue] = []
  /// The unknown-key findings.
  public var warnings: [ConfigIssue] { issues.filter { $0.severity == .warning } }
  /// The wrong-type findings.
  public var errors: [ConfigIssue] { issues.filter { $0.severity == .error } }
  /// True when there are no errors (warnings allowed).
  public var isValid: Bool { errors.isEmpty }
  public var description: String { issues.map(\.description).joined(separator: "\n") }

  /// Throws a `FormatError` listing every error (warnings are not fatal).
  public func throwIfErrors(file: String) throws {
    guard let first = errors.first else { return }
    let rest = errors.dropFirst().map { "; key '\($0.path)': \($0.message)" }.joined()
    throw FormatError.key(.config, file: file, first.path, first.message + rest)
  }
}

extension ConfigSchema {
  /// Checks `value`: unknown keys become warnings with a "did you mean" suggestion, wrong types become errors.
  public func validate(_ value: ConfigValue) -> ConfigReport {
    var report = ConfigReport()
    check(value, path: [], root: self, report: &report)
    return report
  }

  private func check(_ value: ConfigValue, path: [String], root: ConfigSchema, report: inout ConfigReport) {
    if value == .null {
      if !nullable { report.issues.append(mismatch(value, path)) }
      return
    }
    switch kind {
    case .any: return
    case .bool: if value.boolValue == nil { report.issues.append(mismatch(value, path)) }
    case .int:
      if case .int = value { return }
      if case .double(let d) = value, d.rounded() == d { return }
      report.issues.append(mismatch(value, path))
    case .number: if value.doubleValue == nil { report.issues.append(mismatch(value, path)) }
    case .string(let allowed):
      guard let s = value.stringValue else { return report.issues.append(mismatch(value, path)) }
      if let allowed, !allowed.contains(s) {
        report.issues.append(
          ConfigIssue(
            severity: .error, path: ConfigPath.join(path), message: "expected \(typeDescription), found '\(s)'",
            suggestion: closest(s, among: allowed)))
      }
    case .list(let element):
      guard let items = value.listValue else { return report.issues.append(mismatch(value, path)) }
      for (i, item) in items.enumerated() { element.check(item, path: path + [String(i)], root: root, report: &report) }
    case .dictionary(let element):
      guard let map = value.mapValue else { return report.issues.append(mismatch(value, path)) }
      for (k, v) in map { element.check(v, path: path + [k], root: root, report: &report) }
    case .object(let fields):
      guard let map = value.mapValue else { return report.issues.append(mismatch(value, path)) }
      for (k, v) in map {
        if let field = fields.first(where: { $0.key == k }) {
          field.schema.check(v, path: path + [k], root: root, report: &report)
        } else {
          report.issues.append(unknownKey(k, path: path, siblings: fields.map(\.key), root: root))
        }
      }
    case .oneOf(let options):
      for option in options {
        var scratch = ConfigReport()
        option.check(value, path: path, root: root, report: &scratch)
        if scratch.isValid { return }
      }
      report.issues.append(mismatch(value, path))
    }
  }

  private func mismatch(_ value: ConfigValue, _ path: [String]) -> ConfigIssue {
    ConfigIssue(
      severity: .error, path: ConfigPath.join(path),
      message: "expected \(typeDescription), found " + (value == .null ? "null" : "\(value.typeName) \(value)"),
      suggestion: nil)
  }

  private func unknownKey(_ key: String, path: [String], siblings: [String], root: ConfigSchema) -> ConfigIssue {
    let full = ConfigPath.join(path + [key])
    var suggestion = closest(key, among: siblings).map { ConfigPath.join(path + [$0]) }
    if suggestion == nil {
      // A known key of the same name elsewhere: probably put in the wrong section.
      suggestion = root.knownPaths.first { ConfigPath.split($0).last == key }
    }
    return ConfigIssue(severity: .warning, path: full, message: "unknown key", suggestion: suggestion)
  }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
func closest(_ word: String, among candidates: [String]) -> String? {
  let limit = max(1, min(3, word.count / 3))
  var best: (String, Int)?
  for c in candidates {
    let d = editDistance(word.lowercased(), c.lowercased())
    if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
  }
  return best?.0
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions.
func editDistance(_ a: String, _ b: String) -> Int {
  let x = Array(a.unicodeScalars)
  let y = Array(b.unicodeScalars)
  if x.isEmpty { return y.count }
  if y.isEmpty { return x.count }
  var previous2 = [Int](repeating: 0, count: y.count + 1)
  var previous = Array(0...y.count)
  var current = [Int](repeating: 0, count: y.count + 1)
  for i in 1...x.count {
    current[0] = i
    for j in 1...y.count {
      let cost = x[i - 1] == y[j - 1] ? 0 : 1
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
        current[j] = min(current[j], previous2[j - 2] + 1)
      }
    }
    (previous2, previous, current) = (previous, current, previous2)
  }
  return previous[y.count]
}
