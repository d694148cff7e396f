// Operations: what operators, fields, indexing and iteration mean for each kind of value.

import Foundation

extension BinaryOp {
  /// `x op y` for the arithmetic and comparison operators on numbers (nil for the others).
  @inline(__always)
  func apply(_ x: Double, _ y: Double) -> Value? {
    switch self {
    case .add: return .number(x + y)
    case .sub: return .number(x - y)
    case .mul: return .number(x * y)
    case .div: return .number(x / y)
    case .mod: return .number(x - y * (x / y).rounded(.down))
    case .pow: return .number(Foundation.pow(x, y))
    case .lt: return .bool(x < y)
    case .le: return .bool(x <= y)
    case .gt: return .bool(x > y)
    case .ge: return .bool(x >= y)
    case .eq: return .bool(x == y)
    case .ne: return .bool(x != y)
    default: return nil
    }
  }

  /// A comparison of two numbers, or nil when the operator is not a comparison.
  @inline(__always)
  func compare(_ x: Double, _ y: Double) -> Bool? {
    switch self {
    case .lt: return x < y
    case .le: return x <= y
    case .gt: return x > y
    case .ge: return x >= y
    case .eq: return x == y
    case .ne: return x != y
    default: return nil
    }
  }
}

extension Interpreter {
  func integer(_ v: Value, what: String, at loc: SourceLocation?) throws -> Int {
    guard case .number(let n) = v, n == n.rounded(), Swift.abs(n) < 9e15 else {
      throw Diagnostic(.type, "\(what) must be an integer, got \(describeShort(v))", at: loc)
    }
    return Int(n)
  }

  func mapKey(_ v: Value, at loc: SourceLocation?) throws -> MapKey {
    switch v {
    case .string(let s): return .string(s)
    case .number(let n): return .number(n)
    default: throw Diagnostic(.type, "map keys must be strings or numbers, got \(v.typeName)", at: loc)
    }
  }

  /// Structural equality for built-in values; identity for functions and natives (unless overloaded).
  public func equals(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.range(let x), .range(let y)): return x == y
    case (.list(let x), .list(let y)):
      return x === y || (x.items.count == y.items.count && zip(x.items, y.items).allSatisfy { equals($0, $1) })
    case (.map(let x), .map(let y)):
      return x === y
        || (x.count == y.count && x.entries.allSatisfy { k, v in y[k].map { equals(v, $0) } ?? false })
    case (.function(let x), .function(let y)): return x === y
    case (.closure(let x), .closure(let y)): return x === y
    case (.native(let x), .native(let y)): return x === y
    default: return false
    }
  }

  func binary(_ op: BinaryOp, _ a: Value, _ b: Value, at loc: SourceLocation?) throws -> Value {
    // `x == nil` / `x != nil` is a presence test for every value, natives (tensors) included.
    let nilTest = (op == .eq || op == .ne) && (a.isNilValue || b.isNilValue)
    if !nilTest, a.isNative || b.isNative, let native = nativeBinaryOperator(op), case .native(let o) = (a.isNative ? a : b),
      let handler = o.type.binary
    {
      do {
        if let r = try handler(native, a, b) { return r }
      } catch let d as Diagnostic {
        throw d.attach(loc)
      } catch {
        throw Diagnostic(.native, "\(op.rawValue): \(error)", at: loc)
      }
    }
    switch (op, a, b) {
    case (.eq, _, _): return .bool(equals(a, b))
    case (.ne, _, _): return .bool(!equals(a, b))
    case (.in, _, _): return .bool(try contains(b, a, at: loc))
    case (.notIn, _, _): return .bool(!(try contains(b, a, at: loc)))
    case (_, .number(let x), .number(let y)):
      if let result = op.apply(x, y) { return result }
    case (.add, .string(let x), .string(let y)): return .string(x + y)
    case (.lt, .string(let x), .string(let y)): return .bool(x < y)
    case (.le, .string(let x), .string(let y)): return .bool(x <= y)
    case (.gt, .string(let x), .string(let y)): return .bool(x > y)
    case (.ge, .string(let x), .string(let y)): return .bool(x >= y)
    case (.mul, .string(let s), .number(let n)), (.mul, .number(let n), .string(let s)):
      guard n >= 0, n == n.rounded(), n < 1e8 else { break }
      return .string(String(repeating: s, count: Int(n)))
    case (.add, .list(let x), .list(let y)): return .list(ListRef(x.items + y.items))
    case (.mul, .list(let l), .number(let n)):
      guard n >= 0, n == n.rounded(), Double(l.items.count) * n < 1e8 else { break }
      return .list(ListRef(Array([[Value]](repeating: l.items, count: Int(n)).joined())))
    default: break
    }
    throw Diagnostic(.type, "unsupported operand types for \(op.rawValue): \(a.typeName) and \(b.typeName)", at: loc)
  }

  func nativeBinaryOperator(_ op: BinaryOp) -> BinaryOperator? {
    BinaryOperator(rawValue: op.rawValue)
  }

  func negate(_ v: Value, at loc: SourceLocation) throws -> Value {
    if case .native(let o) = v, let neg = o.type.negate {
      do { return try neg(o) } catch let d as Diagnostic { throw d.attach(loc) }
    }
    throw Diagnostic(.type, "cannot negate a \(v.typeName)", at: loc)
  }

  func contains(_ container: Value, _ item: Value, at loc: SourceLocation?) throws -> Bool {
    switch container {
    case .list(let l): return l.items.contains { equals($0, item) }
    case .map(let m):
      guard let k = try? mapKey(item, at: loc) else { return false }
      return m[k] != nil
    case .string(let s):
      guard case .string(let sub) = item else {
        throw Diagnostic(.type, "'in <string>' needs a string on the left, got \(item.typeName)", at: loc)
      }
      return sub.isEmpty || s.contains(sub)
    case .range(let r):
      guard case .number(let n) = item, n == n.rounded() else { return false }
      let i = Int(n)
      return r.step > 0 ? (i >= r.start && i < r.end && (i - r.start) % r.step == 0) : false
    default:
      let next = try iterator(container, pairs: false, at: loc)
      while let v = try next() {
        if equals(v, item) { return true }
      }
      return false
    }
  }

  // MARK: fields

  func getField(_ v: Value, _ name: String, at loc: SourceLocation?) throws -> Value {
    switch v {
    case .map(let m):
      if let x = m[name] { return x }
      if let f = builtinMethods["map"]?[name] { return .function(BoundMethod(receiver: v, function: f)) }
      var msg = "map has no key '\(name)'"
      if let s = closestName(name, m.keys.map(\.description)) { msg += " (did you mean '\(s)'?)" }
      throw Diagnostic(.key, msg, at: loc)
    case .native(let o):
      if let p = o.type.properties[name] {
        do { return try p.get(o) } catch let d as Diagnostic { throw d.attach(loc) } catch {
          throw Diagnostic(.native, "\(name): \(error)", at: loc)
        }
      }
      if let m = o.type.methods[name] { return .function(BoundMethod(receiver: v, function: m)) }
      if let dyn = o.type.dynamicMember {
        do {
          if let x = try dyn(o, name) { return x }
        } catch let d as Diagnostic { throw d.attach(loc) }
      }
      var msg = "\(o.type.name) has no member '\(name)'"
      let known = Array(o.type.properties.keys) + Array(o.type.methods.keys) + (o.type.dynamicMemberNames?(o) ?? [])
      if let s = closestName(name, known) {
        msg += " (did you mean '\(s)'?)"
      }
      throw Diagnostic(.key, msg, at: loc)
    default:
      if let f = builtinMethods[v.typeName]?[name] { return .function(BoundMethod(receiver: v, function: f)) }
      throw Diagnostic(.key, "\(v.typeName) has no member '\(name)'", at: loc)
    }
  }

  func setField(_ target: Value, _ name: String, _ value: Value, at loc: SourceLocation) throws {
    switch target {
    case .map(let m): m[name] = value
    case .native(let o):
      guard let p = o.type.properties[name], let set = p.set else {
        throw Diagnostic(.key, "cannot set '\(name)' on \(o.type.name)", at: loc)
      }
      do { try set(o, value) } catch let d as Diagnostic { throw d.attach(loc) } catch {
        throw Diagnostic(.native, "\(name): \(error)", at: loc)
      }
    default:
      throw Diagnostic(.type, "cannot set field '\(name)' on a \(target.typeName)", at: loc)
    }
  }

  // MARK: indexing

  func evaluateIndex(_ parts: [IndexExprPart]) throws -> [IndexArgument] {
    try parts.map { p in
      switch p {
      case .value(let e): return .value(try e.eval(self))
      case .slice(let a, let b, let c):
        func opt(_ e: Expr?) throws -> Int? {
          guard let e else { return nil }
          let v = try e.eval(self)
          if case .null = v { return nil }
          return try integer(v, what: "slice bound", at: e.location)
        }
        return .slice(start: try opt(a), end: try opt(b), step: try opt(c))
      }
    }
  }

  /// Resolves a possibly negative index against `count`.
  func position(_ v: Value, count: Int, at loc: SourceLocation?) throws -> Int {
    let i = try integer(v, what: "index", at: loc)
    let p = i < 0 ? i + count : i
    guard p >= 0, p < count else {
      throw Diagnostic(.index, "index \(i) out of range for length \(count)", at: loc)
    }
    return p
  }

  /// Python slice semantics: the selected positions of a sequence of `count` items.
  func slicePositions(_ start: Int?, _ end: Int?, _ step: Int?, count: Int, at loc: SourceLocation) throws -> [Int] {
    let st = step ?? 1
    guard st != 0 else { throw Diagnostic(.value, "slice step cannot be zero", at: loc) }
    func clamp(_ v: Int?, _ dflt: Int, low: Int, high: Int) -> Int {
      guard var v else { return dflt }
      if v < 0 { v += count }
      return Swift.min(Swift.max(v, low), high)
    }
    var out: [Int] = []
    if st > 0 {
      var i = clamp(start, 0, low: 0, high: count)
      let e = clamp(end, count, low: 0, high: count)
      while i < e {
        out.append(i)
        i += st
      }
    } else {
      var i = clamp(start, count - 1, low: -1, high: count - 1)
      let e = clamp(end, -1, low: -1, high: count - 1)
      while i > e {
        out.append(i)
        i += st
      }
    }
    return out
  }

  func index(_ target: Value, _ idx: [IndexArgument], at loc: SourceLocation) throws -> Value {
    if case .native(let o) = target {
      guard let f = o.type.index else { throw Diagnostic(.type, "\(o.type.name) cannot be indexed", at: loc) }
      do { return try f(o, idx) } catch let d as Diagnostic { throw d.attach(loc) }
    }
    guard idx.count == 1 else { throw Diagnostic(.index, "\(target.typeName) takes one index, got \(idx.count)", at: loc) }
    switch (target, idx[0]) {
    case (.list(let l), .value(let v)): return l.items[try position(v, count: l.items.count, at: loc)]
    case (.list(let l), .slice(let a, let b, let c)):
      return .list(ListRef(try slicePositions(a, b, c, count: l.items.count, at: loc).map { l.items[$0] }))
    case (.string(let s), .value(let v)):
      let chars = Array(s)
      return .string(String(chars[try position(v, count: chars.count, at: loc)]))
    case (.string(let s), .slice(let a, let b, let c)):
      let chars = Array(s)
      return .string(String(try slicePositions(a, b, c, count: chars.count, at: loc).map { chars[$0] }))
    case (.map(let m), .value(let v)):
      let k = try mapKey(v, at: loc)
      guard let x = m[k] else { throw Diagnostic(.key, "map has no key \(repr(v))", at: loc) }
      return x
    case (.range(let r), .value(let v)): return .number(Double(r.element(try position(v, count: r.count, at: loc))))
    default:
      throw Diagnostic(.type, "\(target.typeName) cannot be indexed like this", at: loc)
    }
  }

  /// `target[key]` for a list or map (the common case, without an index list); nil for other targets.
  @inline(__always)
  func indexListOrMap(_ target: Value, _ key: Value, at loc: SourceLocation) throws -> Value? {
    switch target {
    case .list(let l): return l.items[try position(key, count: l.items.count, at: loc)]
    case .map(let m):
      guard let x = m[try mapKey(key, at: loc)] else { throw Diagnostic(.key, "map has no key \(repr(key))", at: loc) }
      return x
    default: return nil
    }
  }

  /// `target[key] = value` for a list or map; false (nothing stored) for other targets.
  @inline(__always)
  func setListOrMapIndex(_ target: Value, _ key: Value, _ value: Value, at loc: SourceLocation) throws -> Bool {
    switch target {
    case .list(let l): l.items[try position(key, count: l.items.count, at: loc)] = value
    case .map(let m): m[try mapKey(key, at: loc)] = value
    default: return false
    }
    return true
  }

  func setIndex(_ target: Value, _ idx: [IndexArgument], _ value: Value, at loc: SourceLocation) throws {
    if case .native(let o) = target {
      guard let f = o.type.setIndex else { throw Diagnostic(.type, "\(o.type.name) does not support item assignment", at: loc) }
      do { try f(o, idx, value) } catch let d as Diagnostic { throw d.attach(loc) }
      return
    }
    guard idx.count == 1 else { throw Diagnostic(.index, "\(target.typeName) takes one index, got \(idx.count)", at: loc) }
    switch (target, idx[0]) {
    case (.list(let l), .value(let v)): l.items[try position(v, count: l.items.count, at: loc)] = value
    case (.map(let m), .value(let v)): m[try mapKey(v, at: loc)] = value
    default: throw Diagnostic(.type, "\(target.typeName) does not support this item assignment", at: loc)
    }
  }

  // MARK: iteration

  /// A function returning successive elements of `v` (pairs as 2-lists for maps when `pairs`).
  func iterator(_ v: Value, pairs: Bool, at loc: SourceLocation?) throws -> () throws -> Value? {
    switch v {
    case .list(let l):
      var i = 0
      return {
        guard i < l.items.count else { return nil }
        defer { i += 1 }
        return l.items[i]
      }
    case .range(let r):
      var i = 0
      return {
        guard i < r.count else { return nil }
        defer { i += 1 }
        return .number(Double(r.element(i)))
      }
    case .map(let m):
      let entries = m.entries
      var i = 0
      return {
        guard i < entries.count else { return nil }
        defer { i += 1 }
        return pairs ? .list(ListRef([entries[i].0.value, entries[i].1])) : entries[i].0.value
      }
    case .string(let s):
      let chars = Array(s)
      var i = 0
      return {
        guard i < chars.count else { return nil }
        defer { i += 1 }
        return .string(String(chars[i]))
      }
    case .native(let o):
      guard let make = o.type.iterate else { throw Diagnostic(.type, "\(o.type.name) is not iterable", at: loc) }
      do { return try make(o) } catch let d as Diagnostic { throw d.attach(loc) }
    default:
      throw Diagnostic(.type, "\(v.typeName) is not iterable", at: loc)
    }
  }

  /// The error map a `catch` binds: message, kind, line, column, file, traceback.
  func errorValue(_ d: Diagnostic) -> Value {
    let m = MapRef([("message", .string(d.message)), ("kind", .string(d.kind.rawValue))])
    if let loc = d.location {
      m["line"] = .number(Double(loc.line))
      m["column"] = .number(Double(loc.column))
      m["file"] = .string(sources.name(loc.file))
    }
    m["traceback"] = .string(d.render(sources))
    return .map(m)
  }
}

extension Value {
  var isNative: Bool {
    if case .native = self { return true }
    return false
  }
}

extension Interpreter {
  /// `value.name` as scripts see it (properties, methods, map keys), for completion and tools.
  public func member(_ v: Value, _ name: String) throws -> Value {
    try getField(v, name, at: nil)
  }
}
