// Completion: what TAB offers — globals and keywords, members after `.`, keyword arguments inside
// a call, file paths inside strings. Pure logic over a line and cursor; libedit calls it through
// `CompletionHook`.

import CLibEdit
import Foundation
import Script

/// Computes completions from the interpreter's registry (the same data `help` shows).
public final class Completer {
  let interp: Interpreter
  public init(_ interp: Interpreter) { self.interp = interp }

  /// Candidates that replace `word`, the text before the cursor back to the last break character.
  public func complete(word: String, line: String, cursor: Int) -> [String] {
    let before = String(line.prefix(cursor))
    if insideString(before) { return paths(word) }
    if let dot = word.lastIndex(of: ".") {
      let base = String(word[..<dot]), partial = String(word[word.index(after: dot)...])
      guard let value = lookup(base) else { return [] }
      return interp.memberNames(value).filter { visible($0, partial) }.map { base + "." + $0 }.sorted()
    }
    var out: [String] = []
    if let callee = enclosingCallee(before), let f = lookup(callee) {
      out += interp.parameterNames(f).filter { visible($0, word) }.map { $0 + ": " }
    }
    let names = interp.mainGlobals.bindings.map(\.0) + languageKeywords
    out += Set(names).filter { visible($0, word) }.sorted()
    return out
  }

  /// Hides `_private` names unless the user typed `_`.
  func visible(_ name: String, _ partial: String) -> Bool {
    name.hasPrefix(partial) && (partial.hasPrefix("_") || !name.hasPrefix("_"))
  }

  /// Evaluates a dotted chain of names (`model.blocks`) without running arbitrary code.
  func lookup(_ path: String) -> Value? {
    let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard let first = parts.first, !first.isEmpty, var v = interp.global(first) else { return nil }
    for p in parts.dropFirst() {
      guard !p.isEmpty, let next = try? interp.member(v, p) else { return nil }
      v = next
    }
    return v
  }

  func insideString(_ s: String) -> Bool {
    var quote: Character? = nil
    var escaped = false
    for c in s {
      if escaped { escaped = false; continue }
      if c == "\\" { escaped = true; continue }
      if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c }
    }
    return quote != nil
  }

  /// The callee name of the innermost unclosed `(` before the cursor.
  func enclosingCallee(_ s: String) -> String? {
    var depth = 0
    var i = s.endIndex
    while i > s.startIndex {
      i = s.index(before: i)
      let c = s[i]
      if c == ")" { depth += 1 } else if c == "(" {
        if depth == 0 {
          let name = s[..<i].reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
          return name.isEmpty ? nil : String(name.reversed())
        }
        depth -= 1
      }
    }
    return nil
  }

  func paths(_ partial: String) -> [String] {
    let expanded = (partial as NSString).expandingTildeInPath
    let dir = partial.hasSuffix("/") ? expanded : (expanded as NSString).deletingLastPathComponent
    let prefix = partial.hasSuffix("/") ? "" : (expanded as NSString).lastPathComponent
    let shownDir = partial.hasSuffix("/") ? partial : String(partial.dropLast(prefix.count))
    guard let items = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return [] }
    return items.filter { $0.hasPrefix(prefix) && (prefix.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { name in
      var isDir: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(name), isDirectory: &isDir)
      return shownDir + name + (isDir.boolValue ? "/" : "")
    }
  }
}

/// The one process-wide handle libedit's C completion callback can reach (C callbacks carry no
/// context in the readline API). Set once when the terminal session starts.
enum CompletionHook {
  nonisolated(unsafe) static var completer: Completer?
  static func install(_ c: Completer) { completer = c }
}

/// libedit's completion callback: returns [common prefix, matches..., NULL] allocated with malloc.
func completionCallback(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
  guard let text, let completer = CompletionHook.completer else { return nil }
  let line = String(cString: aptp_rl_line_buffer())
  let matches = completer.complete(word: String(cString: text), line: line, cursor: Int(aptp_rl_point()))
  guard !matches.isEmpty else { return nil }
  let common = matches.dropFirst().reduce(matches[0]) { prefix, m in String(zip(prefix, m).prefix { $0 == $1 }.map(\.0)) }
  let list = [common] + (matches.count == 1 ? [] : matches)
  // libedit frees the array and its strings with free(), so they come from malloc.
  guard let raw = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (list.count + 1)) else { return nil }
  let array = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: list.count + 1)
  for (i, s) in list.enumerated() { array[i] = strdup(s) }
  array[list.count] = nil
  return array
}
