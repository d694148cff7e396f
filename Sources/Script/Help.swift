// Help: the text `help(x)` and `:help x` print, and the member names completion offers — both read
// from the same native registrations, so documentation cannot drift from the code.

extension Interpreter {
  /// Documentation for a value: signature and doc of functions, members of types and modules.
  public func helpText(_ v: Value) -> String {
    switch v {
    case .null:
      return "Type help(x) for any value x, e.g. help(print), help(tensor), help([].append).\n"
        + "Globals: " + mainGlobals.names.filter { !$0.hasPrefix("_") }.sorted().joined(separator: ", ")
    case .function(let f):
      if let n = f as? NativeFunction { return n.signature + "\n  " + n.doc }
      if let b = f as? BoundMethod { return b.function.signature + "\n  " + b.function.doc }
      return "fn \(f.name)(\(f.parameterNames.joined(separator: ", ")))"
    case .closure(let c):
      return "fn \(c.name)(\(c.parameterNames.joined(separator: ", "))) — a script function"
    case .native(let o):
      var lines = ["\(o.type.name): \(o.type.doc)"]
      if let c = o.type.call { lines.append("  call: \(c.signature) — \(c.doc)") }
      for (name, p) in o.type.properties.sorted(by: { $0.key < $1.key }) { lines.append("  .\(name) — \(p.doc)") }
      for (_, m) in o.type.methods.sorted(by: { $0.key < $1.key }) { lines.append("  .\(m.signature) — \(firstLine(m.doc))") }
      return lines.joined(separator: "\n")
    case .map(let m):
      var lines = ["map with \(m.count) entr\(m.count == 1 ? "y" : "ies")"]
      for (k, x) in m.entries.prefix(200) {
        if case .function(let f) = x, let n = f as? NativeFunction {
          lines.append("  \(n.signature) — \(firstLine(n.doc))")
        } else {
          lines.append("  \(k): \(x.typeName)")
        }
      }
      return lines.joined(separator: "\n")
    default:
      let methods = (builtinMethods[v.typeName] ?? [:]).values.sorted { $0.name < $1.name }
      var lines = ["\(v.typeName) \(repr(v))"]
      for m in methods { lines.append("  .\(m.signature) — \(firstLine(m.doc))") }
      return lines.joined(separator: "\n")
    }
  }

  func firstLine(_ s: String) -> String { String(s.split(separator: "\n").first ?? "") }

  /// Member names of a value, for `dir` and TAB completion.
  public func memberNames(_ v: Value) -> [String] {
    switch v {
    case .native(let o):
      return (Array(o.type.properties.keys) + Array(o.type.methods.keys) + (o.type.dynamicMemberNames?(o) ?? [])).sorted()
    case .map(let m): return (m.keys.map(\.description) + (builtinMethods["map"]?.keys.map { $0 } ?? [])).sorted()
    default: return (builtinMethods[v.typeName]?.keys.map { $0 } ?? []).sorted()
    }
  }

  /// Parameter names of a callable value, for keyword completion inside a call.
  public func parameterNames(_ v: Value) -> [String] {
    switch v {
    case .function(let f): return f.parameterNames
    case .closure(let c): return c.parameterNames
    case .native(let o): return o.type.call?.parameterNames ?? []
    default: return []
    }
  }
}
