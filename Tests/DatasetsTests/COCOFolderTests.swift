// COCOFolderTests: NumPy's legacy choice reproduced exactly, and COCO captions read in the original's layout and order.
import Foundation
import XCTest

@testable import Datasets
@testable import Formats

final class COCOFolderTests: XCTestCase {
  let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/datasets").path

  func testNumpyLegacyChoiceMatchesNumpy() throws {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtures + "/numpy_choice.json"))) as? [String: Any]
    let cases = try XCTUnwrap(json?["cases"] as? [[String: Any]])
    XCTAssertGreaterThanOrEqual(cases.count, 4)
    for c in cases {
      let seed = try XCTUnwrap(c["seed"] as? Int), n = try XCTUnwrap(c["n"] as? Int), k = try XCTUnwrap(c["k"] as? Int)
      var random = NumpyLegacyRandom(seed: UInt32(seed))
      XCTAssertEqual(random.choice(n, k), try XCTUnwrap(c["indices"] as? [Int]), "seed \(seed), choice(\(n), \(k))")
    }
  }

  /// A small COCO folder: 4 images, 2-3 captions each, annotations deliberately interleaved.
  func makeCOCO() throws -> String {
    let folder = NSTemporaryDirectory() + "aptp-coco-\(UUID().uuidString)"
    addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.createDirectory(atPath: folder + "/annotations", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: folder + "/images/val2014", withIntermediateDirectories: true)
    let ids = [42, 9, 1234, 73]
    var annotations: [[String: Any]] = []
    for round in 0..<3 {
      for id in ids where !(round == 2 && id == 9) {
        annotations.append(["image_id": id, "id": annotations.count, "caption": "caption \(round) of \(id)"])
      }
    }
    let json = try JSONSerialization.data(withJSONObject: ["images": ids.map { ["id": $0] }, "annotations": annotations])
    try json.write(to: URL(fileURLWithPath: folder + "/annotations/captions_val2014.json"))
    for (k, id) in ids.enumerated() {
      let image = try Image(width: 6, height: 4, channels: 3, fill: UInt8(40 * k))
      try PNG.write(image, to: CaptionedImages.cocoImagePath(folder, "val", 2014, id))
    }
    return folder
  }

  func testCaptionsAreOneRowPerAnnotationAndThe30kSampleFollowsNumpy() throws {
    let folder = try makeCOCO()
    let all = try CaptionedImages.coco(folder: folder, split: "val")
    XCTAssertEqual(all.samples.count, 11)
    XCTAssertEqual(all.samples[0].caption, "caption 0 of 42")
    XCTAssertTrue(all.samples[0].path.hasSuffix("images/val2014/COCO_val2014_000000000042.jpg"), all.samples[0].path)
    XCTAssertEqual(all.samples[5].caption, "caption 1 of 9")
    let sample = try CaptionedImages.coco30k(folder: folder, count: 3)
    var random = NumpyLegacyRandom(seed: 42)
    let firsts = [42, 9, 1234, 73]
    XCTAssertEqual(sample.samples.map(\.caption), random.choice(4, 3).map { "caption 0 of \(firsts[$0])" })
    let batch = try sample.batch([0, 1], resolution: 4)
    XCTAssertEqual(batch.images.shape, [2, 3, 4, 4])
    XCTAssertEqual(batch.skipped, [])
  }

  func testMissingFilesAndBadAnnotationsAreClearErrors() throws {
    XCTAssertThrowsError(try CaptionedImages.coco(folder: "/nonexistent-coco", split: "val")) { e in
      XCTAssertTrue("\(e)".contains("captions_val2014.json"), "\(e)")
    }
    let folder = try makeCOCO()
    XCTAssertThrowsError(try CaptionedImages.coco(folder: folder, split: "test")) { e in XCTAssertTrue("\(e)".contains("train or val")) }
    XCTAssertThrowsError(try CaptionedImages.coco30k(folder: folder, count: 5)) { e in XCTAssertTrue("\(e)".contains("4 images"), "\(e)") }
    XCTAssertThrowsError(try CaptionedImages.coco30k(folder: folder, count: -1)) { e in XCTAssertTrue("\(e)".contains("0...4"), "\(e)") }
    try Data(#"{"annotations": [{"image_id": "x"}]}"#.utf8).write(to: URL(fileURLWithPath: folder + "/annotations/captions_val2014.json"))
    XCTAssertThrowsError(try CaptionedImages.coco(folder: folder, split: "val")) { e in XCTAssertTrue("\(e)".contains("annotation 0"), "\(e)") }
  }
}
