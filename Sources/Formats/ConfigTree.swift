// ConfigTree: the ConfigValue tree (null, bool, int, double, string, list, ordered map) with dotted get/set.

/// A JSON/YAML value. Maps keep their insertion order so a config saves back the way it was written.
public enum ConfigValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list([ConfigValue])
  case map(ConfigMap)

  /// The name of the value's type as error messages show it.
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "bool"
    case .int: return "int"
    case .double: return "float"
    case .string: return "string"
    case .list: return "list"
    case .map: return "map"
    }
  }

  /// The string, if this is a string.
  public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
  /// The integer, if this is an int (or a float with an integral value).
  public var intValue: Int? {
    switch self {
    case .int(let i): return i
    case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int(d)
    default: return nil
    }
  }
  /// The number as a Double, if this is an int or a float.
  public var doubleValue: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }
  /// The boolean, if this is a bool.
  public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
  /// The elements, if this is a list.
  public var listValue: [ConfigValue]? { if case .list(let l) = self { return l } else { return nil } }
  /// The map, if this is a map.
  public var mapValue: ConfigMap? { if case .map(let m) = self { return m } else { return nil } }
  /// True for `.null`.
  public var isNull: Bool { self == .null }

  /// The child at a key (maps) or a decimal index (lists).
  public subscript(component: String) -> ConfigValue? {
    switch self {
    case .map(let m): return m[component]
    case .list(let l):
      guard let i = Int(component), l.indices.contains(i) else { return nil }
      return l[i]
    default: return nil
    }
  }

  /// The value at a dotted path such as `training.max_train_steps` (list elements by index: `data.prompts.0`).
  public func value(at path: String) -> ConfigValue? {
    var node = self
    for component in ConfigPath.split(path) {
      guard let next = node[component] else { return nil }
      node = next
    }
    return node
  }

  /// Sets the value at a dotted path, creating intermediate maps. Throws when the path runs through a scalar
  /// or indexes a list out of range.
  public mutating func setValue(_ newValue: ConfigValue, at path: String) throws {
    let components = ConfigPath.split(path)
    guard !components.isEmpty else {
      throw FormatError.key(.config, file: "<config>", path, "an empty key path cannot be set")
    }
    try Self.set(&self, components[...], newValue, fullPath: path)
  }

  /// Removes the value at a dotted path; returns it if it existed.
  @discardableResult
  public mutating func removeValue(at path: String) -> ConfigValue? {
    var components = ConfigPath.split(path)
    guard let last = components.popLast() else { return nil }
    return Self.remove(&self, components[...], last)
  }

  private static func set(
    _ node: inout ConfigValue, _ rest: ArraySlice<String>, _ newValue: ConfigValue, fullPath: String
  ) throws {
    guard let head = rest.first else {
      node = newValue
      return
    }
    switch node {
    case .map(var m):
      var child = m[head] ?? .map(ConfigMap())
      try set(&child, rest.dropFirst(), newValue, fullPath: fullPath)
      m[head] = child
      node = .map(m)
    case .list(var l):
      guard let i = Int(head), l.indices.contains(i) else {
        throw FormatError.key(
          .config, file: "<config>", fullPath, "'\(head)' is not an index of a list of \(l.count) elements")
      }
      try set(&l[i], rest.dropFirst(), newValue, fullPath: fullPath)
      node = .list(l)
    case .null:
      var child = ConfigValue.map(ConfigMap())
      try set(&child, rest, newValue, fullPath: fullPath)
      node = child
    default:
      throw FormatError.key(
        .config, file: "<config>", fullPath, "cannot set '\(head)' inside a \(node.typeName) value")
    }
  }

  private static func remove(_ node: inout ConfigValue, _ rest: ArraySlice<String>, _ last: String) -> ConfigValue? {
    if let head = rest.first {
      switch node {
      case .map(var m):
        guard var child = m[head] else { return nil }
        let removed = remove(&child, rest.dropFirst(), last)
        m[head] = child
        node = .map(m)
        return removed
      case .list(var l):
        guard let i = Int(head), l.indices.contains(i) else { return nil }
        let removed = remove(&l[i], rest.dropFirst(), last)
        node = .list(l)
        return removed
      default: return nil
      }
    }
    switch node {
    case .map(var m):
      let removed = m.removeValue(forKey: last)
      node = .map(m)
      return removed
    case .list(var l):
      guard let i = Int(last), l.indices.contains(i) else { return nil }
      let removed = l.remove(at: i)
      node = .list(l)
      return removed
    default: return nil
    }
  }
}

/// A string-keyed map that remembers insertion order.
public struct ConfigMap: Sendable, Equatable, Sequence {
  /// Keys in insertion order.
  public private(set) var keys: [String] = []
  private var storage: [String: ConfigValue] = [:]

  /// An empty map.
  public init() {}

  /// Builds a map from pairs; a later duplicate key replaces the earlier value but keeps the first position.
  public init(_ pairs: [(String, ConfigValue)]) {
    for (k, v) in pairs { self[k] = v }
  }

  /// Number of entries.
  public var count: Int { keys.count }
  /// True without entries.
  public var isEmpty: Bool { keys.isEmpty }

  /// The value at `key`; assigning nil removes the key, assigning a new key appends it.
  public subscript(key: String) -> ConfigValue? {
    get { storage[key] }
    set {
      if let newValue {
        if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
      } else {
        removeValue(forKey: key)
      }
    }
  }

  /// Removes `key`; returns its value if it was present.
  @discardableResult
  public mutating func removeValue(forKey key: String) -> ConfigValue? {
    guard let old = storage.removeValue(forKey: key) else { return nil }
    keys.removeAll { $0 == key }
    return old
  }

  /// The entries in insertion order.
  public var entries: [(key: String, value: ConfigValue)] {
    keys.compactMap { k in storage[k].map { (key: k, value: $0) } }
  }

  public func makeIterator() -> IndexingIterator<[(key: String, value: ConfigValue)]> {
    entries.makeIterator()
  }

  public static func == (a: ConfigMap, b: ConfigMap) -> Bool {
    a.keys == b.keys && a.storage == b.storage
  }
}

/// Dotted key paths: `a.b.c`. A component may be quoted with brackets to hold dots: `a.["x.y"].c`.
public enum ConfigPath {
  /// Splits a dotted path into its components.
  public static func split(_ path: String) -> [String] {
    var parts: [String] = []
    var current = ""
    var index = path.startIndex
    while index < path.endIndex {
      let c = path[index]
      if c == "." {
        parts.append(current)
        current = ""
      } else if c == "[", current.isEmpty, path[index...].hasPrefix("[\""),
        let close = path.range(of: "\"]", range: path.index(index, offsetBy: 2)..<path.endIndex)
      {
        current = String(path[path.index(index, offsetBy: 2)..<close.lowerBound])
        index = close.upperBound
        continue
      } else {
        current.append(c)
      }
      index = path.index(after: index)
    }
    parts.append(current)
    return parts.filter { !$0.isEmpty }
  }

  /// Joins components into a dotted path, bracket-quoting components that contain dots.
  public static func join(_ components: [String]) -> String {
    components.map { $0.contains(".") ? "[\"\($0)\"]" : $0 }.joined(separator: ".")
  }
}

extension ConfigValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
  ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: ConfigValue...) { self = .list(elements) }
  public init(dictionaryLiteral elements: (String, ConfigValue)...) { self = .map(ConfigMap(elements)) }
}

extension ConfigValue: CustomStringConvertible {
  /// Compact JSON-like rendering, for messages and the REPL.
  public var description: String { JSONWriter.render(self, pretty: false) }
}
