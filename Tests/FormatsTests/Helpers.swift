// Helpers: fixture paths, temporary folders, hex decoding and error-message assertions for FormatsTests.
import Foundation
import XCTest

@testable import Formats

/// The repository's Tests/Fixtures folder.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("Fixtures").path

/// The shared goldens folder, when this checkout sits beside it.
let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/goldens").path

/// A fresh empty folder under the system temp folder, removed by the returned closure.
func makeTempFolder(_ name: String = "formats") throws -> String {
  let path = NSTemporaryDirectory() + "aptp-\(name)-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

func removeFolder(_ path: String) {
  try? FileManager.default.removeItem(atPath: path)
}

/// Bytes from a hex string as the Python generators write them.
func hexBytes(_ hex: String) -> [UInt8] {
  var out: [UInt8] = []
  out.reserveCapacity(hex.utf8.count / 2)
  var high: UInt8?
  for c in hex.utf8 {
    let v: UInt8 = c <= 57 ? c - 48 : (c | 0x20) - 87
    if let h = high {
      out.append(h << 4 | v)
      high = nil
    } else {
      high = v
    }
  }
  return out
}

/// Loads a JSON fixture as a ConfigValue.
func loadJSON(_ relativePath: String) throws -> ConfigValue {
  try JSONParser.parse(try readFileBytes(fixtures + "/" + relativePath), file: relativePath)
}

/// Asserts that `body` throws a FormatError whose description contains every fragment.
@discardableResult
func assertFormatError(
  _ fragments: [String], kind: FormatError.Kind? = nil, file: StaticString = #filePath, line: UInt = #line,
  _ body: () throws -> Void
) -> FormatError? {
  do {
    try body()
    XCTFail("expected a FormatError containing \(fragments)", file: file, line: line)
  } catch let error as FormatError {
    for fragment in fragments where !error.description.contains(fragment) {
      XCTFail("error '\(error)' does not contain '\(fragment)'", file: file, line: line)
    }
    if let kind { XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line) }
    return error
  } catch {
    XCTFail("expected a FormatError, got \(error)", file: file, line: line)
  }
  return nil
}

/// Little-endian bytes of a header length followed by the header text and data.
func safetensorsBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
  let h = Array(header.utf8)
  var length = (declaredLength ?? UInt64(h.count)).littleEndian
  return withUnsafeBytes(of: &length) { Array($0) } + h + data
}
