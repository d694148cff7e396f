// ImageTests: PNG decoding of every colour type and bit depth against known pixels, PNG write/read round trips,
// JPEG decoding against Pillow, crops, flips, float views, the bitmap font and grids.
import Foundation
import XCTest

@testable import Formats

final class ImageTests: XCTestCase {
  func testPNGFixturesDecodeToKnownPixels() throws {
    guard case .map(let expected) = try loadJSON("images/png_expected.json") else { return XCTFail("bad json") }
    XCTAssertGreaterThanOrEqual(expected.count, 18)
    for (name, want) in expected {
      let decoded = try PNG.readAny(fixtures + "/images/png/\(name).png")
      let width = want["width"]?.intValue, height = want["height"]?.intValue, channels = want["channels"]?.intValue
      XCTAssertEqual(decoded.bitDepth, want["bit_depth"]?.intValue, name)
      switch decoded {
      case .uint8(let image):
        XCTAssertEqual([image.width, image.height, image.channels], [width, height, channels], name)
        XCTAssertEqual(image.pixels, hexBytes(want["pixels"]?.stringValue ?? ""), name)
      case .uint16(let image):
        XCTAssertEqual([image.width, image.height, image.channels], [width, height, channels], name)
        XCTAssertEqual(image.samples, want["pixels"]?.listValue?.compactMap(\.intValue).map(UInt16.init), name)
        XCTAssertEqual(image.image8.pixels, image.samples.map { UInt8($0 >> 8) }, name)
      }
    }
  }

  func testPNGWriteReadRoundTrip() throws {
    let folder = try makeTempFolder("png")
    defer { removeFolder(folder) }
    var rng = SystemRandomNumberGenerator()
    for channels in 1...4 {
      let pixels = (0..<(13 * 7 * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let image = try Image(width: 13, height: 7, channels: channels, pixels: pixels)
      let path = folder + "/c\(channels).png"
      try image.write(to: path)
      XCTAssertEqual(try PNG.read(path), image)
      XCTAssertEqual(try Image.read(path), image)
      let wide = try Image16(width: 3, height: 2, channels: channels, samples: (0..<(6 * channels)).map { UInt16(($0 * 9000) % 65536) })
      try PNG.write(wide, to: path)
      XCTAssertEqual(try PNG.readAny(path), .uint16(wide))
    }
    assertFormatError(["cannot write a 0x3 PNG"]) { try PNG.write(try Image(width: 0, height: 3, channels: 3), to: folder + "/e.png") }
  }

  func testJPEGFixturesMatchPillow() throws {
    guard case .map(let expected) = try loadJSON("images/jpeg_expected.json") else { return XCTFail("bad json") }
    for (name, want) in expected {
      let image = try JPEG.read(fixtures + "/images/jpeg/\(name).jpg")
      XCTAssertEqual([image.width, image.height, image.channels],
        [want["width"]?.intValue, want["height"]?.intValue, want["channels"]?.intValue], name)
      let reference = hexBytes(want["pixels"]?.stringValue ?? "")
      let maxDiff = zip(image.pixels, reference).map { abs(Int($0) - Int($1)) }.max() ?? 0
      XCTAssertLessThanOrEqual(maxDiff, 1, "\(name): libjpeg-turbo versions may differ by one level at most")
      XCTAssertEqual(try Image.read(fixtures + "/images/jpeg/\(name).jpg"), image)
    }
  }

  func testCMYKJPEGIsRejectedClearly() {
    assertFormatError(["cmyk.jpg", "cannot decode JPEG", "CMYK/YCCK JPEG is not supported"], kind: .image) {
      _ = try JPEG.read(fixtures + "/images/jpeg/cmyk.jpg")
    }
  }

  func testTruncatedAndForeignFilesAreErrors() throws {
    let png = try readFileBytes(fixtures + "/images/png/rgb8.png")
    assertFormatError(["x.png", "cannot decode PNG", "end of PNG data"], kind: .image) {
      _ = try PNG.decode(Array(png.prefix(60)), file: "x.png")
    }
    assertFormatError(["not a PNG file"]) { _ = try PNG.decode([1, 2, 3]) }
    var badCRC = png
    badCRC[20] ^= 0xFF
    assertFormatError(["cannot decode PNG"]) { _ = try PNG.decode(badCRC) }
    assertFormatError(["not a JPEG file"]) { _ = try JPEG.decode(png) }
    let jpeg = try readFileBytes(fixtures + "/images/jpeg/rgb.jpg")
    assertFormatError(["cannot decode JPEG"]) { _ = try JPEG.decode(Array(jpeg.prefix(100))) }
    let folder = try makeTempFolder("img")
    defer { removeFolder(folder) }
    try AtomicFile.write(to: folder + "/x.gif", bytes: Array("GIF89a".utf8))
    assertFormatError(["x.gif", "not a PNG or JPEG"]) { _ = try Image.read(folder + "/x.gif") }
  }

  func testCropFlipAndConversions() throws {
    let image = try Image(width: 4, height: 3, channels: 1, pixels: (0..<12).map(UInt8.init))
    XCTAssertEqual(image.flippedHorizontally().pixels, [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8])
    XCTAssertEqual(try image.cropped(x: 1, y: 1, width: 2, height: 2).pixels, [5, 6, 9, 10])
    XCTAssertEqual(try image.cropped(x: -1, y: 2, width: 3, height: 2).pixels, [0, 8, 9, 0, 0, 0])
    // torchvision CenterCrop: top = round((3 - 2) / 2) = round(0.5) = 0, left = round((4 - 1) / 2) = round(1.5) = 2.
    XCTAssertEqual(try image.centerCropped(width: 1, height: 2).pixels, [2, 6])
    XCTAssertEqual(try image.centerCropped(width: 6, height: 3).pixels,
      [0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 7, 0, 0, 8, 9, 10, 11, 0])
    let rgb = try Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 20, 30])
    XCTAssertEqual(try rgb.converted(channels: 1).pixels, [76, 18])
    XCTAssertEqual(try rgb.converted(channels: 4).pixels, [255, 0, 0, 255, 10, 20, 30, 255])
    XCTAssertEqual(try image.converted(channels: 3).pixels.prefix(6), [0, 0, 0, 1, 1, 1])
    assertFormatError(["channels must be 1"]) { _ = try image.converted(channels: 5) }
    assertFormatError(["needs 12 samples, got 11"]) { _ = try Image(width: 4, height: 3, channels: 1, pixels: [UInt8](repeating: 0, count: 11)) }
  }

  func testFloatViews() throws {
    let image = try Image(width: 2, height: 1, channels: 3, pixels: [0, 255, 51, 255, 0, 102])
    XCTAssertEqual(image.floatsCHW(), [0, 1, 1, 0, 0.2, 0.4])
    for (got, want) in zip(image.floatsCHW(.minusOneToOne), [-1, 1, 1, -1, -0.6, -0.2] as [Float]) {
      XCTAssertEqual(got, want, accuracy: 1e-6)
    }
    let back = try Image(chw: image.floatsCHW(.minusOneToOne), width: 2, height: 1, channels: 3, range: .minusOneToOne)
    XCTAssertEqual(back, image)
    XCTAssertEqual(try Image(chw: [-3, 2, .nan], width: 3, height: 1, channels: 1).pixels, [0, 255, 0])
  }

  func testBitmapFontDrawsGlyphs() throws {
    var image = try Image(width: 12, height: 8, channels: 1)
    BitmapFont.draw("T!", into: &image, x: 0, y: 0, color: [255])
    XCTAssertEqual((0..<5).map { image[$0, 0, 0] }, [255, 255, 255, 255, 255], "top bar of T")
    XCTAssertEqual((0..<7).map { image[2, $0, 0] }, [255, 255, 255, 255, 255, 255, 255], "stem of T")
    XCTAssertEqual(image[8, 5, 0], 0, "gap in '!'")
    XCTAssertEqual(image[8, 6, 0], 255, "dot of '!'")
    XCTAssertEqual(BitmapFont.glyphs.count, 95)
    XCTAssertTrue(BitmapFont.glyphs.allSatisfy { $0.count == 7 && $0.allSatisfy { $0 < 32 } })
    XCTAssertEqual(BitmapFont.rows("é"), BitmapFont.rows("?"))
    XCTAssertEqual(BitmapFont.width(of: "abc", scale: 2), 34)
    BitmapFont.draw("clipped", into: &image, x: 10, y: 6, color: [9], scale: 3)  // partly outside: no crash
    BitmapFont.draw("off", into: &image, x: 100, y: 100, color: [9])
  }

  func testGridLayoutAndLabels() throws {
    let red = try Image(width: 10, height: 6, channels: 3, pixels: [UInt8](repeating: 0, count: 180).enumerated().map { $0.offset % 3 == 0 ? 200 : 0 })
    let gray = try Image(width: 8, height: 8, channels: 1, fill: 100)
    let transparent = try Image(width: 4, height: 4, channels: 4, fill: 0)
    var style = ImageGrid.Style()
    style.padding = 2
    let grid = try ImageGrid.make([red, gray, transparent], columns: 2, labels: ["red", "gray", "a much longer label here"], style: style)
    let labelHeight = 2 * BitmapFont.lineHeight + 1
    XCTAssertEqual(grid.width, 2 + 2 * (10 + 2))
    XCTAssertEqual(grid.height, 2 + 2 * (8 + labelHeight + 2))
    XCTAssertEqual(grid.channels, 3)
    // The red tile is centred vertically in its 10x8 cell: rows 3...8 at x 2...11.
    XCTAssertEqual([grid[2, 3, 0], grid[2, 3, 1]], [200, 0])
    XCTAssertEqual([grid[2, 2, 0], grid[2, 2, 1]], [255, 255], "background above the tile")
    XCTAssertEqual([grid[15, 5, 0], grid[15, 5, 2]], [100, 100], "gray expanded to RGB")
    XCTAssertEqual(grid[2 + 3, 2 + 8 + labelHeight + 2 + 2, 0], 255, "fully transparent pixels show the background")
    let labelInk = (11..<28).contains { y in (2..<12).contains { x in (0..<3).allSatisfy { grid[x, y, $0] == 0 } } }
    XCTAssertTrue(labelInk, "labels are drawn in black under their tile")
    XCTAssertEqual(ImageGrid.wrap("a much longer label here", width: 8, lines: 2), ["a much", "longer.."])
    XCTAssertEqual(ImageGrid.wrap("abcdefghij", width: 4, lines: 3), ["abcd", "efgh", "ij"])
    assertFormatError(["2 labels for 3 images"]) { _ = try ImageGrid.make([red, gray, gray], columns: 2, labels: ["a", "b"]) }
    assertFormatError(["columns must be positive"]) { _ = try ImageGrid.make([red], columns: 0) }
    let folder = try makeTempFolder("grid")
    defer { removeFolder(folder) }
    try ImageGrid.write([red, gray], columns: 1, labels: ["x", "y"], to: folder + "/grid.png")
    XCTAssertEqual(try PNG.read(folder + "/grid.png"), try ImageGrid.make([red, gray], columns: 1, labels: ["x", "y"]))
  }
}
