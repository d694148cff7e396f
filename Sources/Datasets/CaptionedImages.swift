// CaptionedImages: a dataset of (image file, caption) rows — reading images and the original's training transform.

import Formats
import Foundation
import TensorCore

/// Rows of (image path, caption) in a fixed order (the order the mapped-indices files refer to),
/// from the CC3M or COCO layouts (`cc3m(folder:split:)`, `coco(folder:split:year:)`).
public final class CaptionedImages: Sendable {
  /// The dataset's root folder.
  public let folder: String
  /// (image path, caption) per sample, in row order.
  public let samples: [(path: String, caption: String)]

  /// Rows given directly (the layout readers build them).
  public init(folder: String, samples: [(path: String, caption: String)]) {
    self.folder = folder
    self.samples = samples
  }

  /// The image of sample i as 8-bit RGB (PNG or JPEG by content; grey or RGBA converted).
  public func image(_ i: Int) throws -> Image {
    guard i >= 0, i < samples.count else { throw DatasetError("sample \(i) is outside 0..<\(samples.count)") }
    let path = samples[i].path
    let bytes = try readFileBytes(path)
    let image = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? try PNG.decode(bytes, file: path).image8 : try JPEG.decode(bytes, file: path)
    return image.channels == 3 ? image : try image.converted(channels: 3)
  }
}

extension CaptionedImages {
  /// The original's training transform for a batch of samples: resize the shortest side to
  /// `resolution` (Pillow bilinear, as torchvision's `Resize` on PIL images), center crop, an
  /// optional horizontal flip drawn from `flips`, and normalisation to [-1, 1]. Unreadable or
  /// corrupt images are skipped and their paths returned, as the original skips them with a count.
  public func batch(_ indices: [Int], resolution r: Int, flips: Generator? = nil) throws -> (images: Tensor, captions: [String], skipped: [String]) {
    guard r > 0 else { throw DatasetError("resolution must be positive, not \(r)") }
    var pixels: [Float] = [], captions: [String] = [], skipped: [String] = []
    for i in indices {
      guard i >= 0, i < samples.count else { throw DatasetError("sample \(i) is outside 0..<\(samples.count)") }
      guard let decoded = try? image(i) else {
        skipped.append(samples[i].path)
        continue
      }
      var picture = try Self.resizedShortestSide(decoded, to: r).centerCropped(width: r, height: r)
      if let flips, flips.nextFloat() < 0.5 { picture = picture.flippedHorizontally() }
      pixels += picture.floatsCHW(.minusOneToOne)
      captions.append(samples[i].caption)
    }
    return (Tensor(pixels, shape: [captions.count, 3, r, r]), captions, skipped)
  }

  static func resizedShortestSide(_ image: Image, to r: Int) throws -> Image {
    let short = min(image.width, image.height)
    guard short != r else { return image }
    // torchvision: the long side is int(r * long / short), truncated.
    let w = image.width == short ? r : Int(Double(r) * Double(image.width) / Double(short))
    let h = image.height == short ? r : Int(Double(r) * Double(image.height) / Double(short))
    return try image.resized(width: w, height: h, filter: .bilinear)
  }
}

