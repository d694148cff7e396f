// Terminal tests: the real `aptp` binary in a tmux pseudo-terminal — TAB completion, multi-line
// input, Ctrl-C during an endless loop, history recall with the up arrow.

import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Drives one `aptp` REPL inside a detached tmux session.
final class TmuxSession {
  let name: String
  let historyFile: String

  init?(binary: String) {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), FileManager.default.isExecutableFile(atPath: binary) else {
      return nil
    }
    name = "aptp-test-\(ProcessInfo.processInfo.processIdentifier)-\(Int.random(in: 0..<1_000_000))"
    historyFile = NSTemporaryDirectory() + name + ".history"
    let command = "env APTP_HISTORY=\(historyFile) NO_COLOR=1 TERM=xterm \(binary)"
    TmuxSession.tmux(["new-session", "-d", "-s", name, "-x", "120", "-y", "40", command], capture: false)
  }

  deinit {
    TmuxSession.tmux(["kill-session", "-t", name], capture: false)
    try? FileManager.default.removeItem(atPath: historyFile)
  }

  /// Runs tmux through the shell (`system`/`popen`, not Foundation's Process, whose exit
  /// monitoring missed the exit of tmux's client here and hung). The first call starts the tmux
  /// server, which inherits our descriptors, so output is only captured for short-lived clients.
  @discardableResult
  static func tmux(_ args: [String], capture: Bool = true) -> String {
    let command = (["/usr/bin/tmux"] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
      .joined(separator: " ")
    guard capture else {
      _ = system(command + " >/dev/null 2>&1 </dev/null")
      return ""
    }
    guard let pipe = popen(command + " 2>/dev/null </dev/null", "r") else { return "" }
    var output = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), pipe) != nil {
      output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    pclose(pipe)
    return output
  }

  func send(_ keys: String...) { TmuxSession.tmux(["send-keys", "-t", name] + keys, capture: false) }
  func type(_ text: String) { TmuxSession.tmux(["send-keys", "-t", name, "-l", text], capture: false) }
  var screen: String { TmuxSession.tmux(["capture-pane", "-p", "-t", name]) }

  /// Waits until `n` prompts are on screen (the previous entry has finished).
  func waitForPrompts(_ n: Int, timeout: Double = 20) {
    let deadline = Date().addingTimeInterval(timeout)
    while screen.components(separatedBy: "aptp>").count - 1 < n && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
    }
  }

  /// Waits until the screen contains `text` (or the timeout passes) and returns the screen.
  @discardableResult
  func waitFor(_ text: String, timeout: Double = 20) -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var s = screen
    while !s.contains(text) && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
      s = screen
    }
    return s
  }
}

final class TerminalTests: XCTestCase {
  /// The debug build of the executable (`make test` builds it with the tests).
  var binary: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent(".build/debug/aptp").path
  }

  func start() throws -> TmuxSession {
    guard let s = TmuxSession(binary: binary) else { throw XCTSkip("tmux or \(binary) missing") }
    s.waitFor("aptp>")
    return s
  }

  func testTabCompletesAMember() throws {
    let s = try start()
    s.type("let model = nn.Linear(2, 3)")
    s.send("Enter")
    s.waitForPrompts(2)
    s.type("model.wei")
    s.send("Tab")
    let screen = s.waitFor("model.weight")
    XCTAssertTrue(screen.contains("model.weight"), screen)
    s.send("Enter")
    let shown = s.waitFor("tensor([[")
    XCTAssertTrue(shown.contains("tensor([["), shown)
  }

  func testMultiLineInput() throws {
    let s = try start()
    s.type("fn f(x) {")
    s.send("Enter")
    s.waitFor("...")
    s.type("return x + 1")
    s.send("Enter")
    s.type("}")
    s.send("Enter")
    s.type("f(41)")
    s.send("Enter")
    let screen = s.waitFor("\n42")
    XCTAssertTrue(screen.contains("\n42"), screen)
  }

  func testCtrlCStopsALoopAndKeepsTheSession() throws {
    let s = try start()
    s.type("let kept = 7")
    s.send("Enter")
    s.waitForPrompts(2)
    s.type("while true { }")
    s.send("Enter")
    // Under load the loop may start late, and a Ctrl-C before it starts only clears the input
    // line: keep pressing until the loop reports the interruption.
    var after = ""
    for _ in 0..<40 {
      Thread.sleep(forTimeInterval: 0.5)
      s.send("C-c")
      after = s.waitFor("interrupted", timeout: 0.5)
      if after.contains("interrupted") { break }
    }
    XCTAssertTrue(after.contains("interrupted"), after)
    s.type("kept * 6")
    s.send("Enter")
    let screen = s.waitFor("\n42")
    XCTAssertTrue(screen.contains("\n42"), screen)
  }

  func testUpArrowRecallsHistory() throws {
    let s = try start()
    s.type("40 + 2")
    s.send("Enter")
    s.waitFor("\n42")
    s.send("Up")
    s.send("Enter")
    let deadline = Date().addingTimeInterval(20)
    var screen = s.screen
    while screen.components(separatedBy: "\n42").count < 3 && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
      screen = s.screen
    }
    XCTAssertEqual(screen.components(separatedBy: "\n42").count, 3, screen)
  }
}
