// MetaCommands: `:help`, `:who`, `:time`, `:load`, `:reset`, `:history`, `:quit` — a prefix that
// is not valid syntax, so it can never clash with code.

import Foundation
import Script

extension Session {
  /// Handles a `:command`; returns false when the session should end.
  func meta(_ line: String) -> Bool {
    let parts = line.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
    let command = parts.first ?? "", argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
    switch command {
    case "quit", "q", "exit": return false
    case "help", "h", "?":
      if argument.isEmpty {
        write(Session.helpText + "\n")
      } else {
        let outcome = Evaluation.run(interp) { $0.run(argument, name: "<help>") }
        if case .value(let v?) = outcome { write(interp.helpText(v) + "\n") } else { write("no such name: \(argument)\n") }
      }
    case "who":
      let user = interp.mainGlobals.bindings.filter { !interp.isPreloaded($0.0) && !$0.0.hasPrefix("_") }
      if user.isEmpty { write("(no user variables)\n") }
      for (name, v) in user { write("\(name): \(v.typeName) = \(interp.repr(v).prefix(80))\n") }
    case "time":
      timing = argument != "off"
      write("timing \(timing ? "on" : "off")\n")
    case "load":
      guard let text = try? String(contentsOfFile: argument, encoding: .utf8) else {
        write("cannot read \(argument)\n")
        return true
      }
      let outcome = Evaluation.run(interp) { $0.run(text, name: argument) }
      for d in outcome.diagnostics { write(d.render(interp.sources, color: color) + "\n") }
    case "reset":
      interp.mainGlobals.removeAll()
      interp.reinstallBuiltins()
      setUp(interp)
      write("session reset\n")
    case "history":
      if let lines = (input as? ScriptedLines)?.history {
        for (i, l) in lines.enumerated() { write("\(i + 1)  \(l)\n") }
      } else {
        write("history is kept in the history file (use the up arrow)\n")
      }
    default:
      write("unknown command :\(command) (try :help)\n")
    }
    return true
  }

  static let helpText = """
    Type code and press Enter; an unfinished line continues with `...` (an empty line evaluates).
    The value of an expression is printed (end it with `;` to suppress); `_` holds the last value.
      :help [name]   documentation of a function, type or module (also help(x))
      :who           your variables
      :time on|off   print how long each entry takes
      :load FILE     run a script file in this session
      :reset         forget everything and start fresh
      :history       entries typed so far
      :quit          leave (or Ctrl-D); Ctrl-C cancels a running command
    """
}
