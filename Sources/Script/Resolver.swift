// Resolver: decides before running where every variable lives (frame slot, captured cell, upvalue,
// global) and reports unknown names with a suggestion.

/// One local variable of the function being resolved.
final class LocalInfo {
  let name: String
  let slot: Int
  var captured = false
  /// Nodes that refer to this local; patched with its final kind when the function ends.
  var patches: [(VariableSlot) -> Void] = []
  init(name: String, slot: Int) {
    self.name = name
    self.slot = slot
  }
}

/// The function (or top-level chunk) being resolved.
final class FunctionScope {
  var scopes: [[String: LocalInfo]] = [[:]]
  var all: [LocalInfo] = []
  var captures: [VariableSlot] = []
  var captureNames: [String] = []
  let isChunk: Bool
  init(isChunk: Bool) { self.isChunk = isChunk }

  func lookup(_ name: String) -> LocalInfo? {
    for s in scopes.reversed() { if let l = s[name] { return l } }
    return nil
  }
}

struct Resolver {
  let globals: GlobalScope
  var functions: [FunctionScope] = []
  var diagnostics: [Diagnostic] = []

  init(globals: GlobalScope) { self.globals = globals }

  /// Resolves a chunk; returns its frame size. Top-level names become globals.
  mutating func resolveChunk(_ stmts: [Stmt]) -> Int {
    for s in stmts {
      switch s {
      case let l as LetStmt: globals.declare(l.name)
      case let f as FnStmt: globals.declare(f.decl.name)
      case let i as ImportStmt: globals.declare(i.alias)
      default: break
      }
    }
    let chunk = FunctionScope(isChunk: true)
    functions.append(chunk)
    for s in stmts { resolve(s) }
    finish(chunk)
    functions.removeLast()
    return chunk.all.count
  }

  // MARK: declarations

  /// True when declarations go to module globals (top level of a chunk).
  var atTopLevel: Bool { functions.count == 1 && functions[0].isChunk && functions[0].scopes.count == 1 }

  /// Declares `name` in the current scope and returns a patch target for its slot.
  mutating func declare(_ name: String, _ patch: @escaping (VariableSlot) -> Void) {
    if atTopLevel {
      patch(.global(globals.declare(name)))
      return
    }
    let fn = functions[functions.count - 1]
    let info = LocalInfo(name: name, slot: fn.all.count)
    fn.all.append(info)
    fn.scopes[fn.scopes.count - 1][name] = info
    info.patches.append(patch)
  }

  mutating func withScope(_ body: (inout Resolver) -> Void) {
    functions[functions.count - 1].scopes.append([:])
    body(&self)
    functions[functions.count - 1].scopes.removeLast()
  }

  /// Applies each local's final kind (plain slot or cell) to every node that names it.
  func finish(_ fn: FunctionScope) {
    for l in fn.all {
      let kind: VariableSlot = l.captured ? .cell(l.slot) : .local(l.slot)
      for p in l.patches { p(kind) }
    }
  }

  // MARK: references

  /// Finds `name` from the innermost function outwards, capturing across function boundaries.
  mutating func reference(_ name: String, at loc: SourceLocation, _ patch: @escaping (VariableSlot) -> Void) {
    if let local = functions[functions.count - 1].lookup(name) {
      local.patches.append(patch)
      return
    }
    if let up = upvalue(name, functionIndex: functions.count - 1) {
      patch(.upvalue(up))
      return
    }
    if let g = globals.slot(name) {
      patch(.global(g))
      return
    }
    var message = "unknown name '\(name)'"
    if let s = suggestion(for: name) { message += " (did you mean '\(s)'?)" }
    diagnostics.append(Diagnostic(.name, message, at: SourceLocation(file: loc.file, line: loc.line, column: loc.column, length: name.count)))
  }

  /// Index of `name` among function `fi`'s captures, adding it when found in an enclosing function.
  mutating func upvalue(_ name: String, functionIndex fi: Int) -> Int? {
    guard fi > 0 else { return nil }
    let fn = functions[fi]
    if let i = fn.captureNames.firstIndex(of: name) { return i }
    let outer = functions[fi - 1]
    if let local = outer.lookup(name) {
      local.captured = true
      fn.captures.append(.cell(local.slot))
      fn.captureNames.append(name)
      return fn.captures.count - 1
    }
    if let outerIndex = upvalue(name, functionIndex: fi - 1) {
      fn.captures.append(.upvalue(outerIndex))
      fn.captureNames.append(name)
      return fn.captures.count - 1
    }
    return nil
  }

  /// The visible name closest to `name` by edit distance, if any is close.
  func suggestion(for name: String) -> String? {
    var candidates = globals.names
    for fn in functions { for s in fn.scopes { candidates += s.keys } }
    return closestName(name, candidates)
  }

  // MARK: nodes

  mutating func resolve(_ s: Stmt) {
    switch s {
    case let e as ExprStmt: resolve(e.expr)
    case let l as LetStmt:
      if let v = l.value { resolve(v) }
      declare(l.name) { l.slot = $0 }
    case let a as AssignStmt:
      resolve(a.value)
      resolve(a.target)
    case let f as FnStmt:
      declare(f.decl.name) { f.slot = $0 }
      resolveFunction(f.decl)
    case let i as IfStmt:
      resolve(i.condition)
      resolveBlock(i.then)
      if let o = i.otherwise { resolveBlock(o) }
    case let w as WhileStmt:
      resolve(w.condition)
      resolveBlock(w.body)
    case let f as ForStmt:
      resolve(f.iterable)
      withScope { r in
        f.slots = Array(repeating: .unresolved, count: f.names.count)
        for (k, n) in f.names.enumerated() { r.declareLocalAlways(n) { f.slots[k] = $0 } }
        r.resolveBlock(f.body)
      }
    case let r as ReturnStmt:
      if let v = r.value { resolve(v) }
    case let i as ImportStmt:
      declare(i.alias) { i.slot = $0 }
    case let t as TryStmt:
      resolveBlock(t.body)
      withScope { r in
        r.declareLocalAlways(t.errorName) { t.slot = $0 }
        r.resolveBlock(t.handler)
      }
    default: break
    }
  }

  /// Declares a block-scoped local even at top level (loop variables, caught errors).
  mutating func declareLocalAlways(_ name: String, _ patch: @escaping (VariableSlot) -> Void) {
    let fn = functions[functions.count - 1]
    let info = LocalInfo(name: name, slot: fn.all.count)
    fn.all.append(info)
    fn.scopes[fn.scopes.count - 1][name] = info
    info.patches.append(patch)
  }

  mutating func resolveBlock(_ stmts: [Stmt]) {
    withScope { r in for s in stmts { r.resolve(s) } }
  }

  mutating func resolveFunction(_ decl: FunctionDecl) {
    for p in decl.parameters { if let d = p.defaultValue { resolve(d) } }
    let fn = FunctionScope(isChunk: false)
    functions.append(fn)
    var paramInfos: [LocalInfo] = []
    for p in decl.parameters {
      let info = LocalInfo(name: p.name, slot: fn.all.count)
      fn.all.append(info)
      fn.scopes[0][p.name] = info
      paramInfos.append(info)
    }
    for s in decl.body { resolve(s) }
    finish(fn)
    decl.slotCount = fn.all.count
    decl.boxedParameters = paramInfos.map(\.captured)
    decl.captures = fn.captures
    functions.removeLast()
  }

  mutating func resolve(_ e: Expr) {
    switch e {
    case let v as VariableExpr: reference(v.name, at: v.location) { v.slot = $0 }
    case let b as BinaryExpr:
      resolve(b.lhs)
      resolve(b.rhs)
    case let l as LogicalExpr:
      resolve(l.lhs)
      resolve(l.rhs)
    case let u as UnaryExpr: resolve(u.operand)
    case let r as RangeExpr:
      resolve(r.start)
      resolve(r.end)
    case let c as CallExpr:
      resolve(c.callee)
      for a in c.arguments { resolve(a.value) }
    case let f as FieldExpr: resolve(f.object)
    case let i as IndexExpr:
      resolve(i.object)
      for p in i.parts {
        switch p {
        case .value(let x): resolve(x)
        case .slice(let a, let b, let c):
          for x in [a, b, c] { if let x { resolve(x) } }
        }
      }
    case let l as ListExpr: for x in l.items { resolve(x) }
    case let m as MapExpr:
      for (k, v) in m.entries {
        resolve(k)
        resolve(v)
      }
    case let s as InterpolationExpr:
      for p in s.parts { if case .expr(let x) = p { resolve(x) } }
    case let f as FunctionExpr: resolveFunction(f.decl)
    default: break
    }
  }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
  let x = Array(a), y = Array(b)
  if x.isEmpty { return y.count }
  if y.isEmpty { return x.count }
  var prev = Array(0...y.count)
  for i in 1...x.count {
    var cur = [i] + Array(repeating: 0, count: y.count)
    for j in 1...y.count {
      cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[y.count]
}

/// The candidate within a third of the name's length in edits, if any.
public func closestName(_ name: String, _ candidates: [String]) -> String? {
  let limit = Swift.max(1, name.count / 3)
  var best: (String, Int)? = nil
  for c in Set(candidates) where c != name {
    let d = editDistance(name, c)
    if d > limit { continue }
    if let b = best, d > b.1 || (d == b.1 && c >= b.0) { continue }
    best = (c, d)
  }
  return best?.0
}
