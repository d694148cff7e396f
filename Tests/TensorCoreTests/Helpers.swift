// Test helpers: closeness assertions and fixture paths shared by the TensorCore tests.

import Foundation
import TensorCore
import XCTest

/// The repository's Tests/Fixtures folder.
let fixturesURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// Asserts |a - b| <= atol + rtol * |b| elementwise, reporting the worst element.
func assertClose(
  _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-5, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  guard actual.count == expected.count else {
    XCTFail("\(message): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    return
  }
  var worst = 0, worstExcess: Float = 0
  for i in 0..<actual.count {
    let a = actual[i], b = expected[i]
    if a.isNaN && b.isNaN { continue }
    if a == b { continue }
    let excess = Swift.abs(a - b) - (atol + rtol * Swift.abs(b))
    if excess > worstExcess || (a.isNaN != b.isNaN) {
      worstExcess = a.isNaN != b.isNaN ? .infinity : excess
      worst = i
    }
  }
  if worstExcess > 0 {
    XCTFail("\(message): element \(worst) is \(actual[worst]), expected \(expected[worst])", file: file, line: line)
  }
}

func assertClose(
  _ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-5, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.shape, expected.shape, "\(message): shape", file: file, line: line)
  assertClose(actual.toArray(), expected.toArray(), rtol: rtol, atol: atol, message, file: file, line: line)
}
