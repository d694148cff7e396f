// ShapesReport: how a split of the shapes world is distributed — objects, complexity, relations, shapes, colours.

/// Counts over the first `count` scenes of a split (captions only; nothing is rendered).
public struct ShapesReport: Sendable {
  /// Scenes counted.
  public var scenes = 0
  /// Scenes per number of objects (1...4) and per complexity score.
  public var objects: [Int: Int] = [:], complexity: [Int: Int] = [:]
  /// Scenes with a spatial relation, and with a background mentioned in the caption.
  public var withRelation = 0
  /// Objects per shape kind and per colour.
  public var kinds: [String: Int] = [:], colors: [String: Int] = [:]

  /// The mean complexity score.
  public var meanComplexity: Double {
    scenes == 0 ? 0 : Double(complexity.reduce(0) { $0 + $1.key * $1.value }) / Double(scenes)
  }
}

extension ShapesWorld {
  /// The distribution of the first `count` scenes of `split` (all of it by default).
  public func report(_ split: Split, count: Int? = nil) -> ShapesReport {
    var r = ShapesReport()
    for i in 0..<max(0, min(count ?? self.count(split), self.count(split))) {
      let s = scene(split, i)
      r.scenes += 1
      r.objects[s.objects.count, default: 0] += 1
      r.complexity[s.complexity, default: 0] += 1
      if s.relation != nil { r.withRelation += 1 }
      for o in s.objects {
        r.kinds[o.kind.rawValue, default: 0] += 1
        r.colors[o.color.rawValue, default: 0] += 1
      }
    }
    return r
  }
}
