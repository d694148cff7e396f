// SafetensorsCorruptTests: every header validation rule, asserting the message names the file, the tensor and
// what was expected.
import XCTest

@testable import Formats

final class SafetensorsCorruptTests: XCTestCase {
  private func check(
    _ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil, _ fragments: [String],
    kind: FormatError.Kind, file: StaticString = #filePath, line: UInt = #line
  ) {
    let bytes = safetensorsBytes(header: header, data: data, declaredLength: declaredLength)
    assertFormatError(["bad.safetensors"] + fragments, kind: kind, file: file, line: line) {
      _ = try Safetensors.validate(bytes, file: "bad.safetensors")
    }
  }

  private let f32 = #""dtype":"F32""#

  func testFileTooSmall() {
    assertFormatError(["tiny.safetensors", "file is 3 bytes", "8-byte header length"], kind: .header) {
      _ = try Safetensors.validate([1, 2, 3], file: "tiny.safetensors")
    }
  }

  func testHeaderLengthLargerThanFile() {
    check("{}", declaredLength: 1000, ["header length 1000 is larger than the file", "only 2 bytes follow"], kind: .header)
    check("{}", declaredLength: UInt64.max, ["header length 18446744073709551615 is larger than the file"], kind: .header)
  }

  func testHeaderNotJSON() {
    check("{not json}", ["header is not valid JSON", "line 1, column 2", "expected a string key"], kind: .header)
    check("{\"a\":1", ["header is not valid JSON", "expected ',' or '}'"], kind: .header)
    check(String(repeating: "[", count: 100), ["nesting deeper than 16 levels"], kind: .header)
  }

  func testHeaderNotAnObject() {
    check("[1,2]", ["header must be a JSON object", "found a list"], kind: .header)
  }

  func testUnknownDtype() {
    check(
      #"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0],
      ["tensor 'a'", "unknown dtype \"F8_E4M3\"", "expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL"],
      kind: .dtype)
    check(#"{"a":{"dtype":7,"shape":[1],"data_offsets":[0,1]}}"#, data: [0], ["unknown dtype 7"], kind: .dtype)
  }

  func testMissingFields() {
    check(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0], ["tensor 'a'", "missing 'dtype'"], kind: .header)
    check(#"{"a":{\#(f32),"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0], ["missing 'shape'"], kind: .header)
    check(#"{"a":{\#(f32),"shape":[1]}}"#, data: [0, 0, 0, 0], ["missing 'data_offsets'"], kind: .header)
    check(#"{"a":[1]}"#, ["tensor 'a'", "expected an object with dtype, shape and data_offsets, found a list"], kind: .header)
  }

  func testNegativeOrNonIntegerShape() {
    check(#"{"a":{\#(f32),"shape":[2,-1],"data_offsets":[0,0]}}"#,
      ["tensor 'a'", "shape must be a list of non-negative integers, found [2,-1]"], kind: .shape)
    check(#"{"a":{\#(f32),"shape":[1.5],"data_offsets":[0,0]}}"#, ["non-negative integers, found [1.5]"], kind: .shape)
    check(#"{"a":{\#(f32),"shape":"2","data_offsets":[0,0]}}"#, ["non-negative integers, found \"2\""], kind: .shape)
  }

  func testOverflowingElementCount() {
    check(#"{"a":{\#(f32),"shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#,
      ["tensor 'a'", "more elements than fit in 64 bits"], kind: .shape)
    check(#"{"a":{\#(f32),"shape":[4611686018427387904],"data_offsets":[0,0]}}"#,
      ["tensor 'a'", "x F32 needs more bytes than fit in 64 bits"], kind: .shape)
    check(#"{"a":{\#(f32),"shape":[99999999999999999999],"data_offsets":[0,0]}}"#,
      ["non-negative integers"], kind: .shape)
  }

  func testOffsetsOutOfRangeOrMalformed() {
    check(#"{"a":{\#(f32),"shape":[25],"data_offsets":[0,100]}}"#, data: [UInt8](repeating: 0, count: 8),
      ["tensor 'a'", "data_offsets [0,100] run past the end of the data region, which is 8 bytes"], kind: .offsets)
    check(#"{"a":{\#(f32),"shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0],
      ["data_offsets must be [begin, end] with 0 <= begin <= end, found [4,0]"], kind: .offsets)
    check(#"{"a":{\#(f32),"shape":[1],"data_offsets":[0]}}"#, data: [0, 0, 0, 0], ["found [0]"], kind: .offsets)
    check(#"{"a":{\#(f32),"shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0], ["found [-4,0]"], kind: .offsets)
  }

  func testShapeTimesDtypeMustMatchByteRange() {
    check(#"{"a":{\#(f32),"shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8),
      ["tensor 'a'", "shape [3] x F32 needs 12 bytes but data_offsets [0,8] span 8"], kind: .shape)
  }

  func testOverlappingOffsets() {
    check(#"{"a":{\#(f32),"shape":[2],"data_offsets":[0,8]},"b":{\#(f32),"shape":[2],"data_offsets":[4,12]}}"#,
      data: [UInt8](repeating: 0, count: 12),
      ["tensor 'b'", "data_offsets [4,12] overlap tensor 'a' at [0,8]"], kind: .offsets)
  }

  func testHolesAndTrailingBytes() {
    check(#"{"a":{\#(f32),"shape":[1],"data_offsets":[0,4]},"b":{\#(f32),"shape":[1],"data_offsets":[8,12]}}"#,
      data: [UInt8](repeating: 0, count: 12),
      ["tensor 'b'", "starts at 8 but the previous tensor 'a' ends at 4", "bytes [4,8) belong to no tensor"],
      kind: .offsets)
    check(#"{"a":{\#(f32),"shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8),
      ["tensor 'a'", "starts at 4 but the data region starts at 0"], kind: .offsets)
    check(#"{"a":{\#(f32),"shape":[1],"data_offsets":[0,4]}}"#, data: [UInt8](repeating: 0, count: 8),
      ["the data region is 8 bytes but the tensors cover only [0,4)"], kind: .offsets)
  }

  func testDuplicateNames() {
    let t = #"{\#(f32),"shape":[1],"data_offsets":[0,4]}"#
    check(#"{"a":\#(t),"a":\#(t)}"#, data: [0, 0, 0, 0],
      ["tensor 'a'", "appears twice in the header; tensor names must be unique"], kind: .duplicate)
    check(#"{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0],
      ["tensor 'a'", "has key 'dtype' twice"], kind: .duplicate)
    check(#"{"__metadata__":{"k":"1","k":"2"}}"#, ["key '__metadata__.k'", "appears twice"], kind: .duplicate)
  }

  func testMetadataMustBeStringToString() {
    check(#"{"__metadata__":{"epoch":1}}"#, ["key '__metadata__.epoch'", "expected a string value, found int 1"], kind: .metadata)
    check(#"{"__metadata__":"x"}"#, ["key '__metadata__'", "expected a map of strings to strings, found a string"], kind: .metadata)
  }

  func testValidFilesWithPaddingAndZeroSizedTensorsPass() throws {
    let header = #"{"e":{\#(f32),"shape":[0],"data_offsets":[0,0]},"a":{\#(f32),"shape":[1],"data_offsets":[0,4]}}   "#
    let tensors = try Safetensors.validate(safetensorsBytes(header: header, data: [0, 0, 128, 63]))
    XCTAssertEqual(tensors.map(\.name), ["e", "a"])
  }

  func testErrorsFromFilesNameTheFile() throws {
    let folder = try makeTempFolder("corrupt")
    defer { removeFolder(folder) }
    let path = folder + "/broken.safetensors"
    try AtomicFile.write(to: path, bytes: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
    let error = assertFormatError([path + ": tensor 'w': shape [2] x F32 needs 8 bytes"]) { _ = try SafetensorsFile(path: path) }
    XCTAssertEqual(error?.file, path)
    assertFormatError([folder + "/missing.safetensors", "cannot open"], kind: .io) {
      _ = try SafetensorsFile(path: folder + "/missing.safetensors")
    }
    assertFormatError(["not a regular file"], kind: .io) { _ = try SafetensorsFile(path: folder) }
  }
}
