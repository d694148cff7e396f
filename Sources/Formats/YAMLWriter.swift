// YAMLWriter: renders a ConfigValue as block-style YAML that reads back (with Yams or PyYAML) to the same tree.
import Yams

/// Renders config trees as YAML: block maps and lists, short scalar lists in flow style, strings quoted only
/// when a plain scalar would read back as something else.
public enum YAMLWriter {
  /// The YAML text of `value`, ending with a newline.
  public static func render(_ value: ConfigValue) -> String {
    var out = ""
    switch value {
    case .map(let m) where !m.isEmpty: writeMap(m, indent: 0, into: &out)
    case .list(let l) where !l.isEmpty && !isFlowList(l): writeList(l, indent: 0, into: &out)
    default: out = inline(value) + "\n"
    }
    return out
  }

  private static func writeMap(_ map: ConfigMap, indent: Int, into out: inout String) {
    let pad = String(repeating: " ", count: indent)
    for (key, value) in map {
      out += pad + scalarText(key) + ":"
      switch value {
      case .map(let m) where !m.isEmpty:
        out += "\n"
        writeMap(m, indent: indent + 2, into: &out)
      case .list(let l) where !l.isEmpty && !isFlowList(l):
        out += "\n"
        writeList(l, indent: indent + 2, into: &out)
      default:
        out += " " + inline(value) + "\n"
      }
    }
  }

  private static func writeList(_ list: [ConfigValue], indent: Int, into out: inout String) {
    let pad = String(repeating: " ", count: indent)
    for item in list {
      switch item {
      case .map(let m) where !m.isEmpty:
        var nested = ""
        writeMap(m, indent: indent + 2, into: &nested)
        out += pad + "- " + nested.dropFirst(indent + 2)
      case .list(let l) where !l.isEmpty && !isFlowList(l):
        out += pad + "-\n"
        writeList(l, indent: indent + 2, into: &out)
      default:
        out += pad + "- " + inline(item) + "\n"
      }
    }
  }

  /// Lists of scalars that fit on a line are written `[a, b, c]`.
  private static func isFlowList(_ list: [ConfigValue]) -> Bool {
    guard list.allSatisfy({ $0.mapValue == nil && $0.listValue == nil }) else { return false }
    return list.map(inline).reduce(0) { $0 + $1.count + 2 } <= 80
  }

  /// A value on one line: scalars, empty containers, flow lists of scalars.
  static func inline(_ value: ConfigValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d): return number(d)
    case .string(let s): return scalarText(s)
    case .list(let l): return "[" + l.map(inline).joined(separator: ", ") + "]"
    case .map(let m):
      return "{" + m.entries.map { scalarText($0.key) + ": " + inline($0.value) }.joined(separator: ", ") + "}"
    }
  }

  /// Floats always carry a '.', so YAML 1.1 readers (PyYAML) also read `1.0e-05` as a float.
  static func number(_ d: Double) -> String {
    if d.isNaN { return ".nan" }
    if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
    var text = "\(d)"
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      if !text[..<e].contains(".") { text.insert(contentsOf: ".0", at: e) }
    } else if !text.contains(".") {
      text += ".0"
    }
    return text
  }

  /// A string as a plain scalar when that reads back as the same string, else double-quoted.
  static func scalarText(_ s: String) -> String {
    isPlainSafe(s) ? s : JSONWriter.quoted(s)
  }

  private static func isPlainSafe(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
    if " \t".unicodeScalars.contains(last) || " \t-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) {
      // "-x" and "?x" are fine in YAML, but quoting them keeps the rule simple.
      return false
    }
    for scalar in s.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F { return false }
    if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") || s.contains(",") || s.contains("[")
      || s.contains("]") || s.contains("{") || s.contains("}")
    {
      return false
    }
    let node = Node.scalar(Node.Scalar(s))
    return Resolver.default.resolveTag(of: node) == .str
  }
}
