// IOBindings: the `io` module — small text files and folder listings for scripts' reports.

import Foundation
import Formats
import Script

func ioModule() -> MapRef {
  let m = MapRef()
  def(m, "read", [p("path")], doc: "The UTF-8 text of a file.") { a in
    let path = try a.string(0)
    guard let data = FileManager.default.contents(atPath: path) else { throw Diagnostic(.io, "cannot read \(path): no such file") }
    guard let text = String(data: data, encoding: .utf8) else { throw Diagnostic(.io, "\(path) is not UTF-8 text") }
    return .string(text)
  }
  def(m, "write", [p("path"), p("text")], doc: "Writes text to a file atomically (creating missing folders).") { a in
    try AtomicFile.write(to: try a.string(0), bytes: Array(try a.string(1).utf8))
    return .null
  }
  def(m, "exists", [p("path")], doc: "True when a file or folder exists at path.") { a in
    .bool(FileManager.default.fileExists(atPath: try a.string(0)))
  }
  def(m, "list", [p("folder")], doc: "The names in a folder, sorted (hidden names left out).") { a in
    let folder = try a.string(0)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
      throw Diagnostic(.io, "cannot list \(folder): no such folder")
    }
    return .list(ListRef(names.filter { !$0.hasPrefix(".") }.sorted().map { .string($0) }))
  }
  def(m, "interactive", [], doc: "True when standard input and output are terminals (a person is watching).") { _ in
    .bool(isatty(0) != 0 && isatty(1) != 0)
  }
  def(m, "input", [p("prompt", .string(""))], doc: "Prints prompt and reads one line from standard input (nil at end of input).") { a in
    a.interpreter.output(try a.string(0))
    return readLine().map { .string($0) } ?? .null
  }
  return m
}
