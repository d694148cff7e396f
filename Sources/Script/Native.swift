// Native: how Swift code appears in scripts — native functions with declared parameters, native types
// with methods, properties, operators, indexing and iteration. `Bindings` fills these in.

/// One declared parameter of a native function.
public struct Parameter: Sendable {
  public var name: String
  /// Used when the caller omits the argument; nil makes it required.
  public var defaultValue: DefaultValue?
  /// Collects all remaining positional arguments (like `*args`).
  public var variadic: Bool

  public init(_ name: String, default defaultValue: DefaultValue? = nil, variadic: Bool = false) {
    self.name = name
    self.defaultValue = defaultValue
    self.variadic = variadic
  }
}

/// A default value that can be shown in help and stored without holding script objects.
public enum DefaultValue: Sendable, CustomStringConvertible {
  case null, bool(Bool), number(Double), string(String)

  public var value: Value {
    switch self {
    case .null: return .null
    case .bool(let b): return .bool(b)
    case .number(let n): return .number(n)
    case .string(let s): return .string(s)
    }
  }

  public var description: String {
    switch self {
    case .null: return "nil"
    case .bool(let b): return String(b)
    case .number(let n): return formatNumber(n)
    case .string(let s): return "\"\(s)\""
    }
  }
}

/// `bad argument #2 to 'matmul' (number expected, got string)` for argument `i` (from 0).
public func badArgument(_ i: Int, to callee: String, _ expected: String, got value: Value) -> Diagnostic {
  Diagnostic(.type, "bad argument #\(i + 1) to '\(callee)' (\(expected) expected, got \(value.typeName))")
}

/// Arguments bound to a native function's parameters, with typed accessors whose errors name
/// the argument (`bad argument #2 to 'matmul' (number expected, got string)`).
public struct Arguments {
  /// The function's name, for messages.
  public let callee: String
  /// One value per declared parameter (defaults filled in); variadic parameters hold a list.
  public var values: [Value]
  /// The object a method was called on, if any.
  public var receiver: Value?
  /// The interpreter, for natives that call back into scripts. Unowned and unchecked: arguments
  /// live only for the call the interpreter is making (checked `unowned` cost an atomic per read).
  public unowned(unsafe) let interpreter: Interpreter

  public subscript(_ i: Int) -> Value { i < values.count ? values[i] : .null }

  public func bad(_ i: Int, _ expected: String) -> Diagnostic {
    badArgument(i, to: callee, expected, got: self[i])
  }

  public func number(_ i: Int) throws -> Double {
    if case .number(let n) = self[i] { return n }
    if case .bool(let b) = self[i] { return b ? 1 : 0 }
    throw bad(i, "number")
  }

  public func int(_ i: Int) throws -> Int {
    let n = try number(i)
    guard n == n.rounded(), Swift.abs(n) < 9.0e15 else { throw bad(i, "integer") }
    return Int(n)
  }

  public func optionalInt(_ i: Int) throws -> Int? {
    if case .null = self[i] { return nil }
    return try int(i)
  }

  public func optionalNumber(_ i: Int) throws -> Double? {
    if case .null = self[i] { return nil }
    return try number(i)
  }

  public func string(_ i: Int) throws -> String {
    if case .string(let s) = self[i] { return s }
    throw bad(i, "string")
  }

  public func optionalString(_ i: Int) throws -> String? {
    if case .null = self[i] { return nil }
    return try string(i)
  }

  public func bool(_ i: Int) throws -> Bool {
    if case .bool(let b) = self[i] { return b }
    throw bad(i, "bool")
  }

  public func list(_ i: Int) throws -> [Value] {
    if case .list(let l) = self[i] { return l.items }
    throw bad(i, "list")
  }

  public func map(_ i: Int) throws -> MapRef {
    if case .map(let m) = self[i] { return m }
    throw bad(i, "map")
  }

  /// A list of integers, or a single integer as a one-element list.
  public func ints(_ i: Int) throws -> [Int] {
    switch self[i] {
    case .number: return [try int(i)]
    case .list(let l):
      return try l.items.map { v in
        guard case .number(let n) = v, n == n.rounded() else { throw bad(i, "list of integers") }
        return Int(n)
      }
    default: throw bad(i, "integer or list of integers")
    }
  }

  public func optionalInts(_ i: Int) throws -> [Int]? {
    if case .null = self[i] { return nil }
    return try ints(i)
  }
}

/// A native body that takes its arguments as plain parameters. Calls passing only positional
/// arguments use it without building `Arguments` or an argument array (defaults filled in);
/// `body` wraps the same closure for every other call, so both behave alike.
public enum DirectBody {
  /// A function of one argument.
  case function1((Interpreter, Value) throws -> Value)
  /// A method without arguments (the receiver only).
  case method0((Interpreter, Value) throws -> Value)
  /// A method of one argument: receiver, argument.
  case method1((Interpreter, Value, Value) throws -> Value)
  /// A method of two arguments: receiver, arguments.
  case method2((Interpreter, Value, Value, Value) throws -> Value)

  /// The `Arguments` form of the same body.
  var argumentsBody: (Arguments) throws -> Value {
    switch self {
    case .function1(let f): return { a in try f(a.interpreter, a[0]) }
    case .method0(let f): return { a in try f(a.interpreter, a.receiver ?? .null) }
    case .method1(let f): return { a in try f(a.interpreter, a.receiver ?? .null, a[0]) }
    case .method2(let f): return { a in try f(a.interpreter, a.receiver ?? .null, a[0], a[1]) }
    }
  }
}

/// A function implemented in Swift, with declared parameters and a doc string (shown by `help`).
public final class NativeFunction: Callable {
  public let name: String
  public let parameters: [Parameter]
  public let doc: String
  public let body: (Arguments) throws -> Value
  /// The body taking plain arguments, when the function was defined with one.
  let direct: DirectBody?

  /// `direct` when `call` can use it: positional arguments only, no more than declared.
  @inline(__always)
  func directBody(for call: CallExpr) -> DirectBody? {
    guard let direct, !call.hasNames, call.argumentCount <= parameterCount else { return nil }
    return direct
  }

  /// True when no parameter collects extra arguments (enables the positional fast path).
  let hasNoVariadic: Bool
  /// `parameters.count`, read without touching the array.
  let parameterCount: Int

  public init(_ name: String, _ parameters: [Parameter], doc: String, _ body: @escaping (Arguments) throws -> Value) {
    self.name = name
    self.parameters = parameters
    hasNoVariadic = !parameters.contains { $0.variadic }
    parameterCount = parameters.count
    self.doc = doc
    self.body = body
    direct = nil
  }

  /// A native whose body takes plain arguments (see `DirectBody`); the parameter count must match
  /// the body's shape.
  public init(_ name: String, _ parameters: [Parameter], doc: String, direct: DirectBody) {
    self.name = name
    self.parameters = parameters
    hasNoVariadic = !parameters.contains { $0.variadic }
    parameterCount = parameters.count
    self.doc = doc
    body = direct.argumentsBody
    self.direct = direct
  }

  public var parameterNames: [String] { parameters.map(\.name) }

  /// `name(a, b: 1)` as shown in help and completion.
  public var signature: String {
    let ps = parameters.map { p -> String in
      if p.variadic { return "..." + p.name }
      if let d = p.defaultValue { return "\(p.name): \(d)" }
      return p.name
    }
    return "\(name)(\(ps.joined(separator: ", ")))"
  }
}

/// A method looked up on a value but not yet called (`let f = t.sum`).
public final class BoundMethod: Callable {
  public let receiver: Value
  public let function: NativeFunction
  public init(receiver: Value, function: NativeFunction) {
    self.receiver = receiver
    self.function = function
  }
  public var name: String { function.name }
  public var parameterNames: [String] { function.parameterNames }
}

/// A property of a native type: a getter, an optional setter, a doc string.
public struct NativeProperty {
  public var doc: String
  public var get: (NativeObject) throws -> Value
  public var set: ((NativeObject, Value) throws -> Void)?

  public init(doc: String, get: @escaping (NativeObject) throws -> Value, set: ((NativeObject, Value) throws -> Void)? = nil) {
    self.doc = doc
    self.get = get
    self.set = set
  }
}

/// One index in `x[...]`: a value or a slice `start:end:step`.
public enum IndexArgument {
  case value(Value)
  case slice(start: Int?, end: Int?, step: Int?)
}

/// Binary operators natives may overload.
public enum BinaryOperator: String, Sendable {
  case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "**", matmul = "@"
  case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

/// A Swift type exposed to scripts: its methods, properties and operator behaviour.
public final class NativeType {
  public let name: String
  public var doc: String
  public var methods: [String: NativeFunction] = [:]
  public var properties: [String: NativeProperty] = [:]
  /// Handles `a op b` when either side is of this type; return nil to decline.
  public var binary: ((BinaryOperator, Value, Value) throws -> Value?)?
  /// Handles `-x`.
  public var negate: ((NativeObject) throws -> Value)?
  public var index: ((NativeObject, [IndexArgument]) throws -> Value)?
  public var setIndex: ((NativeObject, [IndexArgument], Value) throws -> Void)?
  /// Returns a function producing successive values, then nil.
  public var iterate: ((NativeObject) throws -> () throws -> Value?)?
  /// Makes objects callable (`model(x)`), with its own parameters.
  public var call: NativeFunction?
  public var describe: ((NativeObject) -> String)?
  /// Fields that depend on the object (a module's children and parameters), after properties
  /// and methods; returns nil for unknown names.
  public var dynamicMember: ((NativeObject, String) throws -> Value?)?
  /// The names `dynamicMember` knows, for completion and `dir`.
  public var dynamicMemberNames: ((NativeObject) -> [String])?
  public var length: ((NativeObject) throws -> Int)?

  public init(name: String, doc: String) {
    self.name = name
    self.doc = doc
  }
}

/// An instance of a native type wrapping a Swift object.
public final class NativeObject {
  public let type: NativeType
  public let payload: AnyObject

  public init(type: NativeType, payload: AnyObject) {
    self.type = type
    self.payload = payload
  }
}
