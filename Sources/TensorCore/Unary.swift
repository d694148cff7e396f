// Unary: elementwise math and activations (exp, log, tanh, sigmoid, silu, gelu, ...) with backward.

#if canImport(Glibc)
  import Glibc
#endif

/// Which formula `gelu` uses.
public enum GeluApproximation: String, Sendable {
  case none, tanh
}

extension Tensor {
  /// Builds a unary op from a forward functor and a backward functor of (g, x, y).
  @inline(__always)
  func unary<F: ElementMap, B: ElementZip3>(_ name: String, _ f: F, _ dfdx: B) throws -> Tensor {
    let x = self
    let y = try mapUnary(x, op: name, f)
    let saved = y.detach()  // not `y`: the closure would keep its own output alive (a retain cycle)
    return y.record(name, [x]) { g in
      [try broadcastTernary(g, x, saved, op: name + "_backward", dfdx)]
    }
  }

  /// Builds a unary op from closures (cold paths).
  func unary(
    _ name: String, _ f: @escaping (Float) -> Float, backward dfdx: @escaping (Float, Float, Float) -> Float
  ) throws -> Tensor {
    try unary(name, MapClosure(f: f), Zip3Closure(f: dfdx))
  }

  public func neg() throws -> Tensor {
    let x = self
    return try mapUnary(x, op: "neg", NegOp()).record("neg", [x]) { g in [try g.neg()] }
  }

  public func abs() throws -> Tensor {
    try unary("abs", { Swift.abs($0) }) { g, x, _ in x > 0 ? g : (x < 0 ? -g : 0) }
  }

  public func exp() throws -> Tensor {
    let y = try mapUnary(self, op: "exp", ExpOp())
    let saved = y.detach()  // not `y`: the closure would keep its own output alive (a retain cycle)
    return y.record("exp", [self]) { g in [try g * saved] }
  }

  public func log() throws -> Tensor { try unary("log", { Glibc.logf($0) }) { g, x, _ in g / x } }
  public func log1p() throws -> Tensor { try unary("log1p", { Glibc.log1pf($0) }) { g, x, _ in g / (1 + x) } }
  public func sqrt() throws -> Tensor { try unary("sqrt", { $0.squareRoot() }) { g, _, y in g * 0.5 / y } }
  public func rsqrt() throws -> Tensor {
    try unary("rsqrt", { 1 / $0.squareRoot() }) { g, _, y in -0.5 * g * y * y * y }
  }
  public func sin() throws -> Tensor { try unary("sin", { Glibc.sinf($0) }) { g, x, _ in g * Glibc.cosf(x) } }
  public func cos() throws -> Tensor { try unary("cos", { Glibc.cosf($0) }) { g, x, _ in -g * Glibc.sinf(x) } }
  public func tanh() throws -> Tensor { try unary("tanh", TanhOp(), TanhGrad()) }

  public func sigmoid() throws -> Tensor { try unary("sigmoid", SigmoidOp(), SigmoidGrad()) }

  public func relu() throws -> Tensor { try unary("relu", ReluOp(), ReluGrad()) }

  /// x * sigmoid(x).
  public func silu() throws -> Tensor { try unary("silu", SiluOp(), SiluGrad()) }

  /// x * sigmoid(1.702 x), the activation of OpenAI's CLIP.
  public func quickGelu() throws -> Tensor { try unary("quick_gelu", QuickGeluOp(), QuickGeluGrad()) }

  /// GELU with the exact erf form (default) or the tanh approximation.
  public func gelu(_ approximate: GeluApproximation = .none) throws -> Tensor {
    switch approximate {
    case .none: return try unary("gelu", GeluOp(), GeluGrad())
    case .tanh: return try unary("gelu", GeluTanhOp(), GeluTanhGrad())
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
    return try mapUnary(x, op: "mul", ScaleOp(s: s)).record("mul", [x]) { g in [try g.scaled(s)] }
  }
}
