// ShapesWorld: the deterministic captioned shapes dataset — scene sampling, captions, rendering to images and tensors.

import Formats
import TensorCore

/// A procedurally generated captioned image dataset: sample i of split s is a pure function of
/// (seed, s, i). Scenes have 1-4 objects in up to two groups; captions name counts, sizes,
/// colours, shapes, a spatial relation between the groups and the background.
public struct ShapesWorld: Sendable {
  public enum Split: String, Sendable, CaseIterable { case train, validation }

  public var seed: UInt64
  /// Image side in pixels (32 by default; 64 works too).
  public var resolution: Int
  /// Samples per split.
  public var trainCount: Int, validationCount: Int

  public init(seed: UInt64 = 0, resolution: Int = 32, trainCount: Int = 50_000, validationCount: Int = 1_000) {
    self.seed = seed
    self.resolution = resolution
    self.trainCount = trainCount
    self.validationCount = validationCount
  }

  public func count(_ split: Split) -> Int { split == .train ? trainCount : validationCount }

  /// The generator of one sample.
  func generator(_ split: Split, _ index: Int) -> Generator {
    let splitCode: UInt64 = split == .train ? 0x7472_6169_6E00 : 0x7661_6C69_6400
    var h = seed &* 0x9E37_79B9_7F4A_7C15 ^ splitCode
    h = (h ^ UInt64(index)) &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 31
    return Generator(seed: h)
  }

  /// The scene (objects, caption) of sample `index`.
  public func scene(_ split: Split, _ index: Int) -> ShapesScene {
    var sampler = SceneSampler(generator: generator(split, index))
    return sampler.scene()
  }

  /// The image of a scene as 8-bit RGB.
  public func render(_ scene: ShapesScene) throws -> Image {
    try ShapesRenderer(resolution: resolution).render(scene)
  }

  /// Images [N, 3, H, W] in [-1, 1] and captions for the given samples.
  public func batch(_ split: Split, _ indices: [Int]) throws -> (images: Tensor, captions: [String], scenes: [ShapesScene]) {
    let r = resolution
    let out = Tensor(shape: [indices.count, 3, r, r], zeroed: false)
    var captions: [String] = [], scenes: [ShapesScene] = []
    for (n, i) in indices.enumerated() {
      guard i >= 0, i < count(split) else { throw DatasetError("sample \(i) is outside the \(split.rawValue) split (0..<\(count(split)))") }
      let s = scene(split, i)
      let image = try render(s)
      for c in 0..<3 {
        for p in 0..<(r * r) { out.data[((n * 3) + c) * r * r + p] = Float(image.pixels[p * 3 + c]) / 127.5 - 1 }
      }
      captions.append(s.caption)
      scenes.append(s)
    }
    return (out, captions, scenes)
  }
}

/// Draws one scene's objects, background and caption from a generator.
struct SceneSampler {
  let generator: Generator

  func uniform() -> Float { generator.nextFloat() }
  func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }

  mutating func scene() -> ShapesScene {
    // Object count 1-4, skewed so that every complexity is common.
    let total = pick([1, 1, 2, 2, 2, 3, 3, 4])
    let groupCount = total == 1 ? 1 : pick([1, 2, 2])
    let firstCount = groupCount == 1 ? total : Int(generator.next() % UInt64(total - 1)) + 1
    let counts = groupCount == 1 ? [total] : [firstCount, total - firstCount]
    var groups: [(kind: ShapeKind, color: ShapeColor, size: ShapeSize, count: Int)] = []
    for c in counts {
      var g = (kind: pick(ShapeKind.allCases), color: pick(ShapeColor.allCases), size: pick([ShapeSize.small, .large]), count: c)
      while groups.contains(where: { $0.kind == g.kind && $0.color == g.color }) { g.color = pick(ShapeColor.allCases) }
      groups.append(g)
    }
    let background = pick([ShapeBackground.black, .black, .dark, .gray, .light])
    for i in groups.indices where groups[i].color == .white && background == .light { groups[i].color = .purple }
    let relation: ShapeRelation? = groups.count == 2 && uniform() < 0.7 ? pick([.above, .below, .leftOf, .rightOf]) : nil
    let objects = layout(groups, relation: relation)
    let caption = CaptionGrammar(generator: generator).caption(groups: groups, relation: relation, background: background)
    let attributes = groups.count * 2 + (background == .black ? 0 : 1)
    return ShapesScene(
      objects: objects, background: background, relation: relation, caption: caption,
      complexity: total + attributes + (relation == nil ? 0 : 2))
  }

  /// Places each group in its own region (respecting the relation), objects side by side inside it.
  func layout(_ groups: [(kind: ShapeKind, color: ShapeColor, size: ShapeSize, count: Int)], relation: ShapeRelation?) -> [ShapeObject] {
    var regions: [(x0: Float, y0: Float, x1: Float, y1: Float)]
    if groups.count == 1 {
      regions = [(0, 0, 1, 1)]
    } else {
      let vertical = relation == .above || relation == .below || (relation == nil && uniform() < 0.5)
      let (a, b): ((Float, Float, Float, Float), (Float, Float, Float, Float)) =
        vertical ? ((0, 0, 1, 0.5), (0, 0.5, 1, 1)) : ((0, 0, 0.5, 1), (0.5, 0, 1, 1))
      let firstIsTopOrLeft = relation == nil ? uniform() < 0.5 : (relation == .above || relation == .leftOf)
      regions = firstIsTopOrLeft ? [a, b] : [b, a]
    }
    var objects: [ShapeObject] = []
    for (g, region) in zip(groups, regions) {
      let w = region.x1 - region.x0, h = region.y1 - region.y0
      let horizontal = w >= h
      for k in 0..<g.count {
        let slots = Float(g.count)
        let along = (Float(k) + 0.5) / slots
        let cellW = horizontal ? w / slots : w, cellH = horizontal ? h : h / slots
        let maxR = Swift.min(cellW, cellH) / 2
        let radius = maxR * (g.size == .large ? 0.78 + 0.14 * uniform() : 0.42 + 0.12 * uniform())
        let jitter = (maxR - radius) * 0.8
        let cx = (horizontal ? region.x0 + along * w : region.x0 + w / 2) + (uniform() * 2 - 1) * jitter
        let cy = (horizontal ? region.y0 + h / 2 : region.y0 + along * h) + (uniform() * 2 - 1) * jitter
        objects.append(ShapeObject(kind: g.kind, color: g.color, size: g.size, x: cx, y: cy, radius: radius, rotation: uniform() * 0.6 - 0.3))
      }
    }
    return objects
  }
}

/// An error about a dataset: a missing file, a bad row, an index out of range.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
