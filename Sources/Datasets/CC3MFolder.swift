// CC3MFolder: the Conceptual Captions folder layout — export the shapes world to it, and read it back (or the real one).

import Foundation
import Formats
import TensorCore

/// A split in the CC3M layout: `<folder>/<tsv>` (caption TAB link, no header) and
/// `<folder>/<split dir>/<row>_<hash>` image files without extension. Rows are ordered by the
/// listing sorted by row number (a deterministic order, which the mapped-indices files rely on).
public final class CC3MSplit: Sendable {
  public static let trainFiles = (tsv: "Train_GCC-training.tsv", dir: "training")
  public static let validationFiles = (tsv: "Validation_GCC-1.1.0-Validation.tsv", dir: "validation")

  public let folder: String
  /// (image path, caption) per sample, in row order.
  public let samples: [(path: String, caption: String)]

  /// Reads the split: `train` or `validation`. Images listed without a TSV row are an error; TSV
  /// rows without an image are simply absent (as in the original).
  public init(folder: String, split: String) throws {
    let files: (tsv: String, dir: String)
    switch split {
    case "train": files = Self.trainFiles
    case "validation":
      let alternative = folder + "/Val_GCC-1.1.0-Validation.tsv"
      files = FileManager.default.fileExists(atPath: folder + "/" + Self.validationFiles.tsv) || !FileManager.default.fileExists(atPath: alternative)
        ? Self.validationFiles : (tsv: "Val_GCC-1.1.0-Validation.tsv", dir: "validation")
    default: throw DatasetError("CC3M split must be train or validation, not \(split)")
    }
    self.folder = folder
    let tsvPath = folder + "/" + files.tsv
    guard let text = String(data: try Data(contentsOf: URL(fileURLWithPath: tsvPath)), encoding: .utf8) else {
      throw DatasetError("\(tsvPath): not UTF-8 text")
    }
    let captions = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      String(line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }
    let dir = folder + "/" + files.dir
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { throw DatasetError("\(dir): no such folder") }
    var rows: [(Int, String)] = []
    for name in names where !name.hasPrefix(".") {
      guard let row = Int(name.split(separator: "_").first ?? ""), row >= 0, row < captions.count else {
        throw DatasetError("\(dir)/\(name): the name does not start with a row of \(files.tsv) (0..<\(captions.count))")
      }
      rows.append((row, name))
    }
    rows.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    samples = rows.map { (dir + "/" + $0.1, captions[$0.0]) }
  }

  /// The image of sample i as 8-bit RGB (PNG or JPEG by content).
  public func image(_ i: Int) throws -> Image {
    guard i >= 0, i < samples.count else { throw DatasetError("sample \(i) is outside 0..<\(samples.count)") }
    let path = samples[i].path
    let bytes = try readFileBytes(path)
    let image = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? try PNG.decode(bytes, file: path).image8 : try JPEG.decode(bytes, file: path)
    guard image.channels == 3 else { throw DatasetError("\(path): expected an RGB image, got \(image.channels) channels") }
    return image
  }
}

extension CC3MSplit {
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

extension ShapesWorld {
  /// Writes both splits in the CC3M layout (PNG bytes in extension-less files `<row>_<hash>`,
  /// links `shapes://<split>/<row>`), so other tools can train on the shapes world.
  public func exportCC3M(to folder: String, train: Int? = nil, validation: Int? = nil) throws {
    for (split, files, count) in [(Split.train, CC3MSplit.trainFiles, train ?? trainCount), (.validation, CC3MSplit.validationFiles, validation ?? validationCount)] {
      let dir = folder + "/" + files.dir
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      var tsv = ""
      for i in 0..<min(count, self.count(split)) {
        let s = scene(split, i)
        tsv += s.caption + "\tshapes://\(split.rawValue)/\(i)\n"
        let hash = String(UInt32(truncatingIfNeeded: generator(split, i).next()), radix: 10)
        try AtomicFile.write(to: dir + "/\(i)_\(hash)", bytes: try PNG.encode(try render(s)))
      }
      try AtomicFile.write(to: folder + "/" + files.tsv, bytes: Array(tsv.utf8))
    }
  }
}
