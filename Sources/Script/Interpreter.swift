// Interpreter: the state of a running program — module globals, frames on one value stack,
// chunks run to an outcome, unwinding after errors, cancellation.

import Foundation
import Synchronization

/// A flag set asynchronously (Ctrl-C) and polled by loops and native calls.
public final class InterruptFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  public init() {}
  public func raise() { flag.store(true, ordering: .relaxed) }
  /// Returns whether the flag was set, clearing it.
  public func consume() -> Bool { flag.exchange(false, ordering: .relaxed) }
  public var isRaised: Bool { flag.load(ordering: .relaxed) }
}

/// Runs scripts. One instance owns all state (no globals), so tests and sessions are isolated.
public final class Interpreter {
  public let sources = SourceManager()
  /// The session's (or main script's) globals.
  public let mainGlobals: GlobalScope
  /// Globals of the running function's module.
  var globals: GlobalScope
  var stack = ValueStack()
  var base = 0
  var captures: [Cell] = []
  var callDepth = 0
  /// Maximum script call depth before a `stack_overflow` error.
  public var maxCallDepth = 1000
  /// Value of the last expression statement (the REPL prints it).
  var lastValue: Value?
  var returnValue: Value = .null
  public let interrupt: InterruptFlag
  /// Where `print` writes.
  public var output: (String) -> Void = { s in FileHandle.standardOutput.write(Data(s.utf8)) }
  /// Folders searched by `import` (in order).
  public var searchPaths: [String] = []
  /// Modules provided by natives, by name (`tensor`, `nn`, ...).
  public var nativeModules: [String: Value] = [:]
  var loadedModules: [String: Value] = [:]
  var importing: Set<String> = []
  /// Methods of built-in types (`list.append`), by type name.
  var builtinMethods: [String: [String: NativeFunction]] = [:]
  /// Names defined by `installBuiltins` (shared into stdlib modules).
  var builtinNames: Set<String> = []

  deinit { stack.release() }

  public init(interrupt: InterruptFlag = InterruptFlag()) {
    self.interrupt = interrupt
    mainGlobals = GlobalScope(name: "main")
    globals = mainGlobals
    installBuiltins()
    builtinNames = Set(mainGlobals.names)
  }

  /// Names present before the user typed anything (builtins, bindings, prelude).
  var preloadedNames: Set<String> = []

  /// Records the current globals as preloaded (after bindings and the prelude are installed).
  public func markPreloaded() { preloadedNames = Set(mainGlobals.names) }

  public func isPreloaded(_ name: String) -> Bool { preloadedNames.contains(name) }

  /// Re-creates the builtin functions after `mainGlobals.removeAll()` (the REPL's `:reset`).
  public func reinstallBuiltins() {
    installBuiltins()
    builtinNames = Set(mainGlobals.names)
  }

  /// Makes `v` the REPL's `_` (and `_1`), shifting older results to `_2` and `_3`.
  public func pushResult(_ v: Value) {
    if let two = mainGlobals["_2"] { mainGlobals["_3"] = two }
    if let one = mainGlobals["_1"] { mainGlobals["_2"] = one }
    mainGlobals["_1"] = v
    mainGlobals["_"] = v
  }

  /// Defines (or replaces) a global visible to every later chunk.
  public func define(_ name: String, _ value: Value) { mainGlobals[name] = value }

  /// Looks up a global of the main scope.
  public func global(_ name: String) -> Value? { mainGlobals[name] }

  // MARK: running chunks

  /// The result of running one chunk.
  public enum Outcome {
    /// Finished; the value of a trailing expression statement, if any (not `;`-terminated).
    case value(Value?)
    /// More input is needed (REPL continuation).
    case incomplete
    /// Syntax or name errors found before running (nothing ran).
    case errors([Diagnostic])
    /// An error raised while running.
    case runtimeError(Diagnostic)

    /// All diagnostics of a failed outcome.
    public var diagnostics: [Diagnostic] {
      switch self {
      case .errors(let d): return d
      case .runtimeError(let d): return [d]
      default: return []
      }
    }
  }

  /// Parses, resolves and runs `text` as a chunk of the main module. With `allowIncomplete`
  /// (the REPL) unfinished input returns `.incomplete`; otherwise it is a syntax error.
  public func run(_ text: String, name: String, allowIncomplete: Bool = false) -> Outcome {
    let file = sources.add(name: name, text: text)
    switch Parser.parse(text, file: file) {
    case .incomplete(let d): return allowIncomplete ? .incomplete : .errors(d)
    case .failure(let d): return .errors(d)
    case .complete(let program): return execute(program, in: mainGlobals)
    }
  }

  /// Only checks whether `text` parses completely (for the REPL's continuation prompt).
  public func isIncomplete(_ text: String) -> Bool {
    if case .incomplete = Parser.parse(text, file: -1) { return true }
    return false
  }

  func execute(_ program: [Stmt], in scope: GlobalScope) -> Outcome {
    var resolver = Resolver(globals: scope)
    let frameSize = resolver.resolveChunk(program)
    if !resolver.diagnostics.isEmpty { return .errors(resolver.diagnostics) }
    let savedGlobals = globals, savedBase = base, savedCaptures = captures, savedDepth = callDepth
    let frameBase = stack.count
    stack.pushNils(frameSize)
    globals = scope
    base = frameBase
    captures = []
    defer {
      globals = savedGlobals
      base = savedBase
      captures = savedCaptures
      callDepth = savedDepth
      stack.truncate(to: frameBase)
    }
    lastValue = nil
    do {
      _ = interrupt.consume()
      defer { scope.releaseRetired() }
      for s in program {
        defer { scope.releaseRetired() }
        switch try s.exec(self) {
        case .normal: continue
        case .returned: return .value(returnValue)
        case .breakLoop, .continueLoop:
          return .runtimeError(Diagnostic(.syntax, "'break' or 'continue' outside a loop", at: s.location))
        }
      }
      return .value(lastValue)
    } catch let d as Diagnostic {
      return .runtimeError(d)
    } catch {
      return .runtimeError(Diagnostic(.native, String(describing: error)))
    }
  }

  /// Raises `interrupted` if Ctrl-C was pressed. Loops call it at every iteration.
  @inline(__always)
  func checkInterrupt(at loc: SourceLocation) throws {
    if interrupt.isRaised {
      _ = interrupt.consume()
      throw Diagnostic(.interrupted, "interrupted", at: loc)
    }
  }

  /// Where the call stack stood, to unwind the frames a failed body leaves behind.
  struct UnwindMark {
    let depth: Int, stackTop: Int, base: Int, captures: [Cell], globals: GlobalScope
  }

  func unwindMark() -> UnwindMark {
    UnwindMark(depth: callDepth, stackTop: stack.count, base: base, captures: captures, globals: globals)
  }

  func unwind(to mark: UnwindMark) {
    callDepth = mark.depth
    base = mark.base
    captures = mark.captures
    globals = mark.globals
    stack.truncate(to: mark.stackTop)
  }

  /// Raises `interrupted` if Ctrl-C was pressed; for natives running long work.
  public func pollInterrupt() throws {
    if interrupt.isRaised {
      _ = interrupt.consume()
      throw Diagnostic(.interrupted, "interrupted")
    }
  }
}
