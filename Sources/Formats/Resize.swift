// Resize: Pillow-compatible `Image.resize` (nearest, box, bilinear, hamming, bicubic, lanczos): separable
// convolution whose filter support grows with the downscale factor (antialiasing), 22-bit fixed-point weights,
// rounding and clipping to uint8 after each pass, premultiplied alpha for RGBA and LA; pass order as Pillow 13.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Resampling filters, with Pillow's definitions and supports.
public enum ResampleFilter: String, Sendable, CaseIterable {
  case nearest, box, bilinear, hamming, bicubic, lanczos

  /// Half-width of the filter at scale 1.
  var support: Double {
    switch self {
    case .nearest, .box: return 0.5
    case .bilinear, .hamming: return 1
    case .bicubic: return 2
    case .lanczos: return 3
    }
  }

  func weight(_ x: Double) -> Double {
    switch self {
    case .nearest, .box: return x > -0.5 && x <= 0.5 ? 1 : 0
    case .bilinear:
      let a = abs(x)
      return a < 1 ? 1 - a : 0
    case .hamming:
      let a = abs(x)
      if a == 0 { return 1 }
      if a >= 1 { return 0 }
      let p = a * Double.pi
      return sin(p) / p * (Double(Float(0.54)) + Double(Float(0.46)) * cos(p))
    case .bicubic:
      let a = abs(x), c = -0.5
      if a < 1 { return ((c + 2) * a - (c + 3)) * a * a + 1 }
      if a < 2 { return (((a - 5) * a + 8) * a - 4) * c }
      return 0
    case .lanczos:
      guard x >= -3, x < 3 else { return 0 }
      return sinc(x) * sinc(x / 3)
    }
  }

  private func sinc(_ x: Double) -> Double {
    if x == 0 { return 1 }
    let p = x * Double.pi
    return sin(p) / p
  }
}

/// Fixed-point precision of the weights: 32 - 8 - 2 bits, as in Pillow.
private let precisionBits = 22

/// Per-output-pixel source window and fixed-point weights along one axis.
private struct Coefficients {
  var start: [Int] = []
  var count: [Int] = []
  var weights: [Int] = []
  var stride = 0

  init(inSize: Int, outSize: Int, filter: ResampleFilter) {
    let scale = Double(Float(inSize)) / Double(outSize)
    let filterScale = max(scale, 1)
    let support = filter.support * filterScale
    stride = Int(support.rounded(.up)) * 2 + 1
    weights = [Int](repeating: 0, count: outSize * stride)
    var k = [Double](repeating: 0, count: stride)
    for xx in 0..<outSize {
      let center = (Double(xx) + 0.5) * scale
      let ss = 1 / filterScale
      let xmin = max(0, Int(center - support + 0.5))
      let xmax = min(inSize, Int(center + support + 0.5)) - xmin
      var total = 0.0
      for x in 0..<max(0, xmax) {
        k[x] = filter.weight((Double(x + xmin) - center + 0.5) * ss)
        total += k[x]
      }
      for x in 0..<max(0, xmax) {
        let w = total != 0 ? k[x] / total : k[x]
        let scaled = w * Double(1 << precisionBits)
        weights[xx * stride + x] = Int(w < 0 ? scaled - 0.5 : scaled + 0.5)
      }
      start.append(xmin)
      count.append(max(0, xmax))
    }
  }
}

@inline(__always)
private func clip8(_ v: Int) -> UInt8 {
  let shifted = v >> precisionBits
  return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(shifted)
}

extension Image {
  /// Resizes like Pillow 13's `Image.resize((width, height), filter)` (default `reducing_gap=None`): results match
  /// Pillow's uint8 output exactly. Downscaling widens the filter by the scale factor (antialiasing). RGBA and LA
  /// images are resampled with premultiplied alpha, as Pillow does.
  public func resized(width w: Int, height h: Int, filter: ResampleFilter = .bicubic) throws -> Image {
    guard w > 0, h > 0 else { throw FormatError(.image, file: "<image>", "resize target \(w)x\(h) must be positive") }
    try Self.checkGeometry(width: w, height: h, channels: channels, count: nil)
    if w == width && h == height { return self }
    guard width > 0, height > 0 else { throw FormatError(.image, file: "<image>", "cannot resize an empty image") }
    if filter == .nearest { return nearest(w, h) }
    let premultiplied = hasAlpha ? premultiplyingAlpha() : self
    let result = premultiplied.convolved(w, h, filter)
    return hasAlpha ? result.unpremultiplyingAlpha() : result
  }

  /// Pillow's nearest-neighbour scaling: source coordinate `(x + 0.5) * scale`, accumulated in doubles.
  private func nearest(_ w: Int, _ h: Int) -> Image {
    let sx = Double(Float(width)) / Double(w), sy = Double(Float(height)) / Double(h)
    var columns = [Int](repeating: 0, count: w)
    var xo = sx * 0.5
    for x in 0..<w {
      columns[x] = min(width - 1, Int(xo))
      xo += sx
    }
    var out = [UInt8](repeating: 0, count: w * h * channels)
    var yo = sy * 0.5
    for y in 0..<h {
      let row = min(height - 1, Int(yo))
      yo += sy
      for x in 0..<w {
        let src = (row * width + columns[x]) * channels, dst = (y * w + x) * channels
        for c in 0..<channels { out[dst + c] = pixels[src + c] }
      }
    }
    return Image(unchecked: w, h, channels, out)
  }

  /// Two separable passes, each rounded and clipped to uint8. Pillow (>= 13) runs the vertical pass first when the
  /// height shrinks by more than twice as many pixels as the width (`H - h > 2 (W - w)`); otherwise horizontal
  /// first, over only the rows the vertical pass reads. (Pillow 12 and earlier always ran horizontal first.)
  private func convolved(_ w: Int, _ h: Int, _ filter: ResampleFilter) -> Image {
    let vertical = Coefficients(inSize: height, outSize: h, filter: filter)
    if w == width { return resampleColumns(h, vertical, rowOffset: 0) }
    let horizontal = Coefficients(inSize: width, outSize: w, filter: filter)
    if h == height { return resampleRows(w, horizontal, rows: 0..<height) }
    let verticalFirst = h < height && height - h > 2 * (width - w)
    if verticalFirst {
      return resampleColumns(h, vertical, rowOffset: 0).resampleRows(w, horizontal, rows: 0..<h)
    }
    let first = vertical.start[0]
    let last = vertical.start[h - 1] + vertical.count[h - 1]
    return resampleRows(w, horizontal, rows: first..<last).resampleColumns(h, vertical, rowOffset: first)
  }

  /// Horizontal pass over `rows` of this image, producing `w` columns.
  private func resampleRows(_ w: Int, _ c: Coefficients, rows: Range<Int>) -> Image {
    var out = [UInt8](repeating: 0, count: w * rows.count * channels)
    pixels.withUnsafeBufferPointer { src in
      for y in rows {
        for x in 0..<w {
          let base = x * c.stride, x0 = c.start[x]
          for ch in 0..<channels {
            var sum = 1 << (precisionBits - 1)
            for i in 0..<c.count[x] { sum += Int(src[(y * width + x0 + i) * channels + ch]) * c.weights[base + i] }
            out[((y - rows.lowerBound) * w + x) * channels + ch] = clip8(sum)
          }
        }
      }
    }
    return Image(unchecked: w, rows.count, channels, out)
  }

  /// Vertical pass producing `h` rows; this image's row 0 is source row `rowOffset`.
  private func resampleColumns(_ h: Int, _ c: Coefficients, rowOffset: Int) -> Image {
    var out = [UInt8](repeating: 0, count: width * h * channels)
    pixels.withUnsafeBufferPointer { src in
      for y in 0..<h {
        let base = y * c.stride, y0 = c.start[y] - rowOffset
        for x in 0..<width {
          for ch in 0..<channels {
            var sum = 1 << (precisionBits - 1)
            for i in 0..<c.count[y] { sum += Int(src[((y0 + i) * width + x) * channels + ch]) * c.weights[base + i] }
            out[(y * width + x) * channels + ch] = clip8(sum)
          }
        }
      }
    }
    return Image(unchecked: width, h, channels, out)
  }

  /// Pillow's RGBA -> RGBa: `c * a / 255` rounded with its MULDIV255 trick.
  private func premultiplyingAlpha() -> Image {
    var out = pixels
    for p in stride(from: 0, to: out.count, by: channels) {
      let alpha = Int(out[p + channels - 1])
      for c in 0..<(channels - 1) {
        let t = Int(out[p + c]) * alpha + 128
        out[p + c] = UInt8(((t >> 8) + t) >> 8)
      }
    }
    return Image(unchecked: width, height, channels, out)
  }

  /// Pillow's RGBa -> RGBA: `255 * c / a` truncated and clipped; alpha 0 and 255 leave colours as they are.
  private func unpremultiplyingAlpha() -> Image {
    var out = pixels
    for p in stride(from: 0, to: out.count, by: channels) {
      let alpha = Int(out[p + channels - 1])
      guard alpha != 0, alpha != 255 else { continue }
      for c in 0..<(channels - 1) { out[p + c] = UInt8(min(255, 255 * Int(out[p + c]) / alpha)) }
    }
    return Image(unchecked: width, height, channels, out)
  }
}
