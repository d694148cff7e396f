// ConfigDecoder: decodes Decodable types from a ConfigValue tree (JSON or YAML alike) and makes ConfigValue Codable.

/// A coding key for any string.
public struct AnyKey: CodingKey, Hashable, Sendable {
  public let stringValue: String
  public let intValue: Int?
  /// A key named `string`.
  public init(_ string: String) {
    stringValue = string
    intValue = nil
  }
  public init?(stringValue: String) { self.init(stringValue) }
  public init?(intValue: Int) {
    stringValue = String(intValue)
    self.intValue = intValue
  }
}

/// Decodes `Decodable` values from a `ConfigValue` tree, so one typed struct reads JSON and YAML alike.
public struct ConfigValueDecoder {
  /// The file named in errors.
  public var file: String

  /// A decoder whose errors name `file`.
  public init(file: String = "<config>") { self.file = file }

  /// Decodes `type` from `value`; errors are `FormatError`s naming the key path and what was expected.
  public func decode<T: Decodable>(_ type: T.Type, from value: ConfigValue) throws -> T {
    do {
      return try TreeDecoder(value: value, codingPath: []).unbox(type)
    } catch let error as DecodingError {
      throw FormatError(decodingError: error, file: file)
    }
  }
}

extension FormatError {
  /// Converts a `DecodingError` (from this decoder, `JSONDecoder` or Yams) into a `FormatError` naming the key.
  public init(decodingError error: DecodingError, file: String) {
    func path(_ keys: [CodingKey]) -> String { ConfigPath.join(keys.map(\.stringValue)) }
    switch error {
    case .typeMismatch(let type, let context):
      self = .key(.config, file: file, path(context.codingPath), "expected \(Self.typeWord(type)); \(context.debugDescription)")
    case .valueNotFound(let type, let context):
      self = .key(.config, file: file, path(context.codingPath), "expected \(Self.typeWord(type)), found null")
    case .keyNotFound(let key, let context):
      self = .key(.config, file: file, path(context.codingPath + [key]), "required key is missing")
    case .dataCorrupted(let context):
      self = .key(.config, file: file, path(context.codingPath), context.debugDescription)
    @unknown default:
      self = FormatError(.config, file: file, "\(error)")
    }
  }

  static func typeWord(_ type: Any.Type) -> String {
    switch type {
    case is Bool.Type: return "a bool"
    case is String.Type: return "a string"
    case is Double.Type, is Float.Type: return "a number"
    case is Int.Type, is Int64.Type, is Int32.Type, is UInt8.Type: return "an integer"
    default: return "a value of type \(type)"
    }
  }
}

private struct TreeDecoder: Decoder {
  let value: ConfigValue
  let codingPath: [CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func mismatch(_ type: Any.Type, _ expected: String) -> DecodingError {
    .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.typeName) \(value)"))
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .map(let map) = value else { throw mismatch([String: ConfigValue].self, "a map") }
    return KeyedDecodingContainer(KeyedTree<Key>(map: map, codingPath: codingPath))
  }

  func unkeyedContainer() throws -> UnkeyedDecodingContainer {
    guard case .list(let items) = value else { throw mismatch([ConfigValue].self, "a list") }
    return UnkeyedTree(items: items, codingPath: codingPath)
  }

  func singleValueContainer() throws -> SingleValueDecodingContainer { SingleTree(decoder: self) }

  func unbox<T: Decodable>(_ type: T.Type) throws -> T {
    if type == ConfigValue.self, let v = value as? T { return v }
    switch type {
    case is Bool.Type:
      guard case .bool(let b) = value, let r = b as? T else { throw mismatch(type, "a bool") }
      return r
    case is String.Type:
      guard case .string(let s) = value, let r = s as? T else { throw mismatch(type, "a string") }
      return r
    case is Double.Type:
      guard let d = value.doubleValue, let r = d as? T else { throw mismatch(type, "a number") }
      return r
    case is Float.Type:
      guard let d = value.doubleValue, let r = Float(d) as? T else { throw mismatch(type, "a number") }
      return r
    case is Int.Type:
      guard let i = value.intValue, let r = i as? T else { throw mismatch(type, "an integer") }
      return r
    case is Int64.Type:
      guard let i = value.intValue, let r = Int64(i) as? T else { throw mismatch(type, "an integer") }
      return r
    case is Int32.Type:
      guard let i = value.intValue, let n = Int32(exactly: i), let r = n as? T else { throw mismatch(type, "a 32-bit integer") }
      return r
    case is UInt64.Type:
      guard let i = value.intValue, let n = UInt64(exactly: i), let r = n as? T else { throw mismatch(type, "a non-negative integer") }
      return r
    default:
      return try T(from: self)
    }
  }
}

private struct KeyedTree<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let map: ConfigMap
  let codingPath: [CodingKey]
  var allKeys: [Key] { map.keys.compactMap { Key(stringValue: $0) } }

  func contains(_ key: Key) -> Bool { map[key.stringValue] != nil }

  func child(_ key: Key) throws -> TreeDecoder {
    guard let v = map[key.stringValue] else {
      throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing key"))
    }
    return TreeDecoder(value: v, codingPath: codingPath + [key])
  }

  func decodeNil(forKey key: Key) throws -> Bool { (map[key.stringValue] ?? .null) == .null }
  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).unbox(type) }
  func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
    try child(key).container(keyedBy: type)
  }
  func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
  func superDecoder() throws -> Decoder { TreeDecoder(value: .map(map), codingPath: codingPath) }
  func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
}

private struct UnkeyedTree: UnkeyedDecodingContainer {
  let items: [ConfigValue]
  let codingPath: [CodingKey]
  var currentIndex = 0
  var count: Int? { items.count }
  var isAtEnd: Bool { currentIndex >= items.count }

  init(items: [ConfigValue], codingPath: [CodingKey]) {
    self.items = items
    self.codingPath = codingPath
  }

  mutating func next() throws -> TreeDecoder {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        ConfigValue.self, .init(codingPath: codingPath, debugDescription: "list has only \(items.count) elements"))
    }
    defer { currentIndex += 1 }
    return TreeDecoder(value: items[currentIndex], codingPath: codingPath + [AnyKey(intValue: currentIndex) ?? AnyKey("?")])
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, items[currentIndex] == .null else { return false }
    currentIndex += 1
    return true
  }
  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().unbox(type) }
  mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
    try next().container(keyedBy: type)
  }
  mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
  mutating func superDecoder() throws -> Decoder { try next() }
}

private struct SingleTree: SingleValueDecodingContainer {
  let decoder: TreeDecoder
  var codingPath: [CodingKey] { decoder.codingPath }
  func decodeNil() -> Bool { decoder.value == .null }
  func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(type) }
}

extension ConfigValue: Codable {
  /// Decodes any JSON/YAML value. With `ConfigValueDecoder` the tree is taken as is (order kept);
  /// with other decoders map order follows the decoder.
  public init(from decoder: Decoder) throws {
    if let tree = decoder as? TreeDecoder {
      self = tree.value
      return
    }
    if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
      var map = ConfigMap()
      for key in keyed.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
        map[key.stringValue] = try keyed.decode(ConfigValue.self, forKey: key)
      }
      self = .map(map)
      return
    }
    if var unkeyed = try? decoder.unkeyedContainer() {
      var items: [ConfigValue] = []
      while !unkeyed.isAtEnd { items.append(try unkeyed.decode(ConfigValue.self)) }
      self = .list(items)
      return
    }
    let single = try decoder.singleValueContainer()
    if single.decodeNil() {
      self = .null
    } else if let b = try? single.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? single.decode(Int.self) {
      self = .int(i)
    } else if let d = try? single.decode(Double.self) {
      self = .double(d)
    } else {
      self = .string(try single.decode(String.self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    switch self {
    case .null:
      var c = encoder.singleValueContainer()
      try c.encodeNil()
    case .bool(let b):
      var c = encoder.singleValueContainer()
      try c.encode(b)
    case .int(let i):
      var c = encoder.singleValueContainer()
      try c.encode(i)
    case .double(let d):
      var c = encoder.singleValueContainer()
      try c.encode(d)
    case .string(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .list(let items):
      var c = encoder.unkeyedContainer()
      for item in items { try c.encode(item) }
    case .map(let map):
      var c = encoder.container(keyedBy: AnyKey.self)
      for (k, v) in map { try c.encode(v, forKey: AnyKey(k)) }
    }
  }
}
