// CC3MFolderTests: the shapes world exported in the CC3M layout reads back sample for sample.
import Foundation
import XCTest

@testable import Datasets
@testable import Formats
@testable import TensorCore

final class CC3MFolderTests: XCTestCase {
  let world = ShapesWorld(seed: 3, resolution: 16, trainCount: 12, validationCount: 4)

  func exported() throws -> String {
    let folder = NSTemporaryDirectory() + "aptp-cc3m-\(UUID().uuidString)"
    try world.exportCC3M(to: folder)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
    return folder
  }

  func testExportReadsBackCaptionsAndImagesInRowOrder() throws {
    let folder = try exported()
    for (split, name) in [(ShapesWorld.Split.train, "train"), (.validation, "validation")] {
      let read = try CaptionedImages.cc3m(folder: folder, split: name)
      XCTAssertEqual(read.samples.count, world.count(split))
      for i in 0..<read.samples.count {
        XCTAssertEqual(read.samples[i].caption, world.scene(split, i).caption)
        XCTAssertEqual(try read.image(i), try world.render(world.scene(split, i)))
      }
    }
    let batch = try CaptionedImages.cc3m(folder: folder, split: "train").batch([0, 11, 5], resolution: 16)
    let expected = try world.batch(.train, [0, 11, 5])
    XCTAssertEqual(batch.images.shape, [3, 3, 16, 16])
    XCTAssertEqual(batch.images.toArray(), expected.images.toArray())
    XCTAssertEqual(batch.captions, expected.captions)
  }

  func testCorruptImagesAreSkippedAndResizeKeepsTheShortSide() throws {
    let folder = try exported()
    let split = try CaptionedImages.cc3m(folder: folder, split: "train")
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: split.samples[2].path))
    let batch = try split.batch([1, 2, 3], resolution: 8, flips: Generator(seed: 1))
    XCTAssertEqual(batch.skipped, [split.samples[2].path])
    XCTAssertEqual(batch.images.shape, [2, 3, 8, 8])
    XCTAssertEqual(batch.captions, [split.samples[1].caption, split.samples[3].caption])
    let wide = try Image(width: 40, height: 20, channels: 3, fill: 9)
    let resized = try CaptionedImages.resizedShortestSide(wide, to: 10)
    XCTAssertEqual([resized.width, resized.height], [20, 10])
  }

  func testBadFoldersAndSplitsAreClearErrors() throws {
    XCTAssertThrowsError(try CaptionedImages.cc3m(folder: "/nonexistent-cc3m", split: "train")) { e in
      XCTAssertTrue("\(e)".contains("Train_GCC-training.tsv"), "\(e)")
    }
    let folder = try exported()
    XCTAssertThrowsError(try CaptionedImages.cc3m(folder: folder, split: "test")) { e in XCTAssertTrue("\(e)".contains("train or validation")) }
    try Data([0]).write(to: URL(fileURLWithPath: folder + "/training/99_x"))
    XCTAssertThrowsError(try CaptionedImages.cc3m(folder: folder, split: "train")) { e in XCTAssertTrue("\(e)".contains("99_x"), "\(e)") }
  }
}

final class ShapesReportTests: XCTestCase {
  func testReportCountsAddUpAndSpreadOverComplexity() {
    let world = ShapesWorld(seed: 2, resolution: 32, trainCount: 3000, validationCount: 10)
    let r = world.report(.train, count: 2000)
    XCTAssertEqual(r.scenes, 2000)
    XCTAssertEqual(r.objects.values.reduce(0, +), 2000)
    XCTAssertEqual(r.complexity.values.reduce(0, +), 2000)
    XCTAssertEqual(Set(r.objects.keys), [1, 2, 3, 4])
    XCTAssertGreaterThanOrEqual(r.complexity.count, 6)
    XCTAssertEqual(r.kinds.values.reduce(0, +), r.objects.reduce(0) { $0 + $1.key * $1.value })
    XCTAssertGreaterThan(r.withRelation, 0)
    XCTAssertEqual(world.report(.validation).scenes, 10)
  }
}
