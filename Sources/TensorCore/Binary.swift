// Binary: arithmetic with broadcasting (+ - * / pow, maximum, minimum), comparisons and `where`.

#if canImport(Glibc)
  import Glibc
#endif

extension Tensor {
  /// a + b with broadcasting.
  public static func + (a: Tensor, b: Tensor) throws -> Tensor {
    try broadcastBinary(a, b, op: "add", AddOp()).record("add", [a, b]) { g in
      [try g.sumTo(a.shape), try g.sumTo(b.shape)]
    }
  }

  /// a - b with broadcasting.
  public static func - (a: Tensor, b: Tensor) throws -> Tensor {
    try broadcastBinary(a, b, op: "sub", SubOp()).record("sub", [a, b]) { g in
      [try g.sumTo(a.shape), b.requiresGrad ? try g.neg().sumTo(b.shape) : nil]
    }
  }

  /// a * b with broadcasting.
  public static func * (a: Tensor, b: Tensor) throws -> Tensor {
    try broadcastBinary(a, b, op: "mul", MulOp()).record("mul", [a, b]) { g in
      [
        a.requiresGrad ? try (g * b).sumTo(a.shape) : nil,
        b.requiresGrad ? try (g * a).sumTo(b.shape) : nil,
      ]
    }
  }

  /// a / b with broadcasting.
  public static func / (a: Tensor, b: Tensor) throws -> Tensor {
    try broadcastBinary(a, b, op: "div", DivOp()).record("div", [a, b]) { g in
      [
        a.requiresGrad ? try (g / b).sumTo(a.shape) : nil,
        b.requiresGrad
          ? try broadcastTernary(g, a, b, op: "div_backward", DivRhsGrad()).sumTo(b.shape) : nil,
      ]
    }
  }

  public static func + (a: Tensor, b: Float) throws -> Tensor { try a + Tensor.scalar(b) }
  public static func - (a: Tensor, b: Float) throws -> Tensor { try a - Tensor.scalar(b) }
  public static func * (a: Tensor, b: Float) throws -> Tensor { try a * Tensor.scalar(b) }
  public static func / (a: Tensor, b: Float) throws -> Tensor { try a / Tensor.scalar(b) }
  public static func + (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) + b }
  public static func - (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) - b }
  public static func * (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) * b }
  public static func / (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) / b }

  /// self ** exponent elementwise with broadcasting.
  public func pow(_ exponent: Tensor) throws -> Tensor {
    let a = self, b = exponent
    let out = try broadcastBinary(a, b, op: "pow") { Glibc.powf($0, $1) }
    let saved = out.detach()  // not `out`: the closure would keep its own output alive
    return out.record("pow", [a, b]) { g in
      [
        a.requiresGrad
          ? try broadcastTernary(g, a, b, op: "pow_backward") { g, a, b in
            b == 0 ? 0 : g * b * Glibc.powf(a, b - 1)
          }.sumTo(a.shape) : nil,
        b.requiresGrad
          ? try broadcastTernary(g, saved, a, op: "pow_backward") { g, y, a in
            a > 0 ? g * y * Glibc.logf(a) : (a == 0 ? 0 : .nan)
          }.sumTo(b.shape) : nil,
      ]
    }
  }

  /// self ** p for a scalar exponent.
  public func pow(_ p: Float) throws -> Tensor {
    let x = self
    if p == 2 { return try mapUnary(x, op: "pow", SquareOp()).record("pow", [x]) { g in [try g * x * 2] } }
    return try mapUnary(x, op: "pow") { Glibc.powf($0, p) }.record("pow", [x]) { g in
      [try broadcastBinary(g, x, op: "pow_backward") { g, x in p == 0 ? 0 : g * p * Glibc.powf(x, p - 1) }]
    }
  }

  /// Elementwise maximum; the gradient goes to the larger input (split evenly on ties).
  public func maximum(_ other: Tensor) throws -> Tensor { try extremum(other, name: "maximum", pickFirst: >) }

  /// Elementwise minimum; the gradient goes to the smaller input (split evenly on ties).
  public func minimum(_ other: Tensor) throws -> Tensor { try extremum(other, name: "minimum", pickFirst: <) }

  private func extremum(_ other: Tensor, name: String, pickFirst: @escaping (Float, Float) -> Bool) throws -> Tensor {
    let a = self, b = other
    return try broadcastBinary(a, b, op: name) { pickFirst($0, $1) || $0 == $1 ? $0 : $1 }.record(name, [a, b]) { g in
      let share: (Float, Float, Float, Bool) -> Float = { g, x, y, first in
        x == y ? g * 0.5 : ((pickFirst(x, y) == first) ? g : 0)
      }
      return [
        try broadcastTernary(g, a, b, op: name) { share($0, $1, $2, true) }.sumTo(a.shape),
        try broadcastTernary(g, a, b, op: name) { share($0, $1, $2, false) }.sumTo(b.shape),
      ]
    }
  }

  /// Elementwise comparison producing 0/1 floats (no gradient).
  public func compare(_ other: Tensor, _ op: ComparisonOp) throws -> Tensor {
    switch op {
    case .lt: return try broadcastBinary(self, other, op: "lt") { $0 < $1 ? 1 : 0 }
    case .le: return try broadcastBinary(self, other, op: "le") { $0 <= $1 ? 1 : 0 }
    case .gt: return try broadcastBinary(self, other, op: "gt") { $0 > $1 ? 1 : 0 }
    case .ge: return try broadcastBinary(self, other, op: "ge") { $0 >= $1 ? 1 : 0 }
    case .eq: return try broadcastBinary(self, other, op: "eq") { $0 == $1 ? 1 : 0 }
    case .ne: return try broadcastBinary(self, other, op: "ne") { $0 != $1 ? 1 : 0 }
    }
  }

  /// Picks `a` where `condition` is non-zero, else `b`, with broadcasting over all three.
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    let cond = condition.dtype == .float32 ? condition : condition.to(.float32)
    try a.requireFloat("where")
    try b.requireFloat("where")
    return try broadcastTernary(cond, a, b, op: "where") { $0 != 0 ? $1 : $2 }.record("where", [a, b]) { g in
      let zero = Tensor.scalar(0)
      return [
        a.requiresGrad ? try broadcastTernary(cond, g, zero, op: "where") { $0 != 0 ? $1 : $2 }.sumTo(a.shape) : nil,
        b.requiresGrad ? try broadcastTernary(cond, zero, g, op: "where") { $0 != 0 ? $1 : $2 }.sumTo(b.shape) : nil,
      ]
    }
  }
}

/// The comparison operators tensors support.
public enum ComparisonOp: String, Sendable, CaseIterable {
  case lt, le, gt, ge, eq, ne
}
