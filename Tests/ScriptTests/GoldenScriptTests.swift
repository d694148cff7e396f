// Golden script tests: every cases/<feature>/*.aptp runs in a fresh interpreter; its output (and
// rendered errors) must match its inline `# expect:` lines or its sidecar .out file.
// UPDATE_GOLDENS=1 rewrites the sidecar files.

import Foundation
import REPL
import Script
import XCTest

let casesURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("cases")

/// Runs a script file the way `aptp FILE` does and returns everything it printed.
func runScript(_ url: URL, prepare: @escaping (Interpreter) -> Void = { _ in }) -> String {
  Interpreter.onLargeStack {
    let interp = Interpreter()
    var out = ""
    interp.output = { out += $0 }
    prepare(interp)
    let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    let name = url.deletingPathExtension().lastPathComponent + ".aptp"
    for d in interp.run(text, name: name).diagnostics { out += d.render(interp.sources) + "\n" }
    return out
  }
}

/// Expected output from `# expect: text` lines (in order), or nil when the file has none.
func inlineExpectations(_ text: String) -> String? {
  let marker = "# expect: "
  let lines = text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
    guard let r = line.range(of: marker) else { return line.hasSuffix("# expect:") ? "" : nil }
    return String(line[r.upperBound...])
  }
  return lines.isEmpty ? nil : lines.joined(separator: "\n") + "\n"
}

/// Installs the native modules and the repository's stdlib, as `aptp` does.
func withBindings(_ interp: Interpreter) {
  interp.searchPaths = [repoRoot.appendingPathComponent("stdlib").path]
  Launcher.prepare(interp, args: [])
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

final class GoldenScriptTests: XCTestCase {
  func runFolder(_ folder: String, prepare: @escaping (Interpreter) -> Void = { _ in }) throws {
    let dir = casesURL.appendingPathComponent(folder)
    let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "aptp" }.sorted { $0.path < $1.path }
    XCTAssertFalse(files.isEmpty, "no cases in \(folder)")
    let update = ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1"
    for file in files {
      let text = try String(contentsOf: file, encoding: .utf8)
      let actual = runScript(file, prepare: prepare)
      if let expected = inlineExpectations(text) {
        XCTAssertEqual(actual, expected, "\(folder)/\(file.lastPathComponent)")
        continue
      }
      let sidecar = file.deletingPathExtension().appendingPathExtension("out")
      if update {
        try actual.write(to: sidecar, atomically: true, encoding: .utf8)
        continue
      }
      let expected = (try? String(contentsOf: sidecar, encoding: .utf8)) ?? "<missing \(sidecar.lastPathComponent)>"
      XCTAssertEqual(actual, expected, "\(folder)/\(file.lastPathComponent)")
    }
  }

  func testBasics() throws { try runFolder("basics") }
  func testFunctions() throws { try runFolder("functions") }
  func testControl() throws { try runFolder("control") }
  func testCollections() throws { try runFolder("collections") }
  func testErrors() throws { try runFolder("errors") }
  func testTensor() throws { try runFolder("tensor", prepare: withBindings) }
  func testFormats() throws { try runFolder("formats", prepare: withBindings) }
  func testText() throws { try runFolder("text", prepare: withBindings) }
  func testDiffusion() throws { try runFolder("diffusion", prepare: withBindings) }
  func testPruning() throws { try runFolder("pruning", prepare: withBindings) }
  func testData() throws { try runFolder("data", prepare: withBindings) }
}
