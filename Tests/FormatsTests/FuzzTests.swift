// FuzzTests: time-bounded randomised mutation of valid safetensors, PNG and JPEG files; every input must give
// a value or a FormatError, never a crash, hang or out-of-bounds read. Seeds are fixed so failures reproduce.
import Foundation
import XCTest

@testable import Formats

/// A small deterministic generator (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

final class FuzzTests: XCTestCase {
  /// Seconds per format; the whole suite stays within a few seconds.
  private let budget = 0.8

  private func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var bytes = input
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
      guard !bytes.isEmpty else { return bytes }
      let i = Int.random(in: 0..<bytes.count, using: &rng)
      switch Int.random(in: 0..<7, using: &rng) {
      case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
      case 1: bytes[i] = UInt8.random(in: 0...255, using: &rng)
      case 2: bytes = Array(bytes.prefix(i))
      case 3: bytes.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
      case 4: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...16, using: &rng)))
      case 5:
        let j = Int.random(in: 0..<bytes.count, using: &rng)
        bytes.swapAt(i, j)
      default: bytes[i] = [0x00, 0xFF, 0x7F, 0x80][Int.random(in: 0..<4, using: &rng)]
      }
    }
    return bytes
  }

  /// Header-aware mutations: rewrite numbers, dtypes and names inside the JSON so validation is exercised
  /// beyond the JSON syntax check.
  private func mutateHeader(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    guard input.count >= 8 else { return input }
    let n = Int(input[0..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    guard n <= input.count - 8 else { return input }
    var header = String(decoding: input[8..<(8 + n)], as: UTF8.self)
    let data = Array(input[(8 + n)...])
    let replacements = ["-1", "0", "1", "3", "4294967296", "18446744073709551615", "1e400", "2.5", "[]", "null"]
    for _ in 0..<Int.random(in: 1...3, using: &rng) {
      switch Int.random(in: 0..<4, using: &rng) {
      case 0:
        let digits = header.ranges(of: /[0-9]+/)
        if let r = digits.randomElement(using: &rng) { header.replaceSubrange(r, with: replacements.randomElement(using: &rng) ?? "0") }
      case 1:
        let dtypes = header.ranges(of: /"(F32|F16|BF16|F64|I64|I32|I16|I8|U8|BOOL)"/)
        let names = ["\"F32\"", "\"U8\"", "\"F8_E4M3\"", "\"I64\"", "1"]
        if let r = dtypes.randomElement(using: &rng) { header.replaceSubrange(r, with: names.randomElement(using: &rng) ?? "") }
      case 2:
        let keys = header.ranges(of: /"[a-z0-9_.]+":\{/)
        if keys.count >= 2, let a = keys.randomElement(using: &rng), let b = keys.randomElement(using: &rng) {
          header.replaceSubrange(a, with: String(header[b]))
        }
      default:
        header = header.replacingOccurrences(of: "__metadata__", with: ["x", "__metadata__"].randomElement(using: &rng) ?? "")
      }
    }
    let lengthDelta = [0, 0, 0, -1, 1, 8][Int.random(in: 0..<6, using: &rng)]
    return safetensorsBytes(header: header, data: data, declaredLength: UInt64(max(0, header.utf8.count + lengthDelta)))
  }

  private func seedFiles() throws -> [[UInt8]] {
    let folder = try makeTempFolder("fuzzseed")
    defer { removeFolder(folder) }
    let path = folder + "/w.safetensors"
    try Safetensors.save(
      [try TensorPayload(name: "a", shape: [2, 2], floats: [1, 2, 3, 4], as: .bf16),
       try TensorPayload(name: "b", shape: [3], int64s: [1, 2, 3])], metadata: ["m": "v"], to: path)
    return [
      try readFileBytes(fixtures + "/safetensors/all_dtypes.safetensors"),
      try readFileBytes(fixtures + "/safetensors/sharded/model-00002-of-00002.safetensors"),
      try readFileBytes(path),
    ]
  }

  func testMutatedSafetensorsGiveErrorsNotCrashes() throws {
    let seeds = try seedFiles()
    var rng = SplitMix64(seed: 0x5AFE)
    var accepted = 0, rejected = 0
    let start = Date()
    while Date().timeIntervalSince(start) < budget {
      let seed = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
      let bytes = Bool.random(using: &rng) ? mutate(seed, &rng) : mutateHeader(seed, &rng)
      do {
        let tensors = try Safetensors.validate(bytes, file: "fuzz")
        accepted += 1
        var covered = 0
        for t in tensors {
          XCTAssertTrue(t.byteRange.lowerBound >= 8 && t.byteRange.upperBound <= bytes.count, "range out of file")
          covered += t.byteRange.count
        }
        XCTAssertLessThanOrEqual(covered, bytes.count)
      } catch is FormatError {
        rejected += 1
      }
    }
    XCTAssertGreaterThan(rejected, 100)
    print("safetensors fuzz: \(accepted + rejected) inputs, \(accepted) accepted, \(rejected) rejected with FormatError")
  }

  func testMutatedSafetensorsFilesReadThroughMmap() throws {
    let seeds = try seedFiles()
    let folder = try makeTempFolder("fuzzfile")
    defer { removeFolder(folder) }
    var rng = SplitMix64(seed: 0xF11E)
    var readCount = 0
    let start = Date()
    while Date().timeIntervalSince(start) < budget / 2 {
      let bytes = mutateHeader(seeds[Int.random(in: 0..<seeds.count, using: &rng)], &rng)
      let path = folder + "/f.safetensors"
      try AtomicFile.write(to: path, bytes: bytes)
      guard let file = try? SafetensorsFile(path: path) else { continue }
      for record in file.records {
        XCTAssertEqual(record.floats().count, record.elementCount)
        if !record.dtype.isFloatingPoint { XCTAssertEqual(try record.int64s().count, record.elementCount) }
      }
      readCount += 1
    }
    print("safetensors mmap fuzz: \(readCount) mutated files opened and fully read")
  }

  private func fuzzImages(_ paths: [String], seed: UInt64, decode: ([UInt8]) throws -> Void) throws -> (Int, Int) {
    let seeds = try paths.map { try readFileBytes(fixtures + "/images/" + $0) }
    var rng = SplitMix64(seed: seed)
    var ok = 0, failed = 0
    let start = Date()
    while Date().timeIntervalSince(start) < budget {
      let bytes = mutate(seeds[Int.random(in: 0..<seeds.count, using: &rng)], &rng)
      do {
        try decode(bytes)
        ok += 1
      } catch is FormatError {
        failed += 1
      }
    }
    return (ok, failed)
  }

  func testMutatedPNGsGiveErrorsNotCrashes() throws {
    let names = ["rgb8", "rgba16", "palette4_trns", "gray2", "rgb8_interlaced", "gray16_interlaced", "gray8_trns"]
    let (ok, failed) = try fuzzImages(names.map { "png/\($0).png" }, seed: 0x9_0000) { bytes in
      let image = try PNG.decode(bytes, maxBytes: 4 << 20).image8
      XCTAssertEqual(image.pixels.count, image.width * image.height * image.channels)
    }
    XCTAssertGreaterThan(failed, 100)
    print("PNG fuzz: \(ok + failed) inputs, \(ok) decoded, \(failed) rejected with FormatError")
  }

  func testMutatedJPEGsGiveErrorsNotCrashes() throws {
    let (ok, failed) = try fuzzImages(["jpeg/rgb.jpg", "jpeg/rgb_progressive.jpg", "jpeg/gray.jpg", "jpeg/cmyk.jpg"], seed: 0x1_9E6) { bytes in
      let image = try JPEG.decode(bytes, maxBytes: 4 << 20)
      XCTAssertEqual(image.pixels.count, image.width * image.height * image.channels)
    }
    XCTAssertGreaterThan(ok + failed, 100)
    print("JPEG fuzz: \(ok + failed) inputs, \(ok) decoded, \(failed) rejected with FormatError")
  }

  func testMutatedJSONAndYAMLGiveErrorsNotCrashes() throws {
    let seeds = [
      try readFileBytes(fixtures + "/layouts/configs/unet_sd2_tiny.json"),
      try readFileBytes(fixtures + "/configs/aptp_pruning.yaml"),
    ]
    var rng = SplitMix64(seed: 0x15_0A)
    let start = Date()
    var count = 0
    while Date().timeIntervalSince(start) < budget / 2 {
      let bytes = mutate(seeds[Int.random(in: 0..<2, using: &rng)], &rng)
      _ = try? JSONParser.parse(bytes)
      if let text = String(bytes: bytes, encoding: .utf8) {
        if let value = try? ConfigLoader.parseYAML(text) { _ = ConfigSchema.aptp.validate(value) }
      }
      count += 1
    }
    XCTAssertGreaterThan(count, 50)
  }
}
