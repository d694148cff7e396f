// ShapesWorldTests: the shapes world is deterministic, its captions describe its images, complexity varies.
import Foundation
import XCTest

@testable import Datasets
@testable import Formats
@testable import TensorCore

final class ShapesWorldTests: XCTestCase {
  let world = ShapesWorld(seed: 7, resolution: 32, trainCount: 2000, validationCount: 200)

  func testSamplesArePureFunctionsOfSeedSplitAndIndex() throws {
    for i in [0, 5, 1999] {
      let a = world.scene(.train, i), b = world.scene(.train, i)
      XCTAssertEqual(a.caption, b.caption)
      XCTAssertEqual(try world.render(a).pixels, try world.render(b).pixels)
    }
    XCTAssertNotEqual(world.scene(.train, 3).caption + world.scene(.train, 4).caption, world.scene(.validation, 3).caption + world.scene(.validation, 4).caption)
    var other = world
    other.seed = 8
    let differing = (0..<20).filter { world.scene(.train, $0).caption != other.scene(.train, $0).caption }.count
    XCTAssertGreaterThan(differing, 10)
  }

  func testCaptionsListTheDrawnObjects() throws {
    for i in 0..<300 {
      let s = world.scene(.train, i)
      let content = try CaptionContent(parsing: s.caption)
      XCTAssertEqual(content.groups.map(\.count).reduce(0, +), s.objects.count, s.caption)
      var drawn: [String: Int] = [:]
      for o in s.objects { drawn["\(o.size.rawValue) \(o.color.rawValue) \(o.kind.rawValue)", default: 0] += 1 }
      var said: [String: Int] = [:]
      for g in content.groups { said["\(g.size) \(g.color) \(g.kind)", default: 0] += g.count }
      XCTAssertEqual(drawn, said, s.caption)
      XCTAssertEqual(content.background, s.background == .black ? nil : s.background.rawValue)
      XCTAssertEqual(content.relation, s.relation?.rawValue)
      if let r = s.relation, content.groups.count == 2 {
        let n = content.groups[0].count
        let first = s.objects[..<n], second = s.objects[n...]
        let mean = { (xs: ArraySlice<ShapeObject>, f: (ShapeObject) -> Float) in xs.map(f).reduce(0, +) / Float(xs.count) }
        switch r {
        case .above: XCTAssertLessThan(mean(first, \.y), mean(second, \.y), s.caption)
        case .below: XCTAssertGreaterThan(mean(first, \.y), mean(second, \.y), s.caption)
        case .leftOf: XCTAssertLessThan(mean(first, \.x), mean(second, \.x), s.caption)
        case .rightOf: XCTAssertGreaterThan(mean(first, \.x), mean(second, \.x), s.caption)
        }
      }
    }
  }

  func testComplexityVariesAndObjectsAreVisible() throws {
    var byComplexity: [Int: Int] = [:]
    for i in 0..<500 { byComplexity[world.scene(.train, i).complexity, default: 0] += 1 }
    XCTAssertGreaterThanOrEqual(byComplexity.keys.count, 6, "\(byComplexity)")
    // Every object colours some pixels: the image differs from a blank background.
    let s = world.scene(.train, 11)
    let image = try world.render(s)
    let bg = s.background.rgb
    let background = UInt8((bg.0 * 255).rounded())
    XCTAssertGreaterThan(stride(from: 0, to: image.pixels.count, by: 3).filter { image.pixels[$0] != background }.count, 20)
    let (images, captions, _) = try world.batch(.validation, [0, 1, 2])
    XCTAssertEqual(images.shape, [3, 3, 32, 32])
    XCTAssertEqual(captions.count, 3)
    XCTAssertLessThanOrEqual(images.toArray().map(abs).max() ?? 2, 1)
    XCTAssertThrowsError(try world.batch(.validation, [200]))
    if let path = ProcessInfo.processInfo.environment["APTP_SHAPES_GRID"] {
      let samples = try (0..<24).map { try world.render(world.scene(.train, $0)) }
      try PNG.write(try ImageGrid.make(samples, columns: 6), to: path)
      print((0..<24).map { world.scene(.train, $0).caption }.joined(separator: "\n"))
    }
  }
}
