// Containers and stateless layers: Sequential, ModuleList, Dropout, SiLU, GELU, Identity.

import TensorCore

/// Runs its children in order; children are named "0", "1", ... like PyTorch's `nn.Sequential`.
public final class Sequential: Module {
  public init(_ layers: [Module]) {
    super.init()
    for (i, m) in layers.enumerated() { registerModule(String(i), m) }
  }

  public var layers: [Module] { childSlots.map(\.module) }

  public override var summary: String { "Sequential(\(childSlots.count) layers)" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try childSlots.reduce(x) { try $1.module.forward($0) }
  }
}

/// An indexable list of modules named "0", "1", ... (PyTorch's `nn.ModuleList`); no forward.
public final class ModuleList: Module {
  public init(_ modules: [Module] = []) {
    super.init()
    for m in modules { append(m) }
  }

  public func append(_ m: Module) { registerModule(String(childSlots.count), m) }

  public var count: Int { childSlots.count }

  /// The module at `i`, or an error naming the valid range.
  public func at(_ i: Int) throws -> Module {
    guard i >= 0, i < childSlots.count else {
      throw ModuleError.argument("ModuleList index \(i) out of range 0..<\(childSlots.count)")
    }
    return childSlots[i].module
  }

  public override var summary: String { "ModuleList(\(childSlots.count))" }
}

/// A named group of child modules with no computation of its own (a `nn.Module` that only holds
/// children), so parameter paths such as `attention.self.query.weight` match the libraries'.
public final class ModuleGroup: Module {
  public init(_ children: [(String, Module)]) {
    super.init()
    for (name, m) in children { registerModule(name, m) }
  }
}

/// Randomly zeroes elements in training mode; draws from its own seeded generator.
public final class Dropout: Module {
  public let p: Float
  let generator: Generator

  public init(_ p: Float = 0.5, generator: Generator) throws {
    guard p >= 0, p <= 1 else { throw ModuleError.argument("Dropout: probability must be in [0, 1], got \(p)") }
    self.p = p
    self.generator = generator
    super.init()
  }

  public override var summary: String { "Dropout(p=\(p))" }

  public override func forward(_ x: Tensor) throws -> Tensor { try x.dropout(p, training: training, generator: generator) }
}

/// x * sigmoid(x).
public final class SiLU: Module {
  public override func forward(_ x: Tensor) throws -> Tensor { try x.silu() }
}

/// GELU, exact (erf) or tanh-approximated.
public final class GELU: Module {
  public let approximate: GeluApproximation
  public init(approximate: GeluApproximation = .none) {
    self.approximate = approximate
    super.init()
  }
  public override var summary: String { approximate == .none ? "GELU()" : "GELU(tanh)" }
  public override func forward(_ x: Tensor) throws -> Tensor { try x.gelu(approximate) }
}

/// Returns its input.
public final class Identity: Module {
  public override func forward(_ x: Tensor) throws -> Tensor { x }
}
