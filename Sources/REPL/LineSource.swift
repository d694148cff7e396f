// LineSource: where the REPL's lines come from — libedit on a terminal, plain reads otherwise,
// or a scripted list in tests.

import CLibEdit
import Foundation

/// A source of input lines. `nil` means end of input; `interrupted` means Ctrl-C at the prompt.
public protocol LineSource: AnyObject {
  func readLine(prompt: String) -> LineInput
  /// Records a complete (possibly multi-line) entry in history.
  func remember(_ entry: String)
}

/// What one read produced.
public enum LineInput: Equatable {
  case line(String)
  case interrupted
  case end
}

/// Lines from a list, for transcript tests; `echo` receives each prompt and line as typed.
public final class ScriptedLines: LineSource {
  private var lines: [String]
  let echo: (String) -> Void
  public private(set) var history: [String] = []
  public init(_ lines: [String], echo: @escaping (String) -> Void = { _ in }) {
    self.lines = lines
    self.echo = echo
  }
  public func readLine(prompt: String) -> LineInput {
    guard !lines.isEmpty else { return .end }
    let l = lines.removeFirst()
    echo(prompt + l + "\n")
    return l == "<ctrl-c>" ? .interrupted : .line(l)
  }
  public func remember(_ entry: String) { history.append(entry) }
}

/// Plain stdin reads (piped input): no prompt, no editing; never loses the last unterminated line.
public final class PlainLines: LineSource {
  public init() {}
  public func readLine(prompt: String) -> LineInput {
    guard let l = Swift.readLine(strippingNewline: true) else { return .end }
    return .line(l)
  }
  public func remember(_ entry: String) {}
}

/// libedit with persistent history and TAB completion.
public final class EditLineSource: LineSource {
  let historyPath: String

  public init(historyPath: String, completer: Completer) {
    self.historyPath = historyPath
    CompletionHook.install(completer)
    aptp_rl_setup(completionCallback, "aptp")
    stifle_history(2000)
    _ = read_history(historyPath)
  }

  public func readLine(prompt: String) -> LineInput {
    _ = Signals.takeInterrupts()
    guard let raw = readline(prompt) else {
      if Signals.takeInterrupts() > 0 {
        FileHandle.standardOutput.write(Data("^C\n".utf8))
        return .interrupted
      }
      return .end
    }
    defer { free(raw) }
    return .line(String(cString: raw))
  }

  public func remember(_ entry: String) {
    guard !entry.trimmingCharacters(in: .whitespaces).isEmpty else { return }
    add_history(entry)
    _ = write_history(historyPath)
  }
}
