// Printing: how values look when printed (`print`), echoed (`repr`) or named in messages.

extension Interpreter {
  /// The text `print` shows: strings unquoted, everything else as `repr`.
  public func displayString(_ v: Value) -> String {
    if case .string(let s) = v { return s }
    return repr(v)
  }

  /// A readable, bounded rendering: strings quoted, long lists elided, nesting capped.
  public func repr(_ v: Value, depth: Int = 0) -> String {
    switch v {
    case .null: return "nil"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return formatNumber(n)
    case .string(let s): return quote(s)
    case .range(let r):
      return r.step == 1 ? "\(r.start)..\(r.end)" : "range(\(r.start), \(r.end), \(r.step))"
    case .list(let l):
      if depth > 3 { return "[...]" }
      let items = l.items
      let shown = items.count > 100 ? Array(items.prefix(50)) + Array(items.suffix(3)) : items
      var parts = shown.map { repr($0, depth: depth + 1) }
      if items.count > 100 { parts.insert("... \(items.count - 53) more ...", at: 50) }
      return "[" + parts.joined(separator: ", ") + "]"
    case .map(let m):
      if depth > 3 { return "{...}" }
      let parts = m.entries.prefix(100).map { k, x in mapKeyRepr(k) + ": " + repr(x, depth: depth + 1) }
      return "{" + parts.joined(separator: ", ") + (m.count > 100 ? ", ... \(m.count - 100) more" : "") + "}"
    case .closure(let c): return "<fn \(c.name)(\(c.parameterNames.joined(separator: ", ")))>"
    case .function(let f):
      if let n = f as? NativeFunction { return "<native fn \(n.signature)>" }
      if let b = f as? BoundMethod { return "<method \(b.function.signature) of \(b.receiver.typeName)>" }
      return "<fn \(f.name)(\(f.parameterNames.joined(separator: ", ")))>"
    case .native(let o):
      return o.type.describe?(o) ?? "<\(o.type.name)>"
    case .cell(let c): return repr(c.value, depth: depth)
    }
  }

  func mapKeyRepr(_ k: MapKey) -> String {
    switch k {
    case .number(let n): return formatNumber(n)
    case .string(let s):
      let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0) }
        && !("0"..."9").contains(s.unicodeScalars.first ?? "0")
      return plain ? s : quote(s)
    }
  }

  func quote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "{": out += "\\{"
      default: out.unicodeScalars.append(c)
      }
    }
    return out + "\""
  }

  /// A short description for error messages: the type, plus the value when it is small.
  func describeShort(_ v: Value) -> String {
    switch v {
    case .number, .bool, .null: return "\(v.typeName) \(repr(v))"
    case .string(let s): return s.count <= 20 ? "string \(quote(s))" : "string"
    default: return v.typeName
    }
  }
}
