// Value: everything a script can hold — nil, bool, number, string, list, map, range, function, native object.

/// A script value. Lists and maps are shared references, as in Python and Lua.
public enum Value {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case list(ListRef)
  case map(MapRef)
  case range(RangeValue)
  /// A script function (kept apart from natives so calls need no dynamic cast).
  case closure(Closure)
  case function(Callable)
  case native(NativeObject)
  /// A captured variable's box; lives only in frame slots, never seen by scripts.
  case cell(Cell)

  /// The name scripts see from `type(x)`.
  public var typeName: String {
    switch self {
    case .null: return "nil"
    case .bool: return "bool"
    case .number: return "number"
    case .string: return "string"
    case .list: return "list"
    case .map: return "map"
    case .range: return "range"
    case .function, .closure: return "function"
    case .native(let o): return o.type.name
    case .cell(let c): return c.value.typeName
    }
  }

  /// `nil` and `false` are false; everything else (including 0 and "") is true, as in Lua.
  public var isTruthy: Bool {
    switch self {
    case .null: return false
    case .bool(let b): return b
    default: return true
    }
  }
}

/// A mutable, shared list.
public final class ListRef {
  public var items: [Value]
  public init(_ items: [Value] = []) { self.items = items }
}

/// A map key: a string or a number.
public enum MapKey: Hashable, Sendable, CustomStringConvertible {
  case string(String)
  case number(Double)

  public var value: Value {
    switch self {
    case .string(let s): return .string(s)
    case .number(let n): return .number(n)
    }
  }

  public var description: String {
    switch self {
    case .string(let s): return s
    case .number(let n): return formatNumber(n)
    }
  }
}

/// A half-open integer range `start..end` (or inclusive `start..=end`) with a step. A class (an
/// immutable box) so that `Value` stays two words plus a tag: every value copy moves fewer bytes.
public final class RangeValue: Sendable, Equatable {
  public let start: Int
  public let end: Int
  public let step: Int

  public init(start: Int, end: Int, step: Int = 1) {
    self.start = start
    self.end = end
    self.step = step
  }

  public var count: Int {
    if step > 0 { return start < end ? (end - start + step - 1) / step : 0 }
    return start > end ? (start - end - step - 1) / -step : 0
  }

  public func element(_ i: Int) -> Int { start + i * step }

  public static func == (a: RangeValue, b: RangeValue) -> Bool {
    a.start == b.start && a.end == b.end && a.step == b.step
  }
}

/// A box holding a variable that closures capture.
public final class Cell {
  public var value: Value
  public init(_ value: Value) { self.value = value }
}

/// Anything that can be called: script closures, native functions, bound methods.
public protocol Callable: AnyObject {
  var name: String { get }
  /// Parameter names in order (for help, completion and keyword arguments).
  var parameterNames: [String] { get }
}

/// Formats a number the way scripts print it: integers without a fraction, others shortest.
public func formatNumber(_ n: Double) -> String {
  if n.isNaN { return "nan" }
  if n.isInfinite { return n > 0 ? "inf" : "-inf" }
  if n == n.rounded(), Swift.abs(n) < 1e16 { return String(Int64(n)) }
  return String(n)
}

extension Value {
  /// True for nil.
  var isNilValue: Bool {
    if case .null = self { return true }
    return false
  }

  /// True when both hold the same reference (function, native object, list or map) or the same scalar.
  func isSameObject(as other: Value?) -> Bool {
    guard let other else { return false }
    switch (self, other) {
    case (.closure(let a), .closure(let b)): return a === b
    case (.function(let a), .function(let b)): return a === b
    case (.native(let a), .native(let b)): return a === b
    case (.list(let a), .list(let b)): return a === b
    case (.map(let a), .map(let b)): return a === b
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    default: return false
    }
  }
}
