// Builtins: the global functions every script has (print, len, range, error, assert, help, ...).

import Foundation

extension Interpreter {
  /// Registers a global native function.
  public func defineFunction(
    _ name: String, _ params: [Parameter], doc: String, _ body: @escaping (Arguments) throws -> Value
  ) {
    define(name, .function(NativeFunction(name, params, doc: doc, body)))
  }

  /// A function whose body takes its argument directly (see `DirectBody`).
  public func defineFunction(_ name: String, _ params: [Parameter], doc: String, direct: DirectBody) {
    define(name, .function(NativeFunction(name, params, doc: doc, direct: direct)))
  }

  func installBuiltins() {
    installCoreBuiltins()
    installMathBuiltins()
    installCollectionBuiltins()
    installMethods()
  }

  private func installCoreBuiltins() {
    defineFunction("print", [Parameter("values", variadic: true), Parameter("sep", default: .string(" ")), Parameter("end", default: .string("\n"))],
      doc: "Prints the values separated by `sep` (default a space), then `end` (default a newline).") { a in
      let items = try a.list(0)
      let text = items.map { a.interpreter.displayString($0) }.joined(separator: try a.string(1)) + (try a.string(2))
      a.interpreter.output(text)
      return .null
    }
    defineFunction("on_interrupt", [Parameter("body"), Parameter("handler")],
      doc: "Calls body() and returns its result; if Ctrl-C interrupts it, calls handler() (to save a checkpoint, say) and then stops with the `interrupted` error, which try/catch does not catch.") { a in
      let interp = a.interpreter
      let mark = interp.unwindMark()
      do {
        return try interp.callValue(a[0], [])
      } catch let d as Diagnostic where d.kind == .interrupted {
        interp.unwind(to: mark)
        _ = try interp.callValue(a[1], [])
        throw d
      }
    }
    defineFunction("repr", [Parameter("value")], doc: "The value as it would be echoed: strings quoted.") { a in
      .string(a.interpreter.repr(a[0]))
    }
    defineFunction("str", [Parameter("value")], doc: "The value as text (what print shows).", direct: .function1 { interp, v in
      .string(interp.displayString(v))
    })
    defineFunction("type", [Parameter("value")], doc: "The value's type name: nil, bool, number, string, list, map, range, function or a native type.") { a in
      .string(a[0].typeName)
    }
    defineFunction("number", [Parameter("value")], doc: "Converts a string or bool to a number; errors when the text is not a number.") { a in
      switch a[0] {
      case .number: return a[0]
      case .bool(let b): return .number(b ? 1 : 0)
      case .string(let s):
        guard let n = Double(s.trimmingCharacters(in: .whitespaces)) else {
          throw Diagnostic(.value, "cannot convert \"\(s)\" to a number")
        }
        return .number(n)
      default: throw a.bad(0, "number, string or bool")
      }
    }
    defineFunction("int", [Parameter("value")], doc: "Truncates a number (or numeric string) toward zero.") { a in
      let v = try a.interpreter.callValue(a.interpreter.global("number") ?? .null, [a[0]])
      guard case .number(let n) = v, n.isFinite else { throw Diagnostic(.value, "cannot convert \(a.interpreter.repr(a[0])) to an integer") }
      return .number(n.rounded(.towardZero))
    }
    defineFunction("bool", [Parameter("value")], doc: "Truthiness: false only for nil and false.") { a in .bool(a[0].isTruthy) }
    defineFunction("error", [Parameter("message")], doc: "Raises an error with a message (or re-raises a caught error map).") { a in
      if case .map(let m) = a[0], case .string(let msg)? = m["message"] {
        let kind = m["kind"].flatMap { v -> DiagnosticKind? in if case .string(let k) = v { return DiagnosticKind(rawValue: k) } else { return nil } }
        throw Diagnostic(kind ?? .user, msg)
      }
      throw Diagnostic(.user, a.interpreter.displayString(a[0]))
    }
    defineFunction("assert", [Parameter("condition"), Parameter("message", default: .null)],
      doc: "Raises an assertion error unless the condition is true.") { a in
      if !a[0].isTruthy {
        let msg = (try a.optionalString(1)) ?? "assertion failed"
        throw Diagnostic(.assertion, msg)
      }
      return .null
    }
    defineFunction("clock", [], doc: "Seconds since an arbitrary start, for timing.") { _ in
      .number(ProcessInfo.processInfo.systemUptime)
    }
    defineFunction("help", [Parameter("value", default: .null)], doc: "Prints the documentation of a function, type or module.") { a in
      a.interpreter.output(a.interpreter.helpText(a[0]) + "\n")
      return .null
    }
    defineFunction("dir", [Parameter("value")], doc: "Names of the members of a value (methods, properties, keys).") { a in
      .list(ListRef(a.interpreter.memberNames(a[0]).map { .string($0) }))
    }
  }

  private func installMathBuiltins() {
    let unary: [(String, String, (Double) -> Double)] = [
      ("abs", "Absolute value.", { Swift.abs($0) }), ("sqrt", "Square root.", { $0.squareRoot() }),
      ("exp", "e to the power x.", { Foundation.exp($0) }), ("log", "Natural logarithm.", { Foundation.log($0) }),
      ("sin", "Sine (radians).", { Foundation.sin($0) }), ("cos", "Cosine (radians).", { Foundation.cos($0) }),
      ("tanh", "Hyperbolic tangent.", { Foundation.tanh($0) }),
      ("floor", "Largest integer <= x.", { $0.rounded(.down) }), ("ceil", "Smallest integer >= x.", { $0.rounded(.up) }),
    ]
    for (name, doc, f) in unary {
      defineFunction(name, [Parameter("x")], doc: doc) { a in .number(f(try a.number(0))) }
    }
    defineFunction("round", [Parameter("x"), Parameter("digits", default: .number(0))], doc: "Rounds half away from zero to `digits` decimals.") { a in
      let p = Foundation.pow(10, Double(try a.int(1)))
      return .number((try a.number(0) * p).rounded() / p)
    }
    define("pi", .number(Double.pi))
    define("inf", .number(Double.infinity))
    define("nan", .number(Double.nan))
  }

  private func installCollectionBuiltins() {
    defineFunction(
      "len", [Parameter("value")], doc: "Number of items in a list, map, string, range or native collection.",
      direct: .function1 { _, v in
        switch v {
        case .list(let l): return .number(Double(l.items.count))
        case .map(let m): return .number(Double(m.count))
        case .string(let s): return .number(Double(s.count))
        case .range(let r): return .number(Double(r.count))
        case .native(let o):
          guard let f = o.type.length else { throw badArgument(0, to: "len", "sized value", got: v) }
          return .number(Double(try f(o)))
        default: throw badArgument(0, to: "len", "list, map, string or range", got: v)
        }
      })
    defineFunction("range", [Parameter("start"), Parameter("end", default: .null), Parameter("step", default: .number(1))],
      doc: "range(n) is 0..n; range(a, b, step) counts from a toward b (exclusive).") { a in
      let step = try a.int(2)
      guard step != 0 else { throw Diagnostic(.value, "range step cannot be zero") }
      if case .null = a[1] { return .range(RangeValue(start: 0, end: try a.int(0))) }
      return .range(RangeValue(start: try a.int(0), end: try a.int(1), step: step))
    }
    defineFunction("list", [Parameter("iterable", default: .null)], doc: "A new list of the items of any iterable.") { a in
      if case .null = a[0] { return .list(ListRef()) }
      return .list(ListRef(try a.interpreter.collect(a[0])))
    }
    defineFunction("sorted", [Parameter("iterable"), Parameter("key", default: .null), Parameter("reverse", default: .bool(false))],
      doc: "A sorted list of the items; `key` maps each item to what is compared.") { a in
      .list(ListRef(try a.interpreter.sortValues(try a.interpreter.collect(a[0]), key: a[1], reverse: try a.bool(2))))
    }
    defineFunction("enumerate", [Parameter("iterable")], doc: "A list of [index, item] pairs.") { a in
      .list(ListRef(try a.interpreter.collect(a[0]).enumerated().map { .list(ListRef([.number(Double($0)), $1])) }))
    }
    defineFunction("zip", [Parameter("a"), Parameter("b")], doc: "A list of [a_i, b_i] pairs, as long as the shorter input.") { a in
      let x = try a.interpreter.collect(a[0]), y = try a.interpreter.collect(a[1])
      return .list(ListRef(zip(x, y).map { .list(ListRef([$0, $1])) }))
    }
    for (name, pickLarger) in [("min", false), ("max", true)] {
      defineFunction(name, [Parameter("values", variadic: true)],
        doc: "The \(pickLarger ? "largest" : "smallest") of the arguments, or of one list.") { a in
        var items = try a.list(0)
        if items.count == 1, case .list(let l) = items[0] { items = l.items }
        guard var best = items.first else { throw Diagnostic(.value, "\(name) of an empty sequence") }
        for v in items.dropFirst() {
          let less = try a.interpreter.lessThan(v, best)
          if pickLarger ? try a.interpreter.lessThan(best, v) : less { best = v }
        }
        return best
      }
    }
    defineFunction("sum", [Parameter("iterable"), Parameter("start", default: .number(0))], doc: "Adds the items to `start`.") { a in
      var acc = a[1]
      for v in try a.interpreter.collect(a[0]) { acc = try a.interpreter.binary(.add, acc, v, at: nil) }
      return acc
    }
  }

  /// All items of an iterable value.
  public func collect(_ v: Value) throws -> [Value] {
    if case .list(let l) = v { return l.items }
    let next = try iterator(v, pairs: false, at: nil)
    var out: [Value] = []
    while let x = try next() { out.append(x) }
    return out
  }

  /// Ordering for sorting and min/max: numbers and strings (and lists of them, lexicographically).
  func lessThan(_ a: Value, _ b: Value) throws -> Bool {
    switch (a, b) {
    case (.number(let x), .number(let y)): return x < y
    case (.string(let x), .string(let y)): return x < y
    case (.list(let x), .list(let y)):
      for (p, q) in zip(x.items, y.items) {
        if try lessThan(p, q) { return true }
        if try lessThan(q, p) { return false }
      }
      return x.items.count < y.items.count
    default:
      if case .bool = try binary(.lt, a, b, at: nil) {
        return try binary(.lt, a, b, at: nil).isTruthy
      }
      throw Diagnostic(.type, "cannot compare \(a.typeName) with \(b.typeName)")
    }
  }

  func sortValues(_ items: [Value], key: Value, reverse: Bool) throws -> [Value] {
    var keyed: [(Value, Value)] = []
    for v in items {
      if case .null = key { keyed.append((v, v)) } else { keyed.append((try callValue(key, [v]), v)) }
    }
    var failure: Error? = nil
    keyed.sort { x, y in
      do { return try reverse ? lessThan(y.0, x.0) : lessThan(x.0, y.0) } catch {
        failure = error
        return false
      }
    }
    if let failure { throw failure }
    return keyed.map(\.1)
  }
}
