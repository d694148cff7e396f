// AST: expression and statement nodes. Each node evaluates itself (virtual dispatch); the resolver
// fills in where each variable lives before anything runs.

/// Where a variable lives once resolved.
enum VariableSlot {
  case unresolved
  /// A frame slot holding the value.
  case local(Int)
  /// A frame slot holding a Cell (the variable is captured by a closure).
  case cell(Int)
  /// Index into the running closure's captured cells.
  case upvalue(Int)
  /// Index into the module's globals.
  case global(Int)
}

/// Base of all expressions.
class Expr {
  let location: SourceLocation
  init(_ location: SourceLocation) { self.location = location }
  func eval(_ interp: Interpreter) throws -> Value { .null }
  /// The value's truth, for conditions (comparisons answer without building a value).
  func test(_ interp: Interpreter) throws -> Bool { try eval(interp).isTruthy }
}

final class LiteralExpr: Expr {
  let value: Value
  init(_ value: Value, _ loc: SourceLocation) {
    self.value = value
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value { value }
}

/// A double-quoted string with `{expr}` parts.
final class InterpolationExpr: Expr {
  enum Part {
    case text(String)
    case expr(Expr)
  }
  let parts: [Part]
  init(_ parts: [Part], _ loc: SourceLocation) {
    self.parts = parts
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    var s = ""
    for p in parts {
      switch p {
      case .text(let t): s += t
      case .expr(let e): s += interp.displayString(try e.eval(interp))
      }
    }
    return .string(s)
  }
}

final class VariableExpr: Expr {
  let name: String
  var slot: VariableSlot = .unresolved
  init(_ name: String, _ loc: SourceLocation) {
    self.name = name
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    switch slot {
    case .local(let i): return interp.stack[interp.base + i]
    case .cell(let i):
      if case .cell(let c) = interp.stack[interp.base + i] { return c.value }
      return .null
    case .upvalue(let i): return interp.captures[i].value
    case .global(let i):
      if let v = interp.globals.values[i] { return v }
      throw Diagnostic(.name, "'\(name)' is used before it is defined", at: location)
    case .unresolved:
      throw Diagnostic(.name, "unknown name '\(name)'", at: location)
    }
  }
}

final class ListExpr: Expr {
  let items: [Expr]
  init(_ items: [Expr], _ loc: SourceLocation) {
    self.items = items
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    var out: [Value] = []
    out.reserveCapacity(items.count)
    for e in items { out.append(try e.eval(interp)) }
    return .list(ListRef(out))
  }
}

final class MapExpr: Expr {
  let entries: [(Expr, Expr)]
  init(_ entries: [(Expr, Expr)], _ loc: SourceLocation) {
    self.entries = entries
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    let m = MapRef()
    for (k, v) in entries {
      let key = try interp.mapKey(try k.eval(interp), at: k.location)
      m[key] = try v.eval(interp)
    }
    return .map(m)
  }
}

enum UnaryOp { case negate, not }

final class UnaryExpr: Expr {
  let op: UnaryOp
  let operand: Expr
  init(_ op: UnaryOp, _ operand: Expr, _ loc: SourceLocation) {
    self.op = op
    self.operand = operand
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    let v = try operand.eval(interp)
    switch op {
    case .not: return .bool(!v.isTruthy)
    case .negate:
      if case .number(let n) = v { return .number(-n) }
      return try interp.negate(v, at: location)
    }
  }
}

/// Arithmetic, comparison, `in` and `@`.
enum BinaryOp: String {
  case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "**", matmul = "@"
  case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
  case `in` = "in", notIn = "not in"
}

final class BinaryExpr: Expr {
  let op: BinaryOp
  let lhs: Expr, rhs: Expr
  /// The left operand when it is a variable (unretained; `lhs` owns it): a local is read from its
  /// frame slot without a node call.
  let variableLHS: Unmanaged<VariableExpr>?
  /// The right operand's value when it is a literal (`n - 1`, `i < 10`).
  let literalRHS: Value?
  /// The right operand when it is a number literal: `local op number` reads the local in place.
  let literalNumberRHS: Double?
  init(_ op: BinaryOp, _ lhs: Expr, _ rhs: Expr, _ loc: SourceLocation) {
    self.op = op
    self.lhs = lhs
    self.rhs = rhs
    variableLHS = (lhs as? VariableExpr).map { .passUnretained($0) }
    literalRHS = (rhs as? LiteralExpr)?.value
    if case .number(let y)? = literalRHS { literalNumberRHS = y } else { literalNumberRHS = nil }
    super.init(loc)
  }

  override func eval(_ interp: Interpreter) throws -> Value {
    if let y = literalNumberRHS, let v = variableLHS, let x = numberInPlace(v, interp), let result = op.apply(x, y) {
      return result
    }
    let a: Value
    if let v = variableLHS, case .local(let i) = v._withUnsafeGuaranteedRef({ $0.slot }) {
      a = interp.stack[interp.base + i]
    } else {
      a = try lhs.eval(interp)
    }
    let b = try literalRHS ?? rhs.eval(interp)
    if case .number(let x) = a, case .number(let y) = b {
      if let result = op.apply(x, y) { return result }
    } else if op == .add, case .string(let x) = a, case .string(let y) = b {
      return .string(x + y)
    }
    return try interp.binary(op, a, b, at: location)
  }

  override func test(_ interp: Interpreter) throws -> Bool {
    if let y = literalNumberRHS, let v = variableLHS, let x = numberInPlace(v, interp), let truth = op.compare(x, y) {
      return truth
    }
    return try eval(interp).isTruthy
  }

  /// A variable's number read from its slot without copying the value, or nil for anything else.
  @inline(__always)
  private func numberInPlace(_ v: Unmanaged<VariableExpr>, _ interp: Interpreter) -> Double? {
    switch v._withUnsafeGuaranteedRef({ $0.slot }) {
    case .local(let i): return interp.stack.number(at: interp.base + i)
    case .global(let i): return interp.globals.number(at: i)
    default: return nil
    }
  }
}

final class LogicalExpr: Expr {
  let isAnd: Bool
  let lhs: Expr, rhs: Expr
  init(isAnd: Bool, _ lhs: Expr, _ rhs: Expr, _ loc: SourceLocation) {
    self.isAnd = isAnd
    self.lhs = lhs
    self.rhs = rhs
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    let a = try lhs.eval(interp)
    if isAnd { return a.isTruthy ? try rhs.eval(interp) : a }
    return a.isTruthy ? a : try rhs.eval(interp)
  }
}

final class RangeExpr: Expr {
  let start: Expr, end: Expr
  let inclusive: Bool
  init(_ start: Expr, _ end: Expr, inclusive: Bool, _ loc: SourceLocation) {
    self.start = start
    self.end = end
    self.inclusive = inclusive
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    let a = try interp.integer(try start.eval(interp), what: "range start", at: start.location)
    let b = try interp.integer(try end.eval(interp), what: "range end", at: end.location)
    return .range(RangeValue(start: a, end: inclusive ? b + 1 : b))
  }
}

/// One argument at a call site, optionally named (`f(x, axis: 1)`).
struct Argument {
  var name: String?
  var value: Expr
}

final class CallExpr: Expr {
  let callee: Expr
  let arguments: [Argument]
  let hasNames: Bool
  /// Inline cache for `receiver.method(...)`: the receiver's type key and the method found for it.
  var cachedReceiverType: ObjectIdentifier?
  var cachedMethod: NativeFunction? {
    didSet { cachedMethodRef = cachedMethod.map { .passUnretained($0) } }
  }
  /// `cachedMethod`, unretained: read without reference counting. A call running through it stays
  /// safe when a nested call at this site replaces the cache: the method also lives in its
  /// receiver type's method table, and the receiver is alive for the whole call.
  private(set) var cachedMethodRef: Unmanaged<NativeFunction>?
  let argumentCount: Int
  /// The argument expressions alone, unretained (`arguments` keeps them alive): the call fast path
  /// reads them without copying names or reference counting.
  let argumentRefs: UnsafeMutablePointer<Unmanaged<Expr>>
  /// For a method call `receiver.name(...)`: the receiver expression, unretained (`callee`, the
  /// field expression, keeps it alive), and the method name.
  let methodReceiver: Unmanaged<Expr>?
  let methodName: String
  let isMethodCall: Bool
  /// The callee, unretained (`callee` keeps it alive).
  let calleeRef: Unmanaged<Expr>
  /// The callee when it is a plain name (unretained; `callee` keeps it alive).
  let calleeVariable: Unmanaged<VariableExpr>?
  /// The function (script closure or native) this site last called through a global name,
  /// unretained: used while that global still holds the same object (compared by address, so a
  /// freed one is never touched), and the call skips loading, reference counting and casting the
  /// callee. A function replaced while it runs stays alive until the statement ends
  /// (`GlobalScope.assign`).
  var cachedCallee: UnsafeMutableRawPointer?
  var cachedCalleeIsNative = false
  init(_ callee: Expr, _ arguments: [Argument], _ loc: SourceLocation) {
    self.callee = callee
    self.arguments = arguments
    argumentCount = arguments.count
    argumentRefs = .allocate(capacity: Swift.max(arguments.count, 1))
    for (i, a) in arguments.enumerated() { (argumentRefs + i).initialize(to: .passUnretained(a.value)) }
    let field = callee as? FieldExpr
    methodReceiver = field.map { .passUnretained($0.object) }
    methodName = field?.name ?? ""
    isMethodCall = field != nil
    calleeRef = .passUnretained(callee)
    calleeVariable = (callee as? VariableExpr).map { .passUnretained($0) }
    hasNames = arguments.contains { $0.name != nil }
    super.init(loc)
  }
  deinit { argumentRefs.deallocate() }

  override func eval(_ interp: Interpreter) throws -> Value {
    if isMethodCall { return try evalMethodCall(interp) }
    if let cached = cachedCallee, let variable = calleeVariable,
      case .global(let i) = variable._withUnsafeGuaranteedRef({ $0.slot }),
      interp.globals.functionAddress(at: i, native: cachedCalleeIsNative) == cached
    {
      if cachedCalleeIsNative {
        return try Unmanaged<NativeFunction>.fromOpaque(cached)._withUnsafeGuaranteedRef { try interp.callNative($0, self) }
      }
      return try Unmanaged<Closure>.fromOpaque(cached)._withUnsafeGuaranteedRef { try interp.callClosureFast($0, self) }
    }
    let target = try calleeRef._withUnsafeGuaranteedRef { try $0.eval(interp) }
    if !hasNames, let variable = calleeVariable, case .global = variable._withUnsafeGuaranteedRef({ $0.slot }) {
      cacheCallee(target)
    }
    // Consuming the callee moves the closure out of it instead of retaining it again.
    switch consume target {
    case .closure(let closure) where !hasNames: return try interp.callClosureFast(closure, self)
    case let other: return try interp.call(other, self)
    }
  }

  /// Remembers a script closure or native function called through a global name.
  @inline(never)
  func cacheCallee(_ target: Value) {
    switch target {
    case .closure(let c):
      cachedCallee = Unmanaged.passUnretained(c).toOpaque()
      cachedCalleeIsNative = false
    case .function(let f as NativeFunction):
      cachedCallee = Unmanaged<AnyObject>.passUnretained(f).toOpaque()
      cachedCalleeIsNative = true
    default: break
    }
  }

  /// `receiver.name(args)`: kept out of `eval` so the plain call path does not copy the field node.
  @inline(never)
  func evalMethodCall(_ interp: Interpreter) throws -> Value {
    guard let object = methodReceiver else { return .null }
    let receiver = try object._withUnsafeGuaranteedRef { try $0.eval(interp) }
    return try interp.callMethod(receiver, methodName, self)
  }
}

final class FieldExpr: Expr {
  let object: Expr
  let name: String
  init(_ object: Expr, _ name: String, _ loc: SourceLocation) {
    self.object = object
    self.name = name
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    try interp.getField(try object.eval(interp), name, at: location)
  }
}

/// An index or slice inside `x[...]`.
enum IndexExprPart {
  case value(Expr)
  case slice(Expr?, Expr?, Expr?)
}

final class IndexExpr: Expr {
  let object: Expr
  let parts: [IndexExprPart]
  /// The index when it is one plain value (`m[k]`, `xs[i]`): read without building an index list.
  /// Unretained (`parts` keeps it alive), like `objectRef`, so evaluation counts no references.
  let singleIndex: Unmanaged<Expr>?
  /// `object`, unretained.
  let objectRef: Unmanaged<Expr>
  init(_ object: Expr, _ parts: [IndexExprPart], _ loc: SourceLocation) {
    self.object = object
    self.parts = parts
    objectRef = .passUnretained(object)
    if parts.count == 1, case .value(let e) = parts[0] { singleIndex = .passUnretained(e) } else { singleIndex = nil }
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value {
    let target = try objectRef._withUnsafeGuaranteedRef { try $0.eval(interp) }
    if let e = singleIndex {
      let key = try e._withUnsafeGuaranteedRef { try $0.eval(interp) }
      if let v = try interp.indexListOrMap(target, key, at: location) { return v }
      return try interp.index(target, [.value(key)], at: location)
    }
    return try interp.index(target, try interp.evaluateIndex(parts), at: location)
  }
}

/// `fn(a, b: 2) { ... }` as a value.
final class FunctionExpr: Expr {
  let decl: FunctionDecl
  init(_ decl: FunctionDecl, _ loc: SourceLocation) {
    self.decl = decl
    super.init(loc)
  }
  override func eval(_ interp: Interpreter) throws -> Value { .closure(try interp.makeClosure(decl)) }
}

/// A function's parameters, body and the frame layout the resolver computed.
final class FunctionDecl {
  let name: String
  let parameters: [(name: String, defaultValue: Expr?)]
  let body: [Stmt]
  let location: SourceLocation
  /// Frame slots needed (parameters first).
  var slotCount = 0
  /// Which parameter slots hold cells (captured by inner closures).
  var boxedParameters: [Bool] = [] {
    didSet { hasBoxedParameters = boxedParameters.contains(true) }
  }
  private(set) var hasBoxedParameters = false
  /// Where each captured variable comes from in the enclosing function.
  var captures: [VariableSlot] = []
  /// Parameter index by name, for keyword arguments.
  lazy var parameterIndex: [String: Int] = {
    var d: [String: Int] = [:]
    for (i, p) in parameters.enumerated() { d[p.name] = i }
    return d
  }()

  init(name: String, parameters: [(String, Expr?)], body: [Stmt], location: SourceLocation) {
    self.name = name
    self.parameters = parameters.map { (name: $0.0, defaultValue: $0.1) }
    self.body = body
    self.location = location
  }
}
