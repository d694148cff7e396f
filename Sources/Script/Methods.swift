// Methods: what lists, maps and strings can do (`xs.append(1)`, `m.keys()`, `s.split(",")`).

import Foundation

extension Interpreter {
  func defineMethod(
    _ type: String, _ name: String, _ params: [Parameter], doc: String, _ body: @escaping (Arguments) throws -> Value
  ) {
    builtinMethods[type, default: [:]][name] = NativeFunction(name, params, doc: doc, body)
  }

  /// A method whose body takes the receiver and its arguments directly (see `DirectBody`).
  func defineMethod(_ type: String, _ name: String, _ params: [Parameter], doc: String, direct: DirectBody) {
    builtinMethods[type, default: [:]][name] = NativeFunction(name, params, doc: doc, direct: direct)
  }

  func installMethods() {
    installListMethods()
    installMapMethods()
    installStringMethods()
  }

  private func installListMethods() {
    func this(_ a: Arguments) -> ListRef {
      if case .list(let l)? = a.receiver { return l }
      return ListRef()
    }
    defineMethod(
      "list", "append", [Parameter("item")], doc: "Adds an item at the end.",
      direct: .method1 { _, receiver, item in
        if case .list(let l) = receiver { l.items.append(item) }
        return .null
      })
    defineMethod("list", "extend", [Parameter("items")], doc: "Adds every item of an iterable at the end.") { a in
      this(a).items += try a.interpreter.collect(a[0])
      return .null
    }
    defineMethod("list", "insert", [Parameter("index"), Parameter("item")], doc: "Inserts an item before `index`.") { a in
      let l = this(a)
      let i = try a.int(0)
      l.items.insert(a[1], at: Swift.min(Swift.max(i < 0 ? i + l.items.count : i, 0), l.items.count))
      return .null
    }
    defineMethod("list", "pop", [Parameter("index", default: .number(-1))], doc: "Removes and returns the item at `index` (default the last).") { a in
      let l = this(a)
      guard !l.items.isEmpty else { throw Diagnostic(.index, "pop from an empty list") }
      let p = try a.interpreter.position(a[0], count: l.items.count, at: nil)
      return l.items.remove(at: p)
    }
    defineMethod("list", "index", [Parameter("item")], doc: "Position of the first equal item; errors when absent.") { a in
      guard let i = this(a).items.firstIndex(where: { a.interpreter.equals($0, a[0]) }) else {
        throw Diagnostic(.value, "\(a.interpreter.repr(a[0])) is not in the list")
      }
      return .number(Double(i))
    }
    defineMethod("list", "sort", [Parameter("key", default: .null), Parameter("reverse", default: .bool(false))], doc: "Sorts in place.") { a in
      let l = this(a)
      l.items = try a.interpreter.sortValues(l.items, key: a[0], reverse: try a.bool(1))
      return .null
    }
    defineMethod("list", "reverse", [], doc: "Reverses in place.") { a in
      this(a).items.reverse()
      return .null
    }
    defineMethod("list", "copy", [], doc: "A shallow copy.") { a in .list(ListRef(this(a).items)) }
    defineMethod("list", "clear", [], doc: "Removes every item.") { a in
      this(a).items.removeAll()
      return .null
    }
    defineMethod("list", "join", [Parameter("separator", default: .string(""))], doc: "The items as text joined by `separator`.") { a in
      .string(this(a).items.map { a.interpreter.displayString($0) }.joined(separator: try a.string(0)))
    }
    defineMethod("list", "map", [Parameter("f")], doc: "A new list of f(item) for each item.") { a in
      .list(ListRef(try this(a).items.map { try a.interpreter.callValue(a[0], [$0]) }))
    }
    defineMethod("list", "filter", [Parameter("f")], doc: "A new list of the items for which f(item) is true.") { a in
      .list(ListRef(try this(a).items.filter { try a.interpreter.callValue(a[0], [$0]).isTruthy }))
    }
  }

  private func installMapMethods() {
    func this(_ a: Arguments) -> MapRef {
      if case .map(let m)? = a.receiver { return m }
      return MapRef()
    }
    defineMethod("map", "keys", [], doc: "The keys in insertion order.") { a in .list(ListRef(this(a).keys.map(\.value))) }
    defineMethod("map", "values", [], doc: "The values in insertion order.") { a in .list(ListRef(this(a).entries.map(\.1))) }
    defineMethod("map", "items", [], doc: "[key, value] pairs in insertion order.") { a in
      .list(ListRef(this(a).entries.map { .list(ListRef([$0.0.value, $0.1])) }))
    }
    defineMethod(
      "map", "get", [Parameter("key"), Parameter("default", default: .null)], doc: "The value for `key`, or `default`.",
      direct: .method2 { interp, receiver, key, fallback in
        guard case .map(let m) = receiver else { return fallback }
        return m[try interp.mapKey(key, at: nil)] ?? fallback
      })
    defineMethod(
      "map", "has", [Parameter("key")], doc: "Whether `key` is present.",
      direct: .method1 { interp, receiver, key in
        guard case .map(let m) = receiver else { return .bool(false) }
        return .bool(m[try interp.mapKey(key, at: nil)] != nil)
      })
    defineMethod("map", "remove", [Parameter("key")], doc: "Removes `key` and returns its value (nil when absent).") { a in
      let m = this(a), k = try a.interpreter.mapKey(a[0], at: nil)
      let v = m[k]
      m[k] = nil
      return v ?? .null
    }
    defineMethod("map", "update", [Parameter("other")], doc: "Copies every entry of another map into this one.") { a in
      let m = this(a)
      for (k, v) in try a.map(0).entries { m[k] = v }
      return .null
    }
    defineMethod("map", "copy", [], doc: "A shallow copy.") { a in
      let c = MapRef()
      for (k, v) in this(a).entries { c[k] = v }
      return .map(c)
    }
  }

  private func installStringMethods() {
    func this(_ a: Arguments) -> String {
      if case .string(let s)? = a.receiver { return s }
      return ""
    }
    defineMethod("string", "split", [Parameter("separator", default: .null)], doc: "Pieces between separators (default: runs of whitespace).") { a in
      let s = this(a)
      if let sep = try a.optionalString(0) {
        guard !sep.isEmpty else { throw Diagnostic(.value, "empty separator") }
        return .list(ListRef(s.components(separatedBy: sep).map { .string($0) }))
      }
      return .list(ListRef(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) }))
    }
    defineMethod("string", "join", [Parameter("items")], doc: "The items as text with this string between them.") { a in
      .string(try a.interpreter.collect(a[0]).map { a.interpreter.displayString($0) }.joined(separator: this(a)))
    }
    defineMethod("string", "upper", [], doc: "Upper-case copy.") { a in .string(this(a).uppercased()) }
    defineMethod("string", "lower", [], doc: "Lower-case copy.") { a in .string(this(a).lowercased()) }
    defineMethod("string", "strip", [], doc: "Copy without leading and trailing whitespace.") { a in
      .string(this(a).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    defineMethod("string", "replace", [Parameter("old"), Parameter("new")], doc: "Copy with every `old` replaced by `new`.") { a in
      let old = try a.string(0)
      guard !old.isEmpty else { throw Diagnostic(.value, "cannot replace an empty string") }
      return .string(this(a).replacingOccurrences(of: old, with: try a.string(1)))
    }
    defineMethod("string", "starts_with", [Parameter("prefix")], doc: "Whether the string starts with `prefix`.") { a in
      .bool(this(a).hasPrefix(try a.string(0)))
    }
    defineMethod("string", "ends_with", [Parameter("suffix")], doc: "Whether the string ends with `suffix`.") { a in
      .bool(this(a).hasSuffix(try a.string(0)))
    }
    defineMethod("string", "find", [Parameter("sub")], doc: "Character position of the first `sub`, or -1.") { a in
      let s = this(a), sub = try a.string(0)
      guard let r = s.range(of: sub) else { return .number(-1) }
      return .number(Double(s.distance(from: s.startIndex, to: r.lowerBound)))
    }
  }
}
