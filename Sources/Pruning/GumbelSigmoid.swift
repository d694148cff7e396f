// GumbelSigmoid: the quantizer's noisy relaxations — width gates, the depth survival profile, the straight-through threshold.

import Foundation
import TensorCore

/// Where Gumbel noise g = −log(−log(u + 1e-20) + 1e-20) comes from.
public enum GumbelNoise {
  /// Fresh noise from a seeded generator (training).
  case random(Generator)
  /// No noise (deterministic routing at inference: this project's fix of the reference's
  /// position-dependent eval noise, aptp-reference §11).
  case none
  /// Given noise tensors, consumed in call order (parity tests replay the reference's draws).
  case replay(NoiseQueue)

  func sample(_ shape: [Int]) throws -> Tensor? {
    switch self {
    case .none: return nil
    case .random(let g):
      let u = Tensor.rand(shape, generator: g).toArray()
      return try Tensor.from(u.map { -Foundation.log(-Foundation.log($0 + 1e-20) + 1e-20) }, shape: shape)
    case .replay(let queue): return try queue.next(shape)
    }
  }
}

/// A list of noise tensors handed out in order.
public final class NoiseQueue {
  var items: [Tensor]
  public init(_ items: [Tensor]) { self.items = items }

  func next(_ shape: [Int]) throws -> Tensor {
    guard !items.isEmpty else { throw PruningError("the replayed noise ran out (needed \(shape))") }
    let t = items.removeFirst()
    guard t.shape == shape else { throw PruningError("replayed noise has shape \(t.shape), the call needs \(shape)") }
    return t
  }
}

/// The relaxations of aptp-reference §2.3 over a gate structure.
public struct GateRelaxation {
  public let structure: GateStructure
  /// Temperature T and offset (base) of the sigmoid: sigmoid((logit + g + base) / T).
  public var temperature: Float = 0.4, base: Float = 3
  /// Keep at least one group of every width gate on (the reference's `non_zero_width`).
  public var nonZeroWidth = true
  /// Slot k of the depth survival profile goes to depth gate `depthOrder[k]`.
  public let depthOrder: [Int]

  public init(structure: GateStructure, depthOrder: [Int]? = nil) throws {
    self.structure = structure
    self.depthOrder = try depthOrder.map { try structure.depthOrder($0) } ?? Array(0..<structure.depthCount)
  }

  /// Soft gate values in (0, 1) for logits [N, length]: depth noise is drawn first, then each
  /// width gate's, as the reference does.
  public func sample(_ logits: Tensor, noise: GumbelNoise) throws -> Tensor {
    let n = logits.shape[0], w = structure.sumWidth
    var depth: Tensor? = nil
    if structure.depthCount > 0 {
      depth = try survival(logits.narrow(1, start: w, length: structure.depthCount), noise: noise)
    }
    var pieces: [Tensor] = []
    var column = 0
    for width in structure.widthList {
      var y = try relaxed(logits.narrow(1, start: column, length: width), noise: noise)
      if nonZeroWidth { y = try keepOneGroup(y) }
      pieces.append(y)
      column += width
    }
    if let depth { pieces.append(depth) }
    return pieces.isEmpty ? Tensor(shape: [n, 0]) : try Tensor.cat(pieces, axis: 1)
  }

  /// sigmoid((x + g + base) / T).
  func relaxed(_ x: Tensor, noise: GumbelNoise) throws -> Tensor {
    var t = x
    if let g = try noise.sample(x.shape) { t = try t + g }
    return try ((t + base) / temperature).sigmoid()
  }

  /// The depth profile: softmax over the slots, reversed cumulative sums (s_0 = 1, non-increasing),
  /// their logits, noise and sigmoid; slot k is then written to depth gate `depthOrder[k]`.
  func survival(_ logits: Tensor, noise: GumbelNoise) throws -> Tensor {
    let s = try logits.softmax(axis: 1).cumsum(axis: 1).flip([1])
    let l = try (s + 1e-6).log() - (try (s - 1e-6).neg().log1p())
    let y = try relaxed(l, noise: noise)
    var inverse = [Int64](repeating: 0, count: depthOrder.count)
    for (slot, gate) in depthOrder.enumerated() { inverse[gate] = Int64(slot) }
    return try y.indexSelect(1, Tensor(ints: inverse, shape: [inverse.count]))
  }

  /// Adds 0.5 to the first element of every row whose groups would all threshold to off.
  func keepOneGroup(_ y: Tensor) throws -> Tensor {
    let (rows, width) = (y.shape[0], y.shape[1])
    let values = y.toArray()
    var fix = [Float](repeating: 0, count: rows * width)
    var any = false
    for r in 0..<rows where !(0..<width).contains(where: { values[r * width + $0] >= 0.5 }) {
      fix[r * width] = 0.5
      any = true
    }
    return any ? try y + Tensor.from(fix, shape: [rows, width]) : y
  }
}

/// 1[x ≥ 0.5] in the forward pass, identity gradient (straight-through).
public func hardThreshold(_ x: Tensor) throws -> Tensor {
  let h = try Tensor.from(x.toArray().map { $0 >= 0.5 ? 1 : ($0.isNaN ? .nan : 0) }, shape: x.shape)
  return try x + (h - x).detach()
}

/// Rows divided by max(‖row‖, 1e-12) (F.normalize).
func normalizedRows(_ x: Tensor) throws -> Tensor {
  try x / (x.pow(2).sum(axes: [1], keepdim: true).sqrt().clamp(min: 1e-12))
}
