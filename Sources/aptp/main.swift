// aptp: the command — a REPL by default, or a script file, or code given with -e.

import ArgumentParser
import Foundation
import REPL
import TensorCore

struct AptpCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "aptp",
    abstract: "A workbench for prompt-based pruning of text-to-image diffusion models.",
    version: Launcher.version)

  @Option(name: .shortAndLong, help: "Run this code instead of a file.")
  var eval: String?

  @Option(name: .long, help: "Folder searched first by `import` (the standard library).")
  var stdlib: String?

  @Argument(parsing: .captureForPassthrough, help: "A script file to run, then arguments passed to it as `args`.")
  var script: [String] = []

  func run() throws {
    let code: REPL.ExitCode
    if let first = script.first, first.hasPrefix("-"), first != "-" {
      // Options before the script name land here because arguments after it pass through.
      if first == "--version" {
        print(Launcher.version)
        return
      }
      throw ValidationError("unknown option '\(first)'")
    }
    if let eval {
      code = Launcher.runCode(eval, name: "<-e>", args: script, stdlib: stdlib)
    } else if let file = script.first {
      code = Launcher.runFile(file, args: Array(script.dropFirst()), stdlib: stdlib)
    } else {
      code = Launcher.runREPL(stdlib: stdlib, args: [])
    }
    if code != .ok { throw ArgumentParser.ExitCode(code.rawValue) }
  }
}

Runtime.relaunchWithBLASSettingsIfNeeded()
do {
  var command = try AptpCommand.parseAsRoot()
  try command.run()
} catch {
  AptpCommand.exit(withError: error)
}
