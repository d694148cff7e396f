// Module: the base class of every layer — named parameters and children, train/eval, state load/save.

import TensorCore

/// A layer or a container of layers. Parameters and children are registered by name in order,
/// so dotted paths (`down_blocks.0.resnets.1.conv1.weight`) match PyTorch's `state_dict` keys.
open class Module {
  public private(set) var parameterSlots: [(name: String, tensor: Tensor)] = []
  public private(set) var bufferSlots: [(name: String, tensor: Tensor)] = []
  public private(set) var childSlots: [(name: String, module: Module)] = []
  /// Training mode (dropout active); `eval()` turns it off for the whole tree.
  public private(set) var training = true

  public init() {}

  /// Registers a trainable tensor under `name`; it gets `requiresGrad = true`.
  @discardableResult
  public func registerParameter(_ name: String, _ tensor: Tensor) -> Tensor {
    tensor.requiresGrad = true
    if let i = parameterSlots.firstIndex(where: { $0.name == name }) {
      parameterSlots[i].tensor = tensor
    } else {
      parameterSlots.append((name, tensor))
    }
    return tensor
  }

  /// Registers a non-trainable tensor that is still part of the state (like PyTorch buffers).
  @discardableResult
  public func registerBuffer(_ name: String, _ tensor: Tensor) -> Tensor {
    if let i = bufferSlots.firstIndex(where: { $0.name == name }) {
      bufferSlots[i].tensor = tensor
    } else {
      bufferSlots.append((name, tensor))
    }
    return tensor
  }

  /// Registers a child module under `name`.
  @discardableResult
  public func registerModule<M: Module>(_ name: String, _ module: M) -> M {
    if let i = childSlots.firstIndex(where: { $0.name == name }) {
      childSlots[i].module = module
    } else {
      childSlots.append((name, module))
    }
    return module
  }

  /// A short description of this layer's configuration, shown in summaries (`Linear(4 -> 8)`).
  open var summary: String { String(describing: type(of: self)) }

  /// The layer's computation on one input. Containers without a forward throw.
  open func forward(_ x: Tensor) throws -> Tensor {
    throw ModuleError.noForward(summary)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try forward(x) }

  /// Every parameter with its dotted path, depth-first in registration order.
  public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
    var out = parameterSlots.map { (prefix + $0.name, $0.tensor) }
    for (name, child) in childSlots { out += child.namedParameters(prefix: prefix + name + ".") }
    return out
  }

  /// Every parameter, in `namedParameters` order.
  public func parameters() -> [Tensor] { namedParameters().map(\.1) }

  /// Every child module with its dotted path (not including self).
  public func namedModules(prefix: String = "") -> [(String, Module)] {
    var out: [(String, Module)] = []
    for (name, child) in childSlots {
      out.append((prefix + name, child))
      out += child.namedModules(prefix: prefix + name + ".")
    }
    return out
  }

  /// Parameters and buffers by dotted path (PyTorch's `state_dict`), in order.
  public func state(prefix: String = "") -> [(String, Tensor)] {
    var out = parameterSlots.map { (prefix + $0.name, $0.tensor) } + bufferSlots.map { (prefix + $0.name, $0.tensor) }
    for (name, child) in childSlots { out += child.state(prefix: prefix + name + ".") }
    return out
  }

  /// Total number of parameter elements.
  public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

  /// Sets training mode on this module and every child.
  public func train(_ on: Bool = true) {
    training = on
    for (_, c) in childSlots { c.train(on) }
  }

  /// Sets evaluation mode (no dropout) on the whole tree.
  public func eval() { train(false) }

  /// Copies values from `source` into the existing tensors (optimizers keep their references).
  /// With `strict`, any missing, unexpected or wrong-shape key fails the whole load, and nothing
  /// is changed; the error lists every problem at once.
  public func loadState(_ source: [String: Tensor], strict: Bool = true) throws {
    let own = state()
    let ownKeys = Set(own.map(\.0))
    var problems = StateProblems()
    for (key, t) in own {
      guard let s = source[key] else {
        problems.missing.append(key)
        continue
      }
      if s.shape != t.shape {
        problems.mismatched.append((key, expected: t.shape, got: s.shape))
      }
    }
    problems.unexpected = source.keys.filter { !ownKeys.contains($0) }.sorted()
    let fatal = !problems.mismatched.isEmpty || (strict && !problems.isEmpty)
    if fatal { throw ModuleError.state(problems) }
    for (key, t) in own {
      guard let s = source[key] else { continue }
      try GradMode.noGrad { try t.assign(s.to(.float32)) }
    }
  }
}

/// What did not fit when loading a state into a module.
public struct StateProblems: Sendable, CustomStringConvertible {
  public var missing: [String] = []
  public var unexpected: [String] = []
  public var mismatched: [(String, expected: [Int], got: [Int])] = []
  public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

  public var description: String {
    var lines: [String] = []
    if !missing.isEmpty { lines.append("missing keys (\(missing.count)): " + missing.joined(separator: ", ")) }
    if !unexpected.isEmpty { lines.append("unexpected keys (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
    for m in mismatched {
      lines.append("shape mismatch for \(m.0): expected \(shapeString(m.expected)), got \(shapeString(m.got))")
    }
    return lines.joined(separator: "\n")
  }
}

/// Errors raised by modules.
public enum ModuleError: Error, CustomStringConvertible {
  case state(StateProblems)
  case noForward(String)
  case argument(String)

  public var description: String {
    switch self {
    case .state(let p): return "load_state: \(p)"
    case .noForward(let m): return "\(m) has no forward; call its children instead"
    case .argument(let m): return m
    }
  }
}
