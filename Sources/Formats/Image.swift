// Image: 8-bit interleaved images (gray, gray+alpha, RGB, RGBA) and a 16-bit variant; crops, flips, channel
// conversion and float CHW views for the tensor layers.

/// An 8-bit image: `height` rows of `width` pixels of `channels` interleaved samples (HWC, row-major).
///
/// Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. 16-bit sources are kept in `Image16`; `Image` is what
/// resizing, grids and the model layers use.
public struct Image: Sendable, Equatable {
  /// Pixels per row.
  public let width: Int
  /// Number of rows.
  public let height: Int
  /// Samples per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
  public let channels: Int
  /// `width * height * channels` samples.
  public var pixels: [UInt8]

  /// An image over existing samples; throws unless `pixels.count == width * height * channels`.
  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
    try Self.checkGeometry(width: width, height: height, channels: channels, count: pixels.count)
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// An image filled with one value.
  public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) throws {
    try Self.checkGeometry(width: width, height: height, channels: channels, count: nil)
    self.width = width
    self.height = height
    self.channels = channels
    pixels = [UInt8](repeating: fill, count: width * height * channels)
  }

  /// Internal: geometry already checked.
  init(unchecked width: Int, _ height: Int, _ channels: Int, _ pixels: [UInt8]) {
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  static func checkGeometry(width: Int, height: Int, channels: Int, count: Int?) throws {
    guard (1...4).contains(channels) else {
      throw FormatError(.image, file: "<image>", "channels must be 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA), not \(channels)")
    }
    guard width >= 0, height >= 0 else { throw FormatError(.image, file: "<image>", "size \(width)x\(height) is negative") }
    let (wh, o1) = width.multipliedReportingOverflow(by: height)
    let (total, o2) = wh.multipliedReportingOverflow(by: channels)
    guard !o1, !o2, total <= 1 << 34 else { throw FormatError(.image, file: "<image>", "size \(width)x\(height) is too large") }
    if let count, count != total {
      throw FormatError(
        .image, file: "<image>", "\(width)x\(height)x\(channels) needs \(total) samples, got \(count)")
    }
  }

  /// The sample at column `x`, row `y`, channel `c` (indices must be in range).
  public subscript(x: Int, y: Int, c: Int) -> UInt8 {
    get { pixels[(y * width + x) * channels + c] }
    set { pixels[(y * width + x) * channels + c] = newValue }
  }

  /// True when the image has an alpha channel.
  public var hasAlpha: Bool { channels == 2 || channels == 4 }

  /// Converts between gray / gray+alpha / RGB / RGBA. RGB to gray uses Pillow's ITU-R 601-2 luma in fixed point
  /// (`(19595 R + 38470 G + 7471 B + 32768) >> 16`); dropped alpha is discarded; added alpha is 255.
  public func converted(channels target: Int) throws -> Image {
    try Self.checkGeometry(width: width, height: height, channels: target, count: nil)
    if target == channels { return self }
    let n = width * height
    var out = [UInt8](repeating: 255, count: n * target)
    let colorIn = channels >= 3
    let colorOut = target >= 3
    for i in 0..<n {
      let src = i * channels
      let dst = i * target
      if colorOut {
        for c in 0..<3 { out[dst + c] = colorIn ? pixels[src + c] : pixels[src] }
      } else if colorIn {
        let r = UInt32(pixels[src]), g = UInt32(pixels[src + 1]), b = UInt32(pixels[src + 2])
        out[dst] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
      } else {
        out[dst] = pixels[src]
      }
      if target == 2 || target == 4, hasAlpha { out[dst + target - 1] = pixels[src + channels - 1] }
    }
    return Image(unchecked: width, height, target, out)
  }

  /// The region at (`x`, `y`) of the given size; parts outside the image are filled with zeros.
  public func cropped(x: Int, y: Int, width w: Int, height h: Int) throws -> Image {
    var out = try Image(width: w, height: h, channels: channels)
    let x0 = max(0, x), x1 = min(width, x + w)
    guard x1 > x0 else { return out }
    for row in 0..<h {
      let sy = y + row
      guard sy >= 0, sy < height else { continue }
      let src = (sy * width + x0) * channels
      let dst = (row * w + (x0 - x)) * channels
      out.pixels.replaceSubrange(dst..<(dst + (x1 - x0) * channels), with: pixels[src..<(src + (x1 - x0) * channels)])
    }
    return out
  }

  /// torchvision's `CenterCrop`: offsets `round((H - h) / 2)` and `round((W - w) / 2)` (half to even),
  /// zero-padding first when the crop is larger than the image.
  public func centerCropped(width w: Int, height h: Int) throws -> Image {
    let top = Int((Double(height - h) / 2).rounded(.toNearestOrEven))
    let left = Int((Double(width - w) / 2).rounded(.toNearestOrEven))
    return try cropped(x: left, y: top, width: w, height: h)
  }

  /// The mirror image (left and right swapped).
  public func flippedHorizontally() -> Image {
    var out = pixels
    for y in 0..<height {
      for x in 0..<width {
        let src = (y * width + x) * channels
        let dst = (y * width + (width - 1 - x)) * channels
        for c in 0..<channels { out[dst + c] = pixels[src + c] }
      }
    }
    return Image(unchecked: width, height, channels, out)
  }

  /// Value range of float pixel data.
  public enum FloatRange: Sendable {
    /// `v / 255` (torchvision `ToTensor`).
    case zeroToOne
    /// `v / 127.5 - 1` (`Normalize([0.5], [0.5])` after `ToTensor`, as diffusers trains).
    case minusOneToOne
  }

  /// The samples as planar CHW floats.
  public func floatsCHW(_ range: FloatRange = .zeroToOne) -> [Float] {
    let n = width * height
    var out = [Float](repeating: 0, count: n * channels)
    for i in 0..<n {
      for c in 0..<channels {
        let v = Float(pixels[i * channels + c]) / 255
        out[c * n + i] = range == .zeroToOne ? v : v * 2 - 1
      }
    }
    return out
  }

  /// An image from planar CHW floats: clamped to the range, scaled to 0...255 and rounded half to even
  /// (as diffusers' `numpy_to_pil`).
  public init(chw values: [Float], width: Int, height: Int, channels: Int, range: FloatRange = .zeroToOne) throws {
    try Self.checkGeometry(width: width, height: height, channels: channels, count: values.count)
    let n = width * height
    var out = [UInt8](repeating: 0, count: values.count)
    for c in 0..<channels {
      for i in 0..<n {
        var v = values[c * n + i]
        if range == .minusOneToOne { v = v / 2 + 0.5 }
        let clamped = v.isNaN ? 0 : min(max(v, 0), 1)
        out[i * channels + c] = UInt8((clamped * 255).rounded(.toNearestOrEven))
      }
    }
    self.init(unchecked: width, height, channels, out)
  }
}

/// A 16-bit image (from 16-bit PNGs), samples in native order, HWC.
public struct Image16: Sendable, Equatable {
  /// Pixels per row.
  public let width: Int
  /// Number of rows.
  public let height: Int
  /// Samples per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
  public let channels: Int
  /// `width * height * channels` samples.
  public var samples: [UInt16]

  /// An image over existing samples; throws unless the count matches the geometry.
  public init(width: Int, height: Int, channels: Int, samples: [UInt16]) throws {
    try Image.checkGeometry(width: width, height: height, channels: channels, count: samples.count)
    self.width = width
    self.height = height
    self.channels = channels
    self.samples = samples
  }

  /// The 8-bit image keeping each sample's high byte (libpng's `png_set_strip_16`, Pillow's `RGB;16B` unpacking).
  public var image8: Image { Image(unchecked: width, height, channels, samples.map { UInt8($0 >> 8) }) }
}

extension Image {
  /// Reads a PNG or JPEG file (by signature). 16-bit PNGs are reduced to 8 bits by their high byte.
  public static func read(_ path: String) throws -> Image {
    let bytes = try readFileBytes(path, limit: 1 << 30)
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNG.decode(bytes, file: path).image8 }
    if bytes.starts(with: [0xFF, 0xD8]) { return try JPEG.decode(bytes, file: path) }
    throw FormatError(.image, file: path, "not a PNG or JPEG file (unknown signature)")
  }

  /// Writes the image as PNG, atomically.
  public func write(to path: String) throws { try PNG.write(self, to: path) }
}
