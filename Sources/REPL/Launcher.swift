// Launcher: what the `aptp` command does — builds a ready interpreter (bindings, search path,
// prelude, args), runs a file, a code string or the REPL, and maps outcomes to exit codes.

import Bindings
import CLibEdit
import Foundation
import Script

/// Exit codes (BSD sysexits, like clox): usage, syntax, runtime, I/O; 130 after Ctrl-C.
public enum ExitCode: Int32 {
  case ok = 0
  case usage = 64
  case syntax = 65
  case runtime = 70
  case io = 74
  /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
  case interrupted = 130
}

public enum Launcher {
  /// Folders `import` searches: --stdlib, APTP_PATH entries, the stdlib next to the executable
  /// (or the repository's, for a build tree), then ./stdlib.
  public static func searchPaths(stdlib: String?) -> [String] {
    var paths: [String] = []
    if let stdlib { paths.append(stdlib) }
    if let env = ProcessInfo.processInfo.environment["APTP_PATH"] {
      paths += env.split(separator: ":").map(String.init)
    }
    let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
    paths.append(exe.appendingPathComponent("stdlib").path)
    // .build/<config>/aptp -> repository root
    paths.append(exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("stdlib").path)
    paths.append(FileManager.default.currentDirectoryPath + "/stdlib")
    var seen = Set<String>()
    return paths.filter { seen.insert($0).inserted }
  }

  /// An interpreter with the native modules, the search path, `args` and the prelude loaded.
  public static func makeInterpreter(stdlib: String?, args: [String]) -> (Interpreter, [Diagnostic]) {
    let interp = Interpreter()
    interp.searchPaths = searchPaths(stdlib: stdlib)
    let problems = prepare(interp, args: args)
    return (interp, problems)
  }

  /// Installs bindings, `args` and the prelude into a fresh (or reset) interpreter.
  @discardableResult
  public static func prepare(_ interp: Interpreter, args: [String]) -> [Diagnostic] {
    Bindings.install(into: interp)
    interp.define("args", .list(ListRef(args.map { .string($0) })))
    var problems: [Diagnostic] = []
    if let prelude = interp.searchPaths.lazy.map({ $0 + "/prelude.aptp" }).first(where: { FileManager.default.fileExists(atPath: $0) }),
      let text = try? String(contentsOfFile: prelude, encoding: .utf8)
    {
      problems = interp.run(text, name: prelude).diagnostics
    }
    interp.markPreloaded()
    return problems
  }

  static func report(_ ds: [Diagnostic], _ interp: Interpreter) {
    let color = aptp_stdout_is_tty() != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    for d in ds { FileHandle.standardError.write(Data((d.render(interp.sources, color: color) + "\n").utf8)) }
  }

  static func exitCode(_ outcome: Interpreter.Outcome) -> ExitCode {
    switch outcome {
    case .errors: return .syntax
    case .runtimeError(let d) where d.kind == .interrupted: return .interrupted
    case .runtimeError: return .runtime
    default: return .ok
    }
  }

  /// Runs a script file with `args`.
  public static func runFile(_ path: String, args: [String], stdlib: String?) -> ExitCode {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      FileHandle.standardError.write(Data("aptp: cannot read \(path)\n".utf8))
      return .io
    }
    return runCode(text, name: path, args: args, stdlib: stdlib)
  }

  /// Runs a code string (`aptp -e`) or a file's text.
  public static func runCode(_ text: String, name: String, args: [String], stdlib: String?) -> ExitCode {
    Signals.installInterruptHandler()
    let (interp, problems) = makeInterpreter(stdlib: stdlib, args: args)
    report(problems, interp)
    let outcome = Evaluation.run(interp) { $0.run(text, name: name) }
    report(outcome.diagnostics, interp)
    return exitCode(outcome)
  }

  /// The interactive session; plain line reads when stdin is not a terminal.
  public static func runREPL(stdlib: String?, args: [String]) -> ExitCode {
    Signals.installInterruptHandler()
    let (interp, problems) = makeInterpreter(stdlib: stdlib, args: args)
    report(problems, interp)
    let tty = aptp_stdin_is_tty() != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    let color = tty && aptp_stdout_is_tty() != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    let input: LineSource
    if tty {
      let history = ProcessInfo.processInfo.environment["APTP_HISTORY"] ?? (NSHomeDirectory() + "/.aptp_history")
      input = EditLineSource(historyPath: history, completer: Completer(interp))
      print("aptp \(version) — :help for help, Ctrl-D to quit")
    } else {
      input = PlainLines()
    }
    let session = Session(
      interp: interp, input: input, color: color, write: { FileHandle.standardOutput.write(Data($0.utf8)) },
      setUp: { prepare($0, args: args) })
    session.run()
    return .ok
  }

  public static let version = "0.1.0"
}
