// Source: script texts registered with ids, and the positions (file, line, column, length) that point into them.

/// A position in a registered source text. Lines and columns are 1-based; `length` is the
/// number of characters the caret underline covers.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
  public var file: Int
  public var line: Int
  public var column: Int
  public var length: Int

  public init(file: Int, line: Int, column: Int, length: Int = 1) {
    self.file = file
    self.line = line
    self.column = column
    self.length = Swift.max(1, length)
  }

  public var description: String { "\(line):\(column)" }
}

/// The texts of every file or REPL entry the interpreter has seen, so diagnostics can quote them.
public final class SourceManager {
  public private(set) var names: [String] = []
  private var texts: [String] = []
  private var lineCache: [Int: [Substring]] = [:]

  public init() {}

  /// Registers a text under a display name (a path, or `<stdin:3>` for REPL entries).
  @discardableResult
  public func add(name: String, text: String) -> Int {
    names.append(name)
    texts.append(text)
    return names.count - 1
  }

  public func name(_ file: Int) -> String { file >= 0 && file < names.count ? names[file] : "<unknown>" }
  public func text(_ file: Int) -> String { file >= 0 && file < texts.count ? texts[file] : "" }

  /// The text of one line (without its newline), or nil when out of range.
  public func line(_ file: Int, _ line: Int) -> String? {
    guard file >= 0, file < texts.count else { return nil }
    if lineCache[file] == nil {
      lineCache[file] = texts[file].split(separator: "\n", omittingEmptySubsequences: false)
    }
    guard let lines = lineCache[file], line >= 1, line <= lines.count else { return nil }
    return String(lines[line - 1])
  }
}
