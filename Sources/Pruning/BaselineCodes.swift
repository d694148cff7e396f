// BaselineCodes: static architecture codes for the baselines — magnitude, random and uniform width — at a MACs target.

import Diffusion
import TensorCore

/// One code for every prompt, meeting a target on total MACs (the expert's op-counter MACs over the
/// full model's, as `ResourceModel.expertMACs` counts them). Depth gates stay on; every width gate
/// keeps at least one group. Greedy removal stops at the first code at or below the target.
public enum BaselineCodes {
  /// Magnitude pruning: the width groups with the smallest L1 norm (of the weights that produce and
  /// consume them, relative to their module's mean) are removed first, across the whole UNet.
  public static func magnitude(_ unet: UNet2DConditionModel, structure: GateStructure, resources: ResourceModel, target: Double) throws -> [Float] {
    let score = try importance(unet, structure: structure)
    let order = (0..<structure.sumWidth).sorted { score[$0] < score[$1] || (score[$0] == score[$1] && $0 < $1) }
    return try removeInOrder(order, structure: structure, resources: resources, target: target)
  }

  /// Random pruning: width groups removed in a seeded random order.
  public static func random(structure: GateStructure, resources: ResourceModel, target: Double, seed: UInt64) throws -> [Float] {
    let g = Generator(seed: seed)
    var order = Array(0..<structure.sumWidth)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(g.next() % UInt64(i + 1))) }
    return try removeInOrder(order, structure: structure, resources: resources, target: target)
  }

  /// Uniform width: every width gate keeps the same fraction of its groups (its largest-norm
  /// ones, rounded up), the largest fraction that meets the target found by bisection; then the
  /// best-scoring removed groups are given back while the target holds (widths stay near-uniform).
  public static func uniform(_ unet: UNet2DConditionModel, structure: GateStructure, resources: ResourceModel, target: Double) throws -> [Float] {
    let score = try importance(unet, structure: structure)
    func code(_ fraction: Double) -> [Float] {
      var c = [Float](repeating: 1, count: structure.length)
      for (start, width) in segments(structure) {
        let keep = max(1, Int((Double(width) * fraction).rounded(.up)))
        let ranked = (start..<(start + width)).sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
        for column in ranked.dropFirst(keep) { c[column] = 0 }
      }
      return c
    }
    var (low, high) = (0.0, 1.0)
    for _ in 0..<40 {
      let mid = (low + high) / 2
      if try ratio(code(mid), resources) > target { high = mid } else { low = mid }
    }
    // Group counts are whole numbers, so the MACs jump between fractions: from the code below the
    // target, give back the best-scoring removed groups one at a time while the target still holds.
    var best = code(low)
    let removed = (0..<structure.sumWidth).filter { best[$0] == 0 }.sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
    for column in removed {
      best[column] = 1
      if try ratio(best, resources) > target { best[column] = 0 }
    }
    return best
  }

  /// The expert's MACs over the full model's.
  public static func ratio(_ code: [Float], _ resources: ResourceModel) throws -> Double {
    try resources.expertMACs(code) / resources.opCounterTotal
  }

  /// (first column, width) of every width gate, in vector order.
  static func segments(_ s: GateStructure) -> [(Int, Int)] {
    s.entries.flatMap { e -> [(Int, Int)] in
      var column = e.widthOffset
      return e.widths.map { w in
        defer { column += w }
        return (column, w)
      }
    }
  }

  static func removeInOrder(_ order: [Int], structure: GateStructure, resources: ResourceModel, target: Double) throws -> [Float] {
    guard target > 0, target <= 1 else { throw PruningError("a MACs target must be in (0, 1], got \(target)") }
    var code = [Float](repeating: 1, count: structure.length)
    var segmentOf = [Int](repeating: 0, count: structure.sumWidth), kept: [Int] = []
    for (k, (start, width)) in segments(structure).enumerated() {
      for c in start..<(start + width) { segmentOf[c] = k }
      kept.append(width)
    }
    var current = try ratio(code, resources)
    for column in order where current > target {
      guard kept[segmentOf[column]] > 1 else { continue }
      code[column] = 0
      kept[segmentOf[column]] -= 1
      current = try ratio(code, resources)
    }
    guard current <= target * 1.03 else {
      throw PruningError("keeping one group per gate still leaves \(current) of the MACs, above the target \(target)")
    }
    return code
  }

  /// L1 norm per width column of the weights that produce and consume that group, divided by the
  /// mean over its gate (so modules of different scale compare).
  static func importance(_ unet: UNet2DConditionModel, structure: GateStructure) throws -> [Double] {
    let params = Dictionary(uniqueKeysWithValues: unet.namedParameters())
    func l1(_ name: String, axis: Int) throws -> [Double] {
      guard let t = params[name] else { throw PruningError("the UNet has no parameter \(name) (is it the full model?)") }
      let shape = t.shape, values = t.contiguous().toArray()
      let n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
      var sums = [Double](repeating: 0, count: n)
      for o in 0..<outer { for i in 0..<n { for k in 0..<inner { sums[i] += Double(abs(values[(o * n + i) * inner + k])) } } }
      return sums
    }
    func grouped(_ perElement: [Double], groups: Int) -> [Double] {
      let size = perElement.count / groups
      return (0..<groups).map { g in perElement[(g * size)..<((g + 1) * size)].reduce(0, +) }
    }
    func relative(_ v: [Double]) -> [Double] {
      let mean = v.reduce(0, +) / Double(max(v.count, 1))
      return v.map { mean > 0 ? $0 / mean : 1 }
    }
    var score: [Double] = []
    for entry in structure.entries {
      let p = entry.module
      switch entry.kind {
      case .resnet:
        let channels = zip(try l1("\(p).conv1.weight", axis: 0), try l1("\(p).conv2.weight", axis: 1)).map { $0 + $1 }
        score += relative(grouped(channels, groups: entry.widths[0]))
      case .transformer:
        let block = "\(p).transformer_blocks.0"
        for (i, attention) in ["attn1", "attn2"].enumerated() {
          var rows = try l1("\(block).\(attention).to_q.weight", axis: 0)
          for other in ["to_k", "to_v"] { rows = zip(rows, try l1("\(block).\(attention).\(other).weight", axis: 0)).map { $0 + $1 } }
          rows = zip(rows, try l1("\(block).\(attention).to_out.0.weight", axis: 1)).map { $0 + $1 }
          score += relative(grouped(rows, groups: entry.widths[i]))
        }
        let proj = try l1("\(block).ff.net.0.proj.weight", axis: 0), out = try l1("\(block).ff.net.2.weight", axis: 1)
        let inner = out.count
        let units = (0..<inner).map { proj[$0] + proj[inner + $0] + out[$0] }
        score += relative(grouped(units, groups: entry.widths[2]))
      }
    }
    return score
  }
}
