// COCOFolder: MS-COCO captions in the original's layout — one row per caption annotation, and the COCO-30k evaluation sample.

import Foundation

extension CaptionedImages {
  /// MS-COCO `split` ("train" or "val") of `year`: `<folder>/annotations/captions_<split><year>.json`
  /// read as one row per caption annotation in file order, with the image
  /// `<folder>/images/<split><year>/COCO_<split><year>_<id:012d>.jpg` (2014; `<id:012d>.jpg` for other years).
  public static func coco(folder: String, split: String, year: Int = 2014) throws -> CaptionedImages {
    guard split == "train" || split == "val" else { throw DatasetError("COCO split must be train or val, not \(split)") }
    let rows = try cocoAnnotations(folder: folder, split: split, year: year)
    return CaptionedImages(folder: folder, samples: rows.map { (cocoImagePath(folder, split, year, $0.image), $0.caption) })
  }

  /// The original's COCO-30k evaluation set (`sample_coco_30k.py`): the first caption annotation of
  /// every validation image (file order), then `np.random.seed(seed); np.random.choice(N, count,
  /// replace=False)` — the same images and captions, in the same order.
  public static func coco30k(folder: String, count: Int = 30_000, seed: UInt32 = 42, year: Int = 2014) throws -> CaptionedImages {
    var seen = Set<Int>()
    let firsts = try cocoAnnotations(folder: folder, split: "val", year: year).filter { seen.insert($0.image).inserted }
    guard count >= 0, count <= firsts.count else {
      throw DatasetError("COCO val\(year) has \(firsts.count) images; cannot sample \(count) without replacement (need 0...\(firsts.count))")
    }
    var random = NumpyLegacyRandom(seed: seed)
    let picked = random.choice(firsts.count, count).map { firsts[$0] }
    return CaptionedImages(folder: folder, samples: picked.map { (cocoImagePath(folder, "val", year, $0.image), $0.caption) })
  }

  static func cocoImagePath(_ folder: String, _ split: String, _ year: Int, _ id: Int) -> String {
    let digits = String(id)
    let padded = String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    let name = year == 2014 ? "COCO_\(split)\(year)_\(padded).jpg" : "\(padded).jpg"
    return "\(folder)/images/\(split)\(year)/\(name)"
  }

  /// (image id, caption) per annotation, in file order.
  static func cocoAnnotations(folder: String, split: String, year: Int) throws -> [(image: Int, caption: String)] {
    let path = "\(folder)/annotations/captions_\(split)\(year).json"
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("\(path): no such file") }
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw DatasetError("\(path): not a JSON object")
    }
    guard let annotations = root["annotations"] as? [[String: Any]] else {
      throw DatasetError("\(path): no \"annotations\" list")
    }
    return try annotations.enumerated().map { i, a in
      guard let id = (a["image_id"] as? NSNumber)?.intValue, let caption = a["caption"] as? String else {
        throw DatasetError("\(path): annotation \(i) lacks an integer image_id or a caption string")
      }
      return (id, caption)
    }
  }
}
