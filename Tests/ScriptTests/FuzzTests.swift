// Robustness: thousands of mutated programs from the golden corpus go through the lexer, parser,
// resolver and interpreter; each must end in a value or a clean diagnostic, never a crash.

import Foundation
import Script
import XCTest

/// A small deterministic generator (SplitMix64) so failures reproduce from the seed.
struct FuzzRandom {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

final class FuzzTests: XCTestCase {
  static let fragments = [
    "(", ")", "{", "}", "[", "]", ",", ".", ":", ";", "\n", "\"", "'", "{x}", "..", "..=", "**", "@", "-", "not ",
    " and ", " or ", "let ", "fn ", "if ", "else ", "while ", "for ", " in ", "return ", "break", "try ", "catch ",
    "import ", "nil", "1e309", "-0", "0x", "9999999999999999999", "[1, 2][5]", "{a: 1}.b", "f(", "x = ", "\\u{110000}",
    "é", "\u{0}", "#", "tensor.ones([2, 3])", " @ ", ".reshape([-1])", "[::-1]", "[1:]",
  ]

  func corpus() throws -> [String] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("cases")
    var out: [String] = []
    let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
    while let u = e?.nextObject() as? URL {
      // The text and diffusion cases load model files (~0.4 s each in debug builds), which would
      // take most of the fuzzing budget without exercising the language any further.
      if u.pathExtension == "aptp" && !["text", "diffusion", "pruning", "data"].contains(u.deletingLastPathComponent().lastPathComponent) {
        out.append(try String(contentsOf: u, encoding: .utf8))
      }
    }
    return out
  }

  func mutate(_ text: String, _ rng: inout FuzzRandom) -> String {
    var chars = Array(text)
    for _ in 0...rng.below(4) {
      let at = rng.below(chars.count + 1)
      switch rng.below(4) {
      case 0: if !chars.isEmpty { chars.remove(at: min(at, chars.count - 1)) }
      case 1: chars.insert(contentsOf: Self.fragments[rng.below(Self.fragments.count)], at: at)
      case 2:
        let len = rng.below(20)
        if at + len <= chars.count { chars.removeSubrange(at..<(at + len)) }
      default:
        if !chars.isEmpty { chars.insert(chars[rng.below(chars.count)], at: at) }
      }
    }
    return String(chars)
  }

  func testMutatedProgramsNeverCrash() throws {
    let programs = try corpus()
    XCTAssertGreaterThan(programs.count, 10)
    let iterations = Int(ProcessInfo.processInfo.environment["APTP_FUZZ_ITERATIONS"] ?? "") ?? 3000
    var rng = FuzzRandom(state: UInt64(ProcessInfo.processInfo.environment["APTP_FUZZ_SEED"] ?? "") ?? 7)
    var outcomes = [0, 0, 0]
    // Mutated programs may write files under mutated relative paths: run them in a scratch folder.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("aptp-fuzz-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    let previous = FileManager.default.currentDirectoryPath
    XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(scratch.path))
    defer {
      _ = FileManager.default.changeCurrentDirectoryPath(previous)
      try? FileManager.default.removeItem(at: scratch)
    }
    Interpreter.onLargeStack {
      for i in 0..<iterations {
        let source = self.mutate(programs[i % programs.count], &rng)
        let interp = Interpreter()
        interp.output = { _ in }
        interp.maxCallDepth = 200
        withBindings(interp)
        // A watchdog interrupts endless loops the mutation may create.
        let deadline = DispatchTime.now() + .milliseconds(200)
        let flag = interp.interrupt
        DispatchQueue.global().asyncAfter(deadline: deadline) { flag.raise() }
        switch interp.run(source, name: "fuzz-\(i).aptp") {
        case .value: outcomes[0] += 1
        case .errors: outcomes[1] += 1
        case .runtimeError, .incomplete: outcomes[2] += 1
        }
      }
    }
    XCTAssertEqual(outcomes.reduce(0, +), iterations)
    XCTAssertGreaterThan(outcomes[1], 0, "mutations should produce some syntax errors")
  }

  func testHostileInputs() {
    let inputs = [
      "", "\"", "'", "{", "}", "((((((((((", String(repeating: "[", count: 5000), String(repeating: "-", count: 10000) + "1",
      "fn f() { return f() }\nf()", "let x = \"\\u{D800}\"", "print(\"{\")", "1 ..= 9999999999999999999999",
      "range(0, 1e300)", "[0] * 1e12", "\"a\" * 1e12", String(repeating: "not ", count: 20000) + "true",
    ]
    Interpreter.onLargeStack {
      for text in inputs {
        let interp = Interpreter()
        interp.output = { _ in }
        _ = interp.run(text, name: "hostile.aptp")
      }
    }
  }
}
