// Calls: closures with captured cells, the positional fast path, keyword and default arguments,
// native functions and methods (with a per-call-site cache), the recursion limit.

/// A script function value: its declaration, captured cells, defaults and home module.
public final class Closure: Callable {
  let decl: FunctionDecl
  let captures: [Cell]
  let defaults: [Value?]
  let globals: GlobalScope
  /// Copied from the declaration so a call reads them without touching it.
  let body: [Stmt]
  let parameterCount: Int
  let frameSize: Int
  let hasBoxedParameters: Bool
  public let name: String
  init(decl: FunctionDecl, captures: [Cell], defaults: [Value?], globals: GlobalScope) {
    self.decl = decl
    self.captures = captures
    self.defaults = defaults
    self.globals = globals
    body = decl.body
    parameterCount = decl.parameters.count
    frameSize = Swift.max(decl.slotCount, decl.parameters.count)
    hasBoxedParameters = decl.hasBoxedParameters
    name = decl.name
  }
  public var parameterNames: [String] { decl.parameters.map(\.name) }
}

extension Interpreter {

  func makeClosure(_ decl: FunctionDecl) throws -> Closure {
    var cells: [Cell] = []
    cells.reserveCapacity(decl.captures.count)
    for c in decl.captures {
      switch c {
      case .cell(let slot):
        if case .cell(let cell) = stack[base + slot] {
          cells.append(cell)
        } else {
          let cell = Cell(stack[base + slot])
          stack[base + slot] = .cell(cell)
          cells.append(cell)
        }
      case .upvalue(let i): cells.append(captures[i])
      default: cells.append(Cell(.null))
      }
    }
    var defaults: [Value?] = []
    for p in decl.parameters { defaults.append(try p.defaultValue.map { try $0.eval(self) }) }
    return Closure(decl: decl, captures: cells, defaults: defaults, globals: globals)
  }

  /// Evaluates a call site's arguments into positional values and named pairs.
  /// `capacity` sizes the positional array for the parameters the callee will bind (defaults
  /// appended later then fit without growing it).
  func evaluateArguments(_ call: CallExpr, capacity: Int = 0) throws -> ([Value], [(String, Value)]) {
    if !call.hasNames {
      var positional: [Value] = []
      positional.reserveCapacity(Swift.max(call.argumentCount, capacity))
      let exprs = call.argumentRefs
      for i in 0..<call.argumentCount { positional.append(try exprs[i]._withUnsafeGuaranteedRef { try $0.eval(self) }) }
      return (positional, [])
    }
    var positional: [Value] = []
    var named: [(String, Value)] = []
    for a in call.arguments {
      let v = try a.value.eval(self)
      if let n = a.name { named.append((n, v)) } else { positional.append(v) }
    }
    return (positional, named)
  }

  func call(_ callee: Value, _ call: CallExpr) throws -> Value {
    if case .closure(let closure) = callee, !call.hasNames {
      return try callClosureFast(closure, call)
    }
    if case .function(let f) = callee, let native = f as? NativeFunction {
      return try callNative(native, call)
    }
    let (positional, named) = try evaluateArguments(call)
    do {
      return try callValue(callee, positional, named)
    } catch let d as Diagnostic {
      throw d.attach(call.location)
    }
  }

  /// Positional-only call of a script function: arguments go straight into the new frame.
  func callClosureFast(_ c: Closure, _ call: CallExpr) throws -> Value {
    let n = call.argumentCount
    guard n <= c.parameterCount else {
      throw Diagnostic(.arity, "'\(c.name)' takes \(c.parameterCount) argument\(c.parameterCount == 1 ? "" : "s") but \(n) were given", at: call.location)
    }
    let newBase = stack.count
    do {
      let exprs = call.argumentRefs
      for i in 0..<n {
        // Each argument is pushed as the next slot once evaluated: calls it runs use (and give
        // back) the stack above the arguments pushed so far.
        stack.push(try exprs[i]._withUnsafeGuaranteedRef { try $0.eval(self) })
      }
    } catch {
      stack.truncate(to: newBase)
      throw error
    }
    pushFrame(c.frameSize - n)
    return try enter(c, newBase: newBase, given: n, callSite: call.location)
  }

  /// Appends `count` nil slots for a new frame.
  @inline(__always)
  func pushFrame(_ count: Int) {
    stack.pushNils(count)
  }

  /// Fills defaults, boxes captured parameters, switches frames and runs the body.
  func enter(_ c: Closure, newBase: Int, given: Int, assigned: [Bool]? = nil, callSite: SourceLocation) throws -> Value {
    if given < c.parameterCount || c.hasBoxedParameters {
      try prepareFrame(c, newBase: newBase, given: given, assigned: assigned, callSite: callSite)
    }
    if callDepth >= maxCallDepth {
      stack.truncate(to: newBase)
      throw Diagnostic(.stackOverflow, "stack overflow: more than \(maxCallDepth) nested calls", at: callSite)
    }
    let savedBase = base
    // Swapping the captures array and globals costs reference counting; skip it when unchanged.
    if c.captures.isEmpty && captures.isEmpty && c.globals === globals {
      base = newBase
      callDepth += 1
      let result: Value
      do {
        result = try runBody(c, callSite: callSite)
      } catch {
        leaveFrame(base: savedBase, top: newBase)
        throw error
      }
      leaveFrame(base: savedBase, top: newBase)
      return result
    }
    base = newBase
    callDepth += 1
    defer { leaveFrame(base: savedBase, top: newBase) }
    let savedCaptures = captures
    let savedGlobals = globals
    captures = c.captures
    globals = c.globals
    defer {
      captures = savedCaptures
      globals = savedGlobals
    }
    return try runBody(c, callSite: callSite)
  }

  /// Returns to the caller's frame.
  @inline(__always)
  private func leaveFrame(base savedBase: Int, top: Int) {
    base = savedBase
    callDepth -= 1
    stack.truncate(to: top)
  }

  /// Fills missing parameters from defaults and boxes the parameters inner closures capture.
  func prepareFrame(_ c: Closure, newBase: Int, given: Int, assigned: [Bool]?, callSite: SourceLocation) throws {
    let decl = c.decl
    for i in given..<Swift.max(given, c.parameterCount) where !(assigned?[i] ?? false) {
      guard let d = c.defaults[i] else {
        stack.truncate(to: newBase)
        throw Diagnostic(.arity, "missing argument '\(decl.parameters[i].name)' in call to '\(decl.name)'", at: callSite)
      }
      stack[newBase + i] = d
    }
    if c.hasBoxedParameters {
      for (i, boxed) in decl.boxedParameters.enumerated() where boxed {
        stack[newBase + i] = .cell(Cell(stack[newBase + i]))
      }
    }
  }

  /// Runs a function body in the current frame; a script error gains this call's stack frame.
  @inline(__always)
  func runBody(_ c: Closure, callSite: SourceLocation) throws -> Value {
    do {
      if case .returned = try execBlock(c.body, self) {
        // Swapped out, not copied: no reference counting on the returned value.
        var r = Value.null
        swap(&r, &returnValue)
        return r
      }
      return .null
    } catch var d as Diagnostic {
      d.frames.append(StackFrame(function: c.name, location: callSite))
      throw d
    }
  }

  /// Calls any callable value with evaluated arguments (natives use this to call back).
  public func callValue(_ callee: Value, _ positional: [Value], _ named: [(String, Value)] = []) throws -> Value {
    switch callee {
    case .closure(let c): return try callClosure(c, positional, named)
    case .function(let f):
      if let nf = f as? NativeFunction { return try callNative(nf, positional, named, receiver: nil) }
      if let bm = f as? BoundMethod { return try callNative(bm.function, positional, named, receiver: bm.receiver) }
    case .native(let o):
      if let fn = o.type.call { return try callNative(fn, positional, named, receiver: callee) }
    default: break
    }
    throw Diagnostic(.type, "\(callee.typeName) is not callable")
  }

  func callClosure(_ c: Closure, _ positional: [Value], _ named: [(String, Value)]) throws -> Value {
    let decl = c.decl
    guard positional.count <= decl.parameters.count else {
      throw Diagnostic(.arity, "'\(decl.name)' takes \(decl.parameters.count) argument\(decl.parameters.count == 1 ? "" : "s") but \(positional.count) were given")
    }
    let newBase = stack.count
    pushFrame(c.frameSize)
    for (i, v) in positional.enumerated() { stack[newBase + i] = v }
    var assigned = [Bool](repeating: false, count: decl.parameters.count)
    for i in 0..<positional.count { assigned[i] = true }
    for (name, v) in named {
      guard let i = decl.parameterIndex[name] else {
        stack.truncate(to: newBase)
        var msg = "'\(decl.name)' has no parameter named '\(name)'"
        if let s = closestName(name, decl.parameters.map(\.name)) { msg += " (did you mean '\(s)'?)" }
        throw Diagnostic(.arity, msg)
      }
      if assigned[i] {
        stack.truncate(to: newBase)
        throw Diagnostic(.arity, "'\(decl.name)' got two values for parameter '\(name)'")
      }
      assigned[i] = true
      stack[newBase + i] = v
    }
    return try enter(c, newBase: newBase, given: 0, assigned: assigned, callSite: decl.location)
  }

  /// Calls a native function with a call site's arguments.
  func callNative(_ native: NativeFunction, _ call: CallExpr) throws -> Value {
    if let direct = native.directBody(for: call) {
      return try callDirect(direct, native, receiver: .null, call)
    }
    let (positional, named) = try evaluateArguments(call, capacity: native.parameterCount)
    do {
      return try callNative(native, positional, named, receiver: nil)
    } catch let d as Diagnostic {
      throw d.attach(call.location)
    }
  }

  /// Calls a native's direct body with a call site's positional arguments (defaults for the rest).
  private func callDirect(_ direct: DirectBody, _ f: NativeFunction, receiver: Value, _ call: CallExpr) throws -> Value {
    do {
      switch direct {
      case .function1(let body): return try body(self, try directArgument(0, of: f, call))
      case .method0(let body): return try body(self, receiver)
      case .method1(let body): return try body(self, receiver, try directArgument(0, of: f, call))
      case .method2(let body):
        let first = try directArgument(0, of: f, call)
        return try body(self, receiver, first, try directArgument(1, of: f, call))
      }
    } catch let d as Diagnostic {
      throw d.attach(call.location)
    }
  }

  /// Argument `i` of a call site, or the parameter's default when the call passes fewer.
  @inline(__always)
  private func directArgument(_ i: Int, of f: NativeFunction, _ call: CallExpr) throws -> Value {
    if i < call.argumentCount { return try call.argumentRefs[i]._withUnsafeGuaranteedRef { try $0.eval(self) } }
    guard i < f.parameterCount, let d = f.parameters[i].defaultValue else {
      throw Diagnostic(.arity, "missing argument '\(i < f.parameterCount ? f.parameters[i].name : "?")' in call to '\(f.name)' (\(f.signature))")
    }
    return d.value
  }

  /// Binds arguments to a native function's declared parameters and calls it.
  func callNative(
    _ f: NativeFunction, _ positional: consuming [Value], _ named: [(String, Value)], receiver: consuming Value?
  ) throws -> Value {
    if named.isEmpty, positional.count == f.parameterCount, f.hasNoVariadic {
      return try invoke(f, positional, receiver)
    }
    return try bindAndInvoke(f, positional, named, receiver: receiver)
  }

  /// `callNative` when defaults, keywords or variadic parameters need binding.
  private func bindAndInvoke(_ f: NativeFunction, _ positional: [Value], _ named: [(String, Value)], receiver: Value?) throws -> Value {
    let params = f.parameters
    if named.isEmpty, positional.count <= params.count, f.hasNoVariadic {
      // Fast path: positional arguments, then defaults.
      var bound = positional
      for p in params[positional.count...] {
        guard let d = p.defaultValue else {
          throw Diagnostic(.arity, "missing argument '\(p.name)' in call to '\(f.name)' (\(f.signature))")
        }
        bound.append(d.value)
      }
      return try invoke(f, bound, receiver)
    }
    var values = [Value?](repeating: nil, count: params.count)
    var rest: [Value] = []
    var pi = 0
    for v in positional {
      while pi < params.count && params[pi].variadic == false && values[pi] != nil { pi += 1 }
      guard pi < params.count else {
        throw Diagnostic(.arity, "'\(f.name)' takes at most \(params.count) argument\(params.count == 1 ? "" : "s") but \(positional.count) were given (\(f.signature))")
      }
      if params[pi].variadic { rest.append(v) } else {
        values[pi] = v
        pi += 1
      }
    }
    for (name, v) in named {
      guard let i = params.firstIndex(where: { $0.name == name && !$0.variadic }) else {
        var msg = "'\(f.name)' has no parameter named '\(name)'"
        if let s = closestName(name, params.map(\.name)) { msg += " (did you mean '\(s)'?)" }
        throw Diagnostic(.arity, msg + " (\(f.signature))")
      }
      if values[i] != nil { throw Diagnostic(.arity, "'\(f.name)' got two values for parameter '\(name)'") }
      values[i] = v
    }
    var bound: [Value] = []
    bound.reserveCapacity(params.count)
    for (i, p) in params.enumerated() {
      if p.variadic {
        bound.append(.list(ListRef(rest)))
      } else if let v = values[i] {
        bound.append(v)
      } else if let d = p.defaultValue {
        bound.append(d.value)
      } else {
        throw Diagnostic(.arity, "missing argument '\(p.name)' in call to '\(f.name)' (\(f.signature))")
      }
    }
    return try invoke(f, bound, receiver)
  }

  func invoke(_ f: NativeFunction, _ bound: consuming [Value], _ receiver: consuming Value?) throws -> Value {
    do {
      return try f.body(Arguments(callee: f.name, values: bound, receiver: receiver, interpreter: self))
    } catch let d as Diagnostic {
      throw d
    } catch {
      throw Diagnostic(.native, String(describing: error))
    }
  }

  /// `receiver.name(args)`: methods of natives and built-in types, or a callable field.
  /// Each call site remembers the method it found for the last receiver type.
  func callMethod(_ receiver: Value, _ name: String, _ call: CallExpr) throws -> Value {
    let typeKey = methodTableKey(receiver)
    if let key = typeKey, call.cachedReceiverType == key, let cached = call.cachedMethodRef {
      return try cached._withUnsafeGuaranteedRef { try callMethod($0, receiver, call) }
    }
    if let m = method(of: receiver, name) {
      call.cachedReceiverType = typeKey
      call.cachedMethod = m
      return try callMethod(m, receiver, call)
    }
    return try self.call(try getField(receiver, name, at: call.location), call)
  }

  /// Calls native method `m` on `receiver` with a call site's arguments.
  private func callMethod(_ m: NativeFunction, _ receiver: Value, _ call: CallExpr) throws -> Value {
    if let direct = m.directBody(for: call) {
      return try callDirect(direct, m, receiver: receiver, call)
    }
    let (positional, named) = try evaluateArguments(call, capacity: m.parameterCount)
    do {
      return try callNative(m, positional, named, receiver: receiver)
    } catch let d as Diagnostic {
      throw d.attach(call.location)
    }
  }

  /// Identifies the method table a value uses (nil for values without methods).
  @inline(__always)
  func methodTableKey(_ v: Value) -> ObjectIdentifier? {
    switch v {
    case .native(let o): return ObjectIdentifier(o.type)
    case .list: return ObjectIdentifier(ListRef.self)
    case .map: return ObjectIdentifier(MapRef.self)
    case .string: return ObjectIdentifier(String.self)
    default: return nil
    }
  }

  /// The native method `name` of a value's type, if it has one.
  func method(of v: Value, _ name: String) -> NativeFunction? {
    switch v {
    case .native(let o): return o.type.methods[name]
    default: return builtinMethods[v.typeName]?[name]
    }
  }
}
