// OpCounter: multiply-accumulates of the layers a forward pass calls, by the reference's ptflops-derived formulas.

import Foundation
import TensorCore

/// Counts MACs while active (`OpCounter.measure { ... }`): layers report each call with the
/// formulas of the reference's op counter (aptp-reference §4.5) — conv `kh·kw·Cin·Cout/groups·B·H·W`
/// plus bias per output position, linear `numel(input)·out` plus the bias once, GroupNorm
/// `2·numel` (affine), LayerNorm `numel`, attention `heads·(2·L²·d + L²)` with the query length L
/// (also for cross-attention, as the reference counts it), SiLU `2·numel`. Run batch 1 to get MACs per sample.
public final class OpCounter: @unchecked Sendable {
  @TaskLocal static var active: OpCounter?
  private let lock = NSLock()
  private var total = 0.0

  init() {}

  /// Adds `macs` to the counter of the current measurement, if any.
  public static func record(_ macs: @autoclosure () -> Double) {
    guard let counter = active else { return }
    let m = macs()
    counter.lock.lock()
    counter.total += m
    counter.lock.unlock()
  }

  /// True inside `measure`, so callers can skip computing counts otherwise.
  public static var isCounting: Bool { active != nil }

  /// Runs `body` and returns its result with the MACs its layers reported.
  public static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, macs: Double) {
    let counter = OpCounter()
    let result = try $active.withValue(counter) { try body() }
    counter.lock.lock()
    defer { counter.lock.unlock() }
    return (result, counter.total)
  }

  /// A Linear layer's MACs for input x.
  public static func linear(_ x: Tensor, out: Int, bias: Bool) -> Double {
    Double(x.count) * Double(out) + (bias ? Double(out) : 0)
  }
}
