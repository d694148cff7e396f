// Transcript tests: transcripts/*.in are typed into a session line by line; what the session shows
// (prompts, echoed input, values, errors) must equal *.out. UPDATE_GOLDENS=1 rewrites them.

import Foundation
import REPL
import Script
import XCTest

let transcriptsURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("transcripts")
let repoStdlib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("stdlib").path

/// Runs lines through a fresh session (bindings + prelude) and returns the screen text.
func transcript(_ lines: [String]) -> String {
  var screen = ""
  let interp = Interpreter()
  interp.searchPaths = [repoStdlib]
  interp.output = { screen += $0 }
  Launcher.prepare(interp, args: [])
  let input = ScriptedLines(lines) { screen += $0 }
  let session = Session(interp: interp, input: input, color: false, write: { screen += $0 }, setUp: { Launcher.prepare($0, args: []) })
  session.run()
  // Timings differ run to run: keep their place, not their value.
  return screen.replacingOccurrences(of: #"\[[0-9.]+s\]"#, with: "[time]", options: .regularExpression)
}

final class TranscriptTests: XCTestCase {
  func testTranscripts() throws {
    let files = try FileManager.default.contentsOfDirectory(at: transcriptsURL, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "in" }.sorted { $0.path < $1.path }
    XCTAssertFalse(files.isEmpty)
    for file in files {
      let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let actual = transcript(lines.last == "" ? Array(lines.dropLast()) : lines)
      let expectedURL = file.deletingPathExtension().appendingPathExtension("out")
      if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
        try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
        continue
      }
      let expected = (try? String(contentsOf: expectedURL, encoding: .utf8)) ?? "<missing>"
      XCTAssertEqual(actual, expected, file.lastPathComponent)
    }
  }

  func testInterruptAtPromptDiscardsPartialInput() {
    let screen = transcript(["let x = [1,", "<ctrl-c>", "let y = 2", "y"])
    XCTAssertTrue(screen.hasSuffix("aptp> y\n2\n"), screen)
  }

  func testUnderscoreHoldsRecentResults() {
    let screen = transcript(["1 + 1", "_ * 10", "[_1, _2]"])
    XCTAssertTrue(screen.contains("[20, 2]"), screen)
  }
}

final class CompletionTests: XCTestCase {
  func session() -> Completer {
    let interp = Interpreter()
    interp.searchPaths = [repoStdlib]
    Launcher.prepare(interp, args: [])
    _ = interp.run("let model = nn.Linear(4, 2)\nlet config = {lr: 0.1, steps: 3}\nlet _hidden = 1", name: "<test>")
    return Completer(interp)
  }

  func testGlobalsAndKeywords() {
    let c = session()
    XCTAssertEqual(c.complete(word: "mod", line: "mod", cursor: 3), ["model"])
    XCTAssertTrue(c.complete(word: "wh", line: "wh", cursor: 2).contains("while"))
    XCTAssertFalse(c.complete(word: "", line: "", cursor: 0).contains("_hidden"))
    XCTAssertEqual(c.complete(word: "_hi", line: "_hi", cursor: 3), ["_hidden"])
  }

  func testMembersAfterDot() {
    let c = session()
    XCTAssertEqual(c.complete(word: "model.we", line: "model.we", cursor: 8), ["model.weight"])
    XCTAssertTrue(c.complete(word: "model.weight.sh", line: "x = model.weight.sh", cursor: 19).contains("model.weight.shape"))
    XCTAssertEqual(c.complete(word: "config.st", line: "config.st", cursor: 9), ["config.steps"])
    XCTAssertTrue(c.complete(word: "tensor.ran", line: "tensor.ran", cursor: 10).contains("tensor.randn"))
  }

  func testKeywordArgumentsInsideCall() {
    let c = session()
    let r = c.complete(word: "se", line: "tensor.randn([2], se", cursor: 20)
    XCTAssertEqual(r.first, "seed: ")
  }

  func testPathsInsideStrings() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aptp-complete-\(ProcessInfo.processInfo.processIdentifier)")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("runs"), withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("config.yaml").path, contents: Data())
    defer { try? FileManager.default.removeItem(at: dir) }
    let c = session()
    let word = dir.path + "/co"
    XCTAssertEqual(c.complete(word: word, line: "load(\"\(word)", cursor: 6 + word.count), [dir.path + "/config.yaml"])
    XCTAssertEqual(c.complete(word: dir.path + "/ru", line: "load(\"\(dir.path)/ru", cursor: 9 + dir.path.count), [dir.path + "/runs/"])
  }
}
