// SafetensorsTests: reading files written by the Python library, round trips for every dtype, writer layout,
// sharded checkpoints.
import Foundation
import XCTest

@testable import Formats

final class SafetensorsTests: XCTestCase {
  func testReadsEveryDtypeWrittenByPythonLibrary() throws {
    let file = try SafetensorsFile(path: fixtures + "/safetensors/all_dtypes.safetensors")
    let expected = try loadJSON("safetensors/expected.json")
    XCTAssertEqual(file.metadata, ["format": "pt", "note": "written by gen_safetensors.py"])
    guard case .map(let tensors)? = expected["tensors"] else { return XCTFail("bad expected.json") }
    XCTAssertEqual(Set(file.names), Set(tensors.keys))
    for (name, want) in tensors {
      let record = try file.record(name)
      XCTAssertEqual(record.dtype.rawValue, want["dtype"]?.stringValue, name)
      XCTAssertEqual(record.shape, want["shape"]?.listValue?.compactMap(\.intValue), name)
      let floats = want["floats"]?.listValue?.compactMap(\.doubleValue).map(Float.init) ?? []
      XCTAssertEqual(record.floats(), floats, name)
      if let ints = want["int64s"]?.listValue {
        XCTAssertEqual(try record.int64s(), ints.compactMap(\.intValue).map(Int64.init), name)
      }
    }
    XCTAssertEqual(try file.record("scalar").shape, [])
    XCTAssertEqual(try file.record("empty").elementCount, 0)
    XCTAssertEqual(try file.record("bool").engineType, .int64)
    XCTAssertEqual(try file.record("bf16").originalDType, .bf16)
  }

  func testInt64sOfFloatTensorIsAClearError() throws {
    let file = try SafetensorsFile(path: fixtures + "/safetensors/all_dtypes.safetensors")
    assertFormatError(["all_dtypes.safetensors", "tensor 'f32'", "has dtype F32", "use floats()"], kind: .dtype) {
      _ = try file.record("f32").int64s()
    }
    assertFormatError(["tensor 'nope'", "no such tensor"]) { _ = try file.record("nope") }
  }

  func testZeroCopyBytesPointIntoTheMapping() throws {
    let file = try SafetensorsFile(path: fixtures + "/safetensors/all_dtypes.safetensors")
    let record = try file.record("u8")
    let base = file.mapping.bytes(0..<file.mapping.size).baseAddress
    record.withUnsafeBytes { bytes in
      XCTAssertEqual(bytes.baseAddress, base.map { $0 + record.byteRange.lowerBound })
      XCTAssertEqual(Array(bytes), [0, 1, 128, 254, 255])
    }
  }

  func testRoundTripEveryWritableDtype() throws {
    let folder = try makeTempFolder("st")
    defer { removeFolder(folder) }
    let path = folder + "/round.safetensors"
    let values: [Float] = [0, 1, -2.5, 3.14159, 1e-3, 65504, -0.0, 1e-8]
    let payloads = [
      try TensorPayload(name: "w32", shape: [2, 4], floats: values),
      try TensorPayload(name: "w16", shape: [8], floats: values, as: .f16),
      try TensorPayload(name: "wbf", shape: [4, 2], floats: values, as: .bf16),
      try TensorPayload(name: "ids", shape: [3], int64s: [-1, 0, Int64.max]),
      try TensorPayload(name: "img", shape: [2, 2], rawBytes: [0, 7, 200, 255], dtype: .u8),
      try TensorPayload(name: "mask", shape: [2], rawBytes: [1, 0], dtype: .bool),
      try TensorPayload(name: "i32", shape: [2], rawBytes: [1, 0, 0, 0, 255, 255, 255, 255], dtype: .i32),
      try TensorPayload(name: "scalar", shape: [], floats: [42]),
      try TensorPayload(name: "empty", shape: [0, 5], floats: []),
    ]
    try Safetensors.save(payloads, metadata: ["format": "pt", "step": "12"], to: path)
    let file = try SafetensorsFile(path: path)
    XCTAssertEqual(file.names, payloads.map(\.name), "laid out in the order given")
    XCTAssertEqual(file.metadata, ["format": "pt", "step": "12"])
    XCTAssertEqual(try file.record("w32").floats(), values)
    XCTAssertEqual(try file.record("w16").floats(), values.map { Float(Float16($0)) })
    XCTAssertEqual(try file.record("wbf").floats(), values.map { FloatBits.bfloat16ToFloat(FloatBits.floatToBFloat16($0)) })
    XCTAssertEqual(try file.record("wbf").dtype, .bf16)
    XCTAssertEqual(try file.record("ids").int64s(), [-1, 0, Int64.max])
    XCTAssertEqual(try file.record("img").bytes(), [0, 7, 200, 255])
    XCTAssertEqual(try file.record("mask").int64s(), [1, 0])
    XCTAssertEqual(try file.record("i32").int64s(), [1, -1])
    XCTAssertEqual(try file.record("scalar").floats(), [42])
    XCTAssertEqual(try file.record("empty").shape, [0, 5])
    // A record copied unchanged writes back the same bytes.
    let copy = folder + "/copy.safetensors"
    try Safetensors.save(try file.records.map(TensorPayload.init(copying:)), metadata: file.metadata, to: copy)
    XCTAssertEqual(try readFileBytes(copy), try readFileBytes(path))
  }

  func testPythonLibraryReadsWhatWeWrite() throws {
    // The header layout matches the Python writer's conventions: 8-byte aligned, space padded, metadata first.
    let folder = try makeTempFolder("st")
    defer { removeFolder(folder) }
    let path = folder + "/w.safetensors"
    try Safetensors.save(
      [try TensorPayload(name: "a", shape: [3], floats: [1, 2, 3])], metadata: ["k": "v"], to: path)
    let bytes = try readFileBytes(path)
    let n = Int(bytes[0..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    XCTAssertEqual(n % 8, 0)
    let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
    XCTAssertEqual(
      header.trimmingCharacters(in: .whitespaces),
      #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#)
    XCTAssertTrue(header.hasSuffix(" ") || header.hasSuffix("}"))
    XCTAssertEqual(bytes.count, 8 + n + 12)
  }

  func testLargeTensorsReadThroughPreadAndIntoCallerBuffers() throws {
    let folder = try makeTempFolder("st")
    defer { removeFolder(folder) }
    let path = folder + "/large.safetensors"
    let floats = (0..<(600_000)).map { Float($0) * 0.5 - 7 }
    let ints = (0..<(300_000)).map { Int64($0) * 1_000_003 - 5 }
    try Safetensors.save(
      [try TensorPayload(name: "small", shape: [3], floats: [1, 2, 3]),  // shifts the big tensors off alignment
       try TensorPayload(name: "f", shape: [600, 1000], floats: floats),
       try TensorPayload(name: "i", shape: [300_000], int64s: ints),
       try TensorPayload(name: "h", shape: [600_000], floats: floats, as: .f16)], to: path)
    let file = try SafetensorsFile(path: path)
    XCTAssertEqual(try file.record("f").floats(), floats)
    XCTAssertEqual(try file.record("i").int64s(), ints)
    XCTAssertEqual(try file.record("h").floats(), floats.map { Float(Float16($0)) })
    let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 600_000)
    defer { buffer.deallocate() }
    try file.record("f").readFloats(into: buffer)
    XCTAssertEqual(Array(buffer), floats)
    let ints16 = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 3)
    defer { ints16.deallocate() }
    assertFormatError(["tensor 'i'", "needs a buffer of 300000 int64s, got 3"]) { try file.record("i").readInt64s(into: ints16) }
    assertFormatError(["tensor 'f'", "int64s() needs an integer"]) { try file.record("f").readInt64s(into: ints16) }
  }

  func testHalfTableIsExact() {
    for bits in [UInt16(0), 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00] {
      let want = Float(Float16(bitPattern: bits))
      let got = FloatBits.halfToFloat(bits)
      XCTAssertTrue(got == want || (got.isNaN && want.isNaN), "\(bits)")
      XCTAssertEqual(got.sign, want.sign)
    }
  }

  func testBFloat16RoundingMatchesTorch() {
    // 1 + 2^-8 is halfway between two bf16 values: ties go to even (1.0); just above rounds up.
    XCTAssertEqual(FloatBits.floatToBFloat16(1 + 1.0 / 256), 0x3F80)
    XCTAssertEqual(FloatBits.floatToBFloat16(Float(bitPattern: 0x3F80_8001)), 0x3F81)
    XCTAssertEqual(FloatBits.floatToBFloat16(Float(bitPattern: 0x3F81_8000)), 0x3F82)
    XCTAssertEqual(FloatBits.floatToBFloat16(.nan), 0x7FC0)
    XCTAssertEqual(FloatBits.floatToBFloat16(.infinity), 0x7F80)
    XCTAssertEqual(FloatBits.bfloat16ToFloat(0x4049), 3.140625)
  }

  func testWriterRejectsBadInput() throws {
    assertFormatError(["tensor 'x'", "shape [2,2] does not match 3 values"]) {
      _ = try TensorPayload(name: "x", shape: [2, 2], floats: [1, 2, 3])
    }
    assertFormatError(["F32, F16 or BF16"]) { _ = try TensorPayload(name: "x", shape: [1], floats: [1], as: .i8) }
    assertFormatError(["shape [3] x I64 does not match 8 bytes"]) {
      _ = try TensorPayload(name: "x", shape: [3], rawBytes: [UInt8](repeating: 0, count: 8), dtype: .i64)
    }
    let a = try TensorPayload(name: "a", shape: [1], floats: [1])
    assertFormatError(["tensor 'a'", "appears twice"], kind: .duplicate) {
      try Safetensors.save([a, a], to: NSTemporaryDirectory() + "never.safetensors")
    }
    XCTAssertFalse(fileExists(NSTemporaryDirectory() + "never.safetensors"))
  }

  func testShardedCheckpointMergesShards() throws {
    let checkpoint = try SafetensorsCheckpoint.open(fixtures + "/safetensors/sharded/model.safetensors.index.json")
    let expected = try loadJSON("safetensors/expected.json")
    guard case .map(let want)? = expected["sharded"] else { return XCTFail("bad expected.json") }
    XCTAssertEqual(checkpoint.names, want.keys.sorted())
    XCTAssertEqual(checkpoint.files.count, 2)
    XCTAssertEqual(checkpoint.metadata["total_size"], .int(144))
    for (name, value) in want {
      let record = try checkpoint.record(name)
      XCTAssertEqual(record.floats(), value["floats"]?.listValue?.compactMap(\.doubleValue).map(Float.init), name)
    }
    XCTAssertEqual(try checkpoint.record("head.bias").int64s(), [1, 2, 3])
    // Opening the folder finds the index.
    XCTAssertEqual(try SafetensorsCheckpoint.open(fixtures + "/safetensors/sharded").names, checkpoint.names)
    XCTAssertEqual(checkpoint.elementCount, 12 + 9 + 9 + 3)
  }

  func testShardedCheckpointErrors() throws {
    let folder = try makeTempFolder("shard")
    defer { removeFolder(folder) }
    try FileManager.default.copyItem(
      atPath: fixtures + "/safetensors/sharded/model-00001-of-00002.safetensors",
      toPath: folder + "/model-00001-of-00002.safetensors")
    func writeIndex(_ map: String) throws -> String {
      let path = folder + "/model.safetensors.index.json"
      try AtomicFile.write(to: path, bytes: Array(#"{"metadata": {"total_size": 1}, "weight_map": {\#(map)}}"#.utf8))
      return path
    }
    var index = try writeIndex(#""embed.weight": "model-00001-of-00002.safetensors", "x": "model-00002-of-00002.safetensors""#)
    assertFormatError(["model.safetensors.index.json", "shard 'model-00002-of-00002.safetensors'", "does not exist", "tensor 'x'"],
      kind: .shard) { _ = try SafetensorsCheckpoint.open(index) }
    index = try writeIndex(#""embed.weight": "model-00001-of-00002.safetensors", "ghost": "model-00001-of-00002.safetensors""#)
    assertFormatError(["tensor 'ghost'", "mapped to shard 'model-00001-of-00002.safetensors'", "no tensor of that name"],
      kind: .shard) { _ = try SafetensorsCheckpoint.open(index) }
    index = try writeIndex(#""a": "../escape.safetensors""#)
    assertFormatError(["key 'weight_map.a'", "inside the index's folder"]) { _ = try SafetensorsCheckpoint.open(index) }
    index = try writeIndex(#""a": 3"#)
    assertFormatError(["key 'weight_map.a'", "expected a shard file name"]) { _ = try SafetensorsCheckpoint.open(index) }
    index = try writeIndex(#""a": "x", "a": "y""#)
    assertFormatError(["key 'weight_map.a'", "appears twice"], kind: .duplicate) { _ = try SafetensorsCheckpoint.open(index) }
  }

  func testReadsGoldenFileWrittenByPython() throws {
    let path = fixtures + "/goldens/minilm/tokens.safetensors"
    let file = try SafetensorsFile(path: path)
    XCTAssertFalse(file.records.isEmpty)
    XCTAssertTrue(file.records.allSatisfy { $0.dtype == .i64 })
    XCTAssertEqual(try file.record("ids_0").shape, [8])
  }
}
