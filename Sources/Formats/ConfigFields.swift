// ConfigFields: helpers for typed config structs: library defaults for missing keys, int-or-list values, unknown keys.

/// Reads the keys of one config object, applying the defaults the Python library applies when a key is missing,
/// and remembers which keys were read so the rest can be kept as `extra`.
struct ConfigFields {
  let container: KeyedDecodingContainer<AnyKey>
  private(set) var read: Set<String> = []

  init(_ decoder: Decoder) throws {
    container = try decoder.container(keyedBy: AnyKey.self)
  }

  /// The value at `key`; `fallback` when the key is missing or null.
  mutating func value<T: Decodable>(_ key: String, _ fallback: T) throws -> T {
    read.insert(key)
    return try container.decodeIfPresent(T.self, forKey: AnyKey(key)) ?? fallback
  }

  /// The value at `key` for a parameter the library allows to be `None`: `fallback` when the key is missing,
  /// `nil` when it is present and null (diffusers passes an explicit null through to the constructor).
  mutating func optional<T: Decodable>(_ key: String, _ fallback: T? = nil) throws -> T? {
    read.insert(key)
    guard container.contains(AnyKey(key)) else { return fallback }
    return try container.decodeIfPresent(T.self, forKey: AnyKey(key))
  }

  /// Every key that was not read, as raw values.
  func extras() throws -> [String: ConfigValue] {
    var out: [String: ConfigValue] = [:]
    for key in container.allKeys where !read.contains(key.stringValue) {
      out[key.stringValue] = try container.decode(ConfigValue.self, forKey: key)
    }
    return out
  }
}

/// A config value that may be given once for all blocks or once per block (`attention_head_dim: 8` or `[5, 10, 20, 20]`).
public enum OneOrMany<Element: Decodable & Sendable & Equatable>: Decodable, Sendable, Equatable {
  case one(Element)
  case many([Element])

  public init(from decoder: Decoder) throws {
    if let list = try? decoder.unkeyedContainer() {
      var items: [Element] = []
      var list = list
      while !list.isAtEnd { items.append(try list.decode(Element.self)) }
      self = .many(items)
    } else {
      self = .one(try decoder.singleValueContainer().decode(Element.self))
    }
  }

  /// One value per block: a single value repeated `count` times, or the list as given.
  /// The number of values when a list was given, nil for a single value.
  public var listCount: Int? {
    if case .many(let vs) = self { return vs.count }
    return nil
  }

  /// Every value given (one for a single value).
  public var values: [Element] {
    switch self {
    case .one(let v): return [v]
    case .many(let vs): return vs
    }
  }

  public func perBlock(_ count: Int) -> [Element] {
    switch self {
    case .one(let v): return Array(repeating: v, count: count)
    case .many(let vs): return vs
    }
  }

  /// The single value, or the first element of a list.
  public var first: Element? {
    switch self {
    case .one(let v): return v
    case .many(let vs): return vs.first
    }
  }
}
