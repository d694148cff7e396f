// Diagnostic: every error the language reports — kind, message, position, script stack — and its rendering.

/// What kind of problem a diagnostic describes; scripts see it as `e.kind`.
public enum DiagnosticKind: String, Sendable {
  case lexical, syntax, name, type, arity, value, index, key, native, io, assertion, user, interrupted
  case stackOverflow = "stack_overflow"
}

/// One frame of the script call stack at the time of an error.
public struct StackFrame: Sendable, Equatable {
  public var function: String
  public var location: SourceLocation
}

/// An error with its position and script stack. Natives throw without a position; the
/// interpreter attaches the call site (`attach(location:)`).
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
  public var kind: DiagnosticKind
  public var message: String
  public var location: SourceLocation?
  public var frames: [StackFrame] = []

  public init(_ kind: DiagnosticKind, _ message: String, at location: SourceLocation? = nil) {
    self.kind = kind
    self.message = message
    self.location = location
  }

  /// Adds a location if none is set yet.
  public func attach(_ loc: SourceLocation?) -> Diagnostic {
    var d = self
    if d.location == nil { d.location = loc }
    return d
  }

  public var description: String {
    if let loc = location { return "\(loc.line):\(loc.column): \(message)" }
    return message
  }

  /// `file:line:col: error: message`, the source line, a caret underline, then the stack.
  public func render(_ sources: SourceManager, color: Bool = false) -> String {
    let red = color ? "\u{1B}[1;31m" : "", bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
    guard let loc = location else { return "\(red)error:\(reset) \(bold)\(message)\(reset)" }
    var out = "\(bold)\(sources.name(loc.file)):\(loc.line):\(loc.column):\(reset) \(red)error:\(reset) \(bold)\(message)\(reset)"
    if let line = sources.line(loc.file, loc.line) {
      let expanded = line.replacingTabs()
      out += "\n  " + expanded
      let pad = String(repeating: " ", count: Swift.max(0, loc.column - 1))
      let width = Swift.max(1, Swift.min(loc.length, expanded.count - loc.column + 1))
      out += "\n  " + pad + red + "^" + String(repeating: "~", count: width - 1) + reset
    }
    out += renderFrames(sources)
    return out
  }
}

extension Diagnostic {
  /// The call stack, outermost call first; runs of identical frames are folded into one line,
  /// and very deep stacks show their two ends.
  func renderFrames(_ sources: SourceManager) -> String {
    var lines: [String] = []
    var previous: StackFrame? = nil
    var repeats = 0
    func flush() {
      if repeats > 0 { lines.append("    ... the call above repeated \(repeats) more time\(repeats == 1 ? "" : "s")") }
      repeats = 0
    }
    for f in frames.reversed() {
      if f == previous {
        repeats += 1
        continue
      }
      flush()
      previous = f
      lines.append("    in \(f.function), called at \(sources.name(f.location.file)):\(f.location.line):\(f.location.column)")
    }
    flush()
    if lines.count > 24 { lines = Array(lines.prefix(12)) + ["    ... \(lines.count - 22) more frames ..."] + Array(lines.suffix(10)) }
    return lines.map { "\n" + $0 }.joined()
  }
}

extension String {
  /// Tabs replaced by single spaces so caret columns line up.
  func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
