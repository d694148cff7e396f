// CC3MFolder: the Conceptual Captions folder layout — read it (the original's TSV + image folders), and export the shapes world to it.

import Foundation
import Formats

/// The CC3M layout: `<folder>/<tsv>` (caption TAB link, no header) and `<folder>/<split dir>/<row>_<hash>`
/// image files without extension.
public enum CC3MLayout {
  public static let trainFiles = (tsv: "Train_GCC-training.tsv", dir: "training")
  public static let validationFiles = (tsv: "Validation_GCC-1.1.0-Validation.tsv", dir: "validation")
}

extension CaptionedImages {
  /// A CC3M split, `train` or `validation`, in row order (the listing sorted by row number: a
  /// deterministic order, which the mapped-indices files rely on). Images listed without a TSV row
  /// are an error; TSV rows without an image are simply absent (as in the original).
  public static func cc3m(folder: String, split: String) throws -> CaptionedImages {
    let files: (tsv: String, dir: String)
    switch split {
    case "train": files = CC3MLayout.trainFiles
    case "validation":
      // The seed README calls the validation TSV Val_GCC-1.1.0-Validation.tsv; accept either.
      let alternative = "Val_GCC-1.1.0-Validation.tsv"
      let standard = FileManager.default.fileExists(atPath: folder + "/" + CC3MLayout.validationFiles.tsv)
      files = standard || !FileManager.default.fileExists(atPath: folder + "/" + alternative) ? CC3MLayout.validationFiles : (alternative, "validation")
    default: throw DatasetError("CC3M split must be train or validation, not \(split)")
    }
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
    return CaptionedImages(folder: folder, samples: rows.map { (dir + "/" + $0.1, captions[$0.0]) })
  }
}

extension ShapesWorld {
  /// Writes both splits in the CC3M layout (PNG bytes in extension-less files `<row>_<hash>`,
  /// links `shapes://<split>/<row>`), so other tools can train on the shapes world.
  public func exportCC3M(to folder: String, train: Int? = nil, validation: Int? = nil) throws {
    for (split, files, count) in [(Split.train, CC3MLayout.trainFiles, train ?? trainCount), (.validation, CC3MLayout.validationFiles, validation ?? validationCount)] {
      let dir = folder + "/" + files.dir
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      var tsv = ""
      for i in 0..<max(0, min(count, self.count(split))) {
        let s = scene(split, i)
        tsv += s.caption + "\tshapes://\(split.rawValue)/\(i)\n"
        let hash = String(UInt32(truncatingIfNeeded: generator(split, i).next()), radix: 10)
        try AtomicFile.write(to: dir + "/\(i)_\(hash)", bytes: try PNG.encode(try render(s)))
      }
      try AtomicFile.write(to: folder + "/" + files.tsv, bytes: Array(tsv.utf8))
    }
  }
}
