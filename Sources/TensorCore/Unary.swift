// Unary: elementwise math and activations (exp, log, tanh, sigmoid, silu, gelu, ...) with backward.

#if canImport(Glibc)
  import Glibc
#endif

/// Which formula `gelu` uses.
public enum GeluApproximation: String, Sendable {
  case none, tanh
}

private let sqrt2OverPi: Float = 0.797_884_56
private let invSqrt2: Float = 0.707_106_78
private let invSqrt2Pi: Float = 0.398_942_28

extension Tensor {
  /// Builds a unary op: forward `f`, backward `dfdx(g, x, y)`.
  @inline(__always)
  func unary(
    _ name: String, _ f: (Float) -> Float,
    backward dfdx: @escaping (Float, Float, Float) -> Float
  ) throws -> Tensor {
    let x = self
    let y = try mapUnary(x, op: name, f)
    return y.record(name, [x]) { g in
      [try broadcastTernary(g, x, y, op: name + "_backward", dfdx)]
    }
  }

  public func neg() throws -> Tensor {
    let x = self
    return try mapUnary(x, op: "neg") { -$0 }.record("neg", [x]) { g in [try g.neg()] }
  }

  public func abs() throws -> Tensor {
    try unary("abs", { Swift.abs($0) }) { g, x, _ in x > 0 ? g : (x < 0 ? -g : 0) }
  }

  public func exp() throws -> Tensor {
    try requireFloat("exp")
    let x = isContiguous ? self : contiguousCopy()
    let y = Tensor(shape: shape, zeroed: false)
    mapVector(x.data, y.data, count, vector: vexp, scalar: { Glibc.expf($0) })
    return y.record("exp", [self]) { g in [try g * y] }
  }

  public func log() throws -> Tensor { try unary("log", { Glibc.logf($0) }) { g, x, _ in g / x } }
  public func log1p() throws -> Tensor { try unary("log1p", { Glibc.log1pf($0) }) { g, x, _ in g / (1 + x) } }
  public func sqrt() throws -> Tensor { try unary("sqrt", { $0.squareRoot() }) { g, _, y in g * 0.5 / y } }
  public func rsqrt() throws -> Tensor {
    try unary("rsqrt", { 1 / $0.squareRoot() }) { g, _, y in -0.5 * g * y * y * y }
  }
  public func sin() throws -> Tensor { try unary("sin", { Glibc.sinf($0) }) { g, x, _ in g * Glibc.cosf(x) } }
  public func cos() throws -> Tensor { try unary("cos", { Glibc.cosf($0) }) { g, x, _ in -g * Glibc.sinf(x) } }
  public func tanh() throws -> Tensor { try unary("tanh", { Glibc.tanhf($0) }) { g, _, y in g * (1 - y * y) } }

  public func sigmoid() throws -> Tensor {
    try requireFloat("sigmoid")
    let x = isContiguous ? self : contiguousCopy()
    let y = Tensor(shape: shape, zeroed: false)
    mapVector(x.data, y.data, count, vector: { 1 / (1 + vexp(-$0)) }, scalar: { 1 / (1 + Glibc.expf(-$0)) })
    return y.record("sigmoid", [self]) { g in
      [try broadcastBinary(g, y, op: "sigmoid_backward") { g, y in g * y * (1 - y) }]
    }
  }

  public func relu() throws -> Tensor { try unary("relu", { $0 > 0 ? $0 : 0 }) { g, x, _ in x > 0 ? g : 0 } }

  /// x * sigmoid(x).
  public func silu() throws -> Tensor {
    try requireFloat("silu")
    let x = isContiguous ? self : contiguousCopy()
    let y = Tensor(shape: shape, zeroed: false)
    mapVector(x.data, y.data, count, vector: { $0 / (1 + vexp(-$0)) }, scalar: { $0 / (1 + Glibc.expf(-$0)) })
    return y.record("silu", [self]) { g in
      [try broadcastBinary(g, x, op: "silu_backward") { g, x in
        let s = 1 / (1 + Glibc.expf(-x))
        return g * s * (1 + x * (1 - s))
      }]
    }
  }

  /// x * sigmoid(1.702 x), the activation of OpenAI's CLIP.
  public func quickGelu() throws -> Tensor {
    try unary("quick_gelu", { $0 / (1 + Glibc.expf(-1.702 * $0)) }) { g, x, _ in
      let s = 1 / (1 + Glibc.expf(-1.702 * x))
      return g * (s + 1.702 * x * s * (1 - s))
    }
  }

  /// GELU with the exact erf form (default) or the tanh approximation.
  public func gelu(_ approximate: GeluApproximation = .none) throws -> Tensor {
    switch approximate {
    case .none:
      return try unary("gelu", { 0.5 * $0 * (1 + Glibc.erff($0 * invSqrt2)) }) { g, x, _ in
        g * (0.5 * (1 + Glibc.erff(x * invSqrt2)) + x * Glibc.expf(-0.5 * x * x) * invSqrt2Pi)
      }
    case .tanh:
      return try unary("gelu", { x in 0.5 * x * (1 + Glibc.tanhf(sqrt2OverPi * (x + 0.044_715 * x * x * x))) }) {
        g, x, _ in
        let t = Glibc.tanhf(sqrt2OverPi * (x + 0.044_715 * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * sqrt2OverPi * (1 + 3 * 0.044_715 * x * x))
      }
    }
  }

  /// Limits values to [min, max]; the gradient passes where min <= x <= max.
  public func clamp(min lo: Float? = nil, max hi: Float? = nil) throws -> Tensor {
    let lower = lo ?? -.infinity, upper = hi ?? .infinity
    return try unary("clamp", { Swift.min(Swift.max($0, lower), upper) }) { g, x, _ in
      x >= lower && x <= upper ? g : 0
    }
  }

  /// Elementwise sign (-1, 0, 1); no gradient.
  public func sign() throws -> Tensor { try mapUnary(self, op: "sign") { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }

  /// Multiplies by a scalar (no broadcasting machinery; used by optimizers and losses).
  public func scaled(_ s: Float) throws -> Tensor {
    let x = self
    return try mapUnary(x, op: "mul") { $0 * s }.record("mul", [x]) { g in [try g.scaled(s)] }
  }
}
