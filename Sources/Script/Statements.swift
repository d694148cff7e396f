// Statements: let, assignment, fn, if, while, for, break/continue/return, import, try/catch.

/// How a statement finished.
enum Flow {
  case normal, breakLoop, continueLoop, returned
}

/// Base of all statements.
class Stmt {
  let location: SourceLocation
  init(_ location: SourceLocation) { self.location = location }
  func exec(_ interp: Interpreter) throws -> Flow { .normal }
}

/// Runs one loop iteration: nil to keep looping, or how the loop statement ends
/// (`break` ends it normally; `return` propagates).
@inline(__always)
func loopIteration(_ body: [Stmt], _ interp: Interpreter, at loc: SourceLocation) throws -> Flow? {
  try interp.checkInterrupt(at: loc)
  switch try execBlock(body, interp) {
  case .breakLoop:
    interp.clearLastValue()
    return .normal
  case .returned: return .returned
  default: return nil
  }
}

extension Interpreter {
  /// Forgets the value the REPL would print. Only top-level statements touch it: a function
  /// called from a condition must not leave its own expression statements' values behind.
  @inline(__always)
  func clearLastValue() {
    if callDepth == 0 { lastValue = nil }
  }
}

/// Runs statements in order until one breaks the normal flow.
@inline(__always)
func execBlock(_ stmts: [Stmt], _ interp: Interpreter) throws -> Flow {
  // Statements are borrowed from the block (which outlives the loop), not retained one by one.
  try stmts.withUnsafeBufferPointer { block in
    for i in 0..<block.count {
      let f = try Unmanaged.passUnretained(block[i])._withUnsafeGuaranteedRef { try $0.exec(interp) }
      if case .normal = f { continue }
      return f
    }
    return .normal
  }
}

final class ExprStmt: Stmt {
  let expr: Expr
  /// Ended with `;` — the REPL does not print its value.
  let silent: Bool
  init(_ expr: Expr, silent: Bool, _ loc: SourceLocation) {
    self.expr = expr
    self.silent = silent
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    let v = try expr.eval(interp)
    if interp.callDepth == 0 { interp.lastValue = silent ? nil : v }
    return .normal
  }
}

/// Stores a value into a resolved variable slot.
@inline(__always)
func store(_ value: Value, into slot: VariableSlot, _ interp: Interpreter, declaring: Bool) {
  switch slot {
  case .local(let i): interp.stack[interp.base + i] = value
  case .cell(let i):
    if !declaring, case .cell(let c) = interp.stack[interp.base + i] {
      c.value = value
    } else {
      interp.stack[interp.base + i] = .cell(Cell(value))
    }
  case .upvalue(let i): interp.captures[i].value = value
  case .global(let i): interp.globals.assign(i, value)
  case .unresolved: break
  }
}

final class LetStmt: Stmt {
  let name: String
  let value: Expr?
  var slot: VariableSlot = .unresolved
  init(_ name: String, _ value: Expr?, _ loc: SourceLocation) {
    self.name = name
    self.value = value
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    store(try value?.eval(interp) ?? .null, into: slot, interp, declaring: true)
    interp.clearLastValue()
    return .normal
  }
}

final class AssignStmt: Stmt {
  let target: Expr
  /// nil for `=`, else the operator of `+=` and friends.
  let op: BinaryOp?
  let value: Expr
  /// What the target is, decided once (a dynamic cast per execution showed in profiles).
  /// What the target is, with its node unretained (`target` keeps it alive): matching a case
  /// with a strong payload retained the node on every execution.
  private enum Kind {
    case variable(Unmanaged<VariableExpr>), field(Unmanaged<FieldExpr>), index(Unmanaged<IndexExpr>), other
  }
  private let kind: Kind
  /// `value`, unretained.
  private let valueRef: Unmanaged<Expr>
  init(_ target: Expr, _ op: BinaryOp?, _ value: Expr, _ loc: SourceLocation) {
    self.target = target
    self.op = op
    self.value = value
    valueRef = .passUnretained(value)
    switch target {
    case let v as VariableExpr: kind = .variable(.passUnretained(v))
    case let f as FieldExpr: kind = .field(.passUnretained(f))
    case let ix as IndexExpr: kind = .index(.passUnretained(ix))
    default: kind = .other
    }
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    interp.clearLastValue()
    switch kind {
    case .variable(let v): try v._withUnsafeGuaranteedRef { try assign(to: $0, interp) }
    case .field(let f): try f._withUnsafeGuaranteedRef { try assign(to: $0, interp) }
    case .index(let ix): try ix._withUnsafeGuaranteedRef { try assign(to: $0, interp) }
    case .other: throw Diagnostic(.syntax, "cannot assign to this expression", at: target.location)
    }
    return .normal
  }

  private func newValue(_ interp: Interpreter) throws -> Value {
    try valueRef._withUnsafeGuaranteedRef { try $0.eval(interp) }
  }

  private func assign(to v: VariableExpr, _ interp: Interpreter) throws {
    var new = try newValue(interp)
    if let op { new = try interp.binary(op, try v.eval(interp), new, at: location) }
    store(new, into: v.slot, interp, declaring: false)
  }

  private func assign(to f: FieldExpr, _ interp: Interpreter) throws {
    let obj = try f.object.eval(interp)
    var new = try newValue(interp)
    if let op { new = try interp.binary(op, try interp.getField(obj, f.name, at: f.location), new, at: location) }
    try interp.setField(obj, f.name, new, at: f.location)
  }

  private func assign(to ix: IndexExpr, _ interp: Interpreter) throws {
    let obj = try ix.objectRef._withUnsafeGuaranteedRef { try $0.eval(interp) }
    if op == nil, let e = ix.singleIndex {
      let key = try e._withUnsafeGuaranteedRef { try $0.eval(interp) }
      let new = try newValue(interp)
      if try interp.setListOrMapIndex(obj, key, new, at: ix.location) { return }
      try interp.setIndex(obj, [.value(key)], new, at: ix.location)
      return
    }
    let idx = try interp.evaluateIndex(ix.parts)
    var new = try newValue(interp)
    if let op { new = try interp.binary(op, try interp.index(obj, idx, at: ix.location), new, at: location) }
    try interp.setIndex(obj, idx, new, at: ix.location)
  }
}

final class FnStmt: Stmt {
  let decl: FunctionDecl
  var slot: VariableSlot = .unresolved
  init(_ decl: FunctionDecl, _ loc: SourceLocation) {
    self.decl = decl
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    // Declare first so a local recursive function can capture its own cell.
    store(.null, into: slot, interp, declaring: true)
    store(.closure(try interp.makeClosure(decl)), into: slot, interp, declaring: false)
    interp.clearLastValue()
    return .normal
  }
}

final class IfStmt: Stmt {
  let condition: Expr
  let then: [Stmt]
  let otherwise: [Stmt]?
  /// The value of `if cond { return value }`, unretained (`then` keeps it alive): run without
  /// entering the block.
  private let returnedValue: Unmanaged<Expr>?
  init(_ condition: Expr, _ then: [Stmt], _ otherwise: [Stmt]?, _ loc: SourceLocation) {
    self.condition = condition
    self.then = then
    self.otherwise = otherwise
    returnedValue = then.count == 1 ? (then[0] as? ReturnStmt)?.value.map { .passUnretained($0) } : nil
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    interp.clearLastValue()
    if try condition.test(interp) {
      if let value = returnedValue {
        interp.returnValue = try value._withUnsafeGuaranteedRef { try $0.eval(interp) }
        return .returned
      }
      return try execBlock(then, interp)
    }
    if let otherwise { return try execBlock(otherwise, interp) }
    return .normal
  }
}

final class WhileStmt: Stmt {
  let condition: Expr
  let body: [Stmt]
  init(_ condition: Expr, _ body: [Stmt], _ loc: SourceLocation) {
    self.condition = condition
    self.body = body
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    while try condition.test(interp) {
      if let end = try loopIteration(body, interp, at: location) { return end }
    }
    interp.clearLastValue()
    return .normal
  }
}

final class ForStmt: Stmt {
  let names: [String]
  var slots: [VariableSlot] = []
  let iterable: Expr
  let body: [Stmt]
  init(_ names: [String], _ iterable: Expr, _ body: [Stmt], _ loc: SourceLocation) {
    self.names = names
    self.iterable = iterable
    self.body = body
    super.init(loc)
  }

  /// Binds one element to the loop variable(s); two names destructure pairs.
  func bind(_ v: Value, _ interp: Interpreter) throws {
    if slots.count == 1 {
      store(v, into: slots[0], interp, declaring: true)
      return
    }
    guard case .list(let l) = v, l.items.count == slots.count else {
      throw Diagnostic(.value, "cannot unpack \(v.typeName) into \(slots.count) loop variables", at: iterable.location)
    }
    for (s, x) in zip(slots, l.items) { store(x, into: s, interp, declaring: true) }
  }

  override func exec(_ interp: Interpreter) throws -> Flow {
    let source = try iterable.eval(interp)
    if case .range(let r) = source, slots.count == 1 {
      var i = r.start
      while r.step > 0 ? i < r.end : i > r.end {
        store(.number(Double(i)), into: slots[0], interp, declaring: true)
        if let end = try loopIteration(body, interp, at: location) { return end }
        i += r.step
      }
      interp.clearLastValue()
      return .normal
    }
    let next = try interp.iterator(source, pairs: slots.count == 2, at: iterable.location)
    while let v = try next() {
      try bind(v, interp)
      if let end = try loopIteration(body, interp, at: location) { return end }
    }
    interp.clearLastValue()
    return .normal
  }
}

final class BreakStmt: Stmt {
  override func exec(_ interp: Interpreter) throws -> Flow { .breakLoop }
}

final class ContinueStmt: Stmt {
  override func exec(_ interp: Interpreter) throws -> Flow { .continueLoop }
}

final class ReturnStmt: Stmt {
  let value: Expr?
  init(_ value: Expr?, _ loc: SourceLocation) {
    self.value = value
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    interp.returnValue = try value?.eval(interp) ?? .null
    return .returned
  }
}

final class ImportStmt: Stmt {
  let path: [String]
  let alias: String
  var slot: VariableSlot = .unresolved
  init(_ path: [String], alias: String?, _ loc: SourceLocation) {
    self.path = path
    self.alias = alias ?? path[path.count - 1]
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    store(try interp.importModule(path, at: location), into: slot, interp, declaring: true)
    interp.clearLastValue()
    return .normal
  }
}

final class TryStmt: Stmt {
  let body: [Stmt]
  let errorName: String
  var slot: VariableSlot = .unresolved
  let handler: [Stmt]
  init(_ body: [Stmt], _ errorName: String, _ handler: [Stmt], _ loc: SourceLocation) {
    self.body = body
    self.errorName = errorName
    self.handler = handler
    super.init(loc)
  }
  override func exec(_ interp: Interpreter) throws -> Flow {
    let mark = interp.unwindMark()
    do {
      return try execBlock(body, interp)
    } catch let d as Diagnostic where d.kind != .interrupted {
      interp.unwind(to: mark)
      store(interp.errorValue(d), into: slot, interp, declaring: true)
      return try execBlock(handler, interp)
    }
  }
}
