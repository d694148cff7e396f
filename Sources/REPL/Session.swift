// Session: the read-eval-print loop — multi-line input from the parser's "incomplete" answer,
// auto-printing with `_`, meta-commands, timing, Ctrl-C that cancels the running command only.

import CLibEdit
import Foundation
import Script
import Synchronization

/// One interactive session over a line source.
public final class Session {
  public let interp: Interpreter
  let input: LineSource
  var write: (String) -> Void
  var timing = false
  let color: Bool
  var entryNumber = 0
  /// Called to (re)create the session's globals (prelude, bindings) on start and `:reset`.
  let setUp: (Interpreter) -> Void

  public init(interp: Interpreter, input: LineSource, color: Bool, write: @escaping (String) -> Void, setUp: @escaping (Interpreter) -> Void) {
    self.interp = interp
    self.input = input
    self.color = color
    self.write = write
    self.setUp = setUp
  }

  var prompt: String { color ? "\u{1B}[1;32maptp>\u{1B}[0m " : "aptp> " }
  var continuation: String { color ? "\u{1B}[32m...\u{1B}[0m   " : "...   " }

  /// Runs until end of input or `:quit`.
  public func run() {
    while let entry = readEntry() {
      if entry.trimmingCharacters(in: .whitespaces).hasPrefix(":") {
        input.remember(entry)
        if !meta(entry.trimmingCharacters(in: .whitespaces)) { return }
        continue
      }
      guard !entry.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
      input.remember(entry)
      evaluate(entry)
    }
  }

  /// Reads one complete entry: continuation lines while the parser says the input is incomplete;
  /// an empty continuation line forces evaluation (so the error shows instead of waiting).
  func readEntry() -> String? {
    var text = ""
    while true {
      switch input.readLine(prompt: text.isEmpty ? prompt : continuation) {
      case .end: return text.isEmpty ? nil : text
      case .interrupted:
        text = ""
        continue
      case .line(let l):
        if text.isEmpty {
          text = l
          if l.trimmingCharacters(in: .whitespaces).hasPrefix(":") { return text }
        } else {
          if l.trimmingCharacters(in: .whitespaces).isEmpty { return text }
          text += "\n" + l
        }
        if !interp.isIncomplete(text) { return text }
      }
    }
  }

  /// Evaluates an entry on the large-stack thread, polling for Ctrl-C while it runs.
  func evaluate(_ text: String) {
    entryNumber += 1
    let start = Date()
    let interp = self.interp
    let name = "<stdin:\(entryNumber)>"
    let outcome = Evaluation.run(interp) { $0.run(text, name: name) }
    switch outcome {
    case .value(let v):
      if let v, !isNull(v) {
        write(interp.repr(v) + "\n")
        interp.pushResult(v)
      }
    case .incomplete: break
    case .errors, .runtimeError:
      for d in outcome.diagnostics { write(d.render(interp.sources, color: color) + "\n") }
    }
    if timing { write(String(format: "[%.4fs]\n", Date().timeIntervalSince(start))) }
  }

  func isNull(_ v: Value) -> Bool {
    if case .null = v { return true }
    return false
  }
}

/// Runs interpreter work on the evaluation thread while the calling thread forwards Ctrl-C.
public enum Evaluation {
  public static func run<T>(_ interp: Interpreter, _ body: @escaping (Interpreter) -> T) -> T {
    let done = DoneFlag()
    let box = ResultBox<T>()
    let work = WorkBox(interp, body)
    let thread = Thread {
      box.value = work.body(work.interp)
      done.set()
    }
    thread.stackSize = Interpreter.evaluationStackSize
    _ = Signals.takeInterrupts()
    thread.start()
    // Poll an atomic flag with sleeps: even a zero-timeout semaphore wait spins in sched_yield
    // (about 280 calls per poll), which steals a core from the kernels the evaluation runs.
    while !done.isSet {
      usleep(10_000)
      if Signals.takeInterrupts() > 0 { interp.interrupt.raise() }
    }
    _ = interp.interrupt.consume()
    guard let v = box.value else { return body(interp) }
    return v
  }
}

/// Set by the evaluation thread when it finishes; read by the polling thread.
final class DoneFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  func set() { flag.store(true, ordering: .releasing) }
  var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// Hands values between the REPL thread and the evaluation thread; one side waits while the
/// other runs, so access never overlaps.
final class ResultBox<T>: @unchecked Sendable {
  var value: T?
}

final class WorkBox<T>: @unchecked Sendable {
  let interp: Interpreter
  let body: (Interpreter) -> T
  init(_ interp: Interpreter, _ body: @escaping (Interpreter) -> T) {
    self.interp = interp
    self.body = body
  }
}
