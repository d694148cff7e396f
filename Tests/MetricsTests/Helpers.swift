// Helpers: golden fixture loading for MetricsTests.
import Foundation
import XCTest

@testable import Formats
@testable import NN
@testable import TensorCore

/// Tests/Fixtures/goldens, where copies of the shared diffusion goldens live.
let goldenFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("Fixtures/goldens").path

/// Every tensor of a golden safetensors file, by name.
func goldenTensors(_ relativePath: String) throws -> [String: Tensor] {
  let ckpt = try SafetensorsCheckpoint.open(goldenFixtures + "/" + relativePath)
  return Dictionary(uniqueKeysWithValues: try ckpt.records.map { ($0.name, try Tensor.reading($0)) })
}

/// Fails unless max|got - want| <= tolerance · max(1, max|want|) (the goldens' stated rule).
func assertClose(_ got: Tensor, _ want: Tensor, relative tolerance: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(got.shape, want.shape, "\(what): shape", file: file, line: line)
  guard got.shape == want.shape else { return }
  let g = got.toArray(), w = want.toArray()
  let scale = Swift.max(1, w.map(abs).max() ?? 0)
  let diff = zip(g, w).map { abs($0 - $1) }.max() ?? 0
  XCTAssertLessThanOrEqual(diff, tolerance * scale, "\(what): max abs diff \(diff) (scale \(scale))", file: file, line: line)
}

extension Dictionary where Key == String, Value == Tensor {
  /// The tensor under `name`, or a test failure naming it.
  func golden(_ name: String) throws -> Tensor { try XCTUnwrap(self[name], "golden tensor \(name) missing") }
}
