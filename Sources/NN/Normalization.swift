// Normalization layers: GroupNorm and LayerNorm with PyTorch's parameter names and defaults.

import TensorCore

/// Group normalisation over [N, C, *] (PyTorch's `nn.GroupNorm`).
public final class GroupNorm: Module {
  public let groups: Int, channels: Int, eps: Float
  public private(set) var weight: Tensor?
  public private(set) var bias: Tensor?

  public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) throws {
    guard groups > 0, channels > 0, channels % groups == 0 else {
      throw ModuleError.argument("GroupNorm: \(channels) channels cannot be split into \(groups) groups")
    }
    (self.groups, self.channels, self.eps) = (groups, channels, eps)
    super.init()
    if affine {
      weight = registerParameter("weight", Tensor.ones([channels]))
      bias = registerParameter("bias", Tensor.zeros([channels]))
    }
  }

  public override var summary: String { "GroupNorm(\(groups), \(channels), eps \(eps))" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    OpCounter.record(Double(x.count) * (weight == nil ? 1 : 2))
    return try Tensor.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps)
  }

  /// silu(self(x)) in one pass at inference (the op counter charges both, SiLU as 2·numel).
  public func forwardSiLU(_ x: Tensor) throws -> Tensor {
    OpCounter.record(Double(x.count) * (weight == nil ? 1 : 2) + 2 * Double(x.count))
    return try Tensor.groupNormSiLU(x, groups: groups, weight: weight, bias: bias, eps: eps)
  }
}

/// Layer normalisation over the trailing dimensions (PyTorch's `nn.LayerNorm`).
public final class LayerNorm: Module {
  public let normalizedShape: [Int], eps: Float
  public private(set) var weight: Tensor?
  public private(set) var bias: Tensor?

  public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) throws {
    guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }) else {
      throw ModuleError.argument("LayerNorm: normalized shape \(normalizedShape) must be non-empty and positive")
    }
    (self.normalizedShape, self.eps) = (normalizedShape, eps)
    super.init()
    if elementwiseAffine {
      weight = registerParameter("weight", Tensor.ones(normalizedShape))
      if bias { self.bias = registerParameter("bias", Tensor.zeros(normalizedShape)) }
    }
  }

  public convenience init(_ dim: Int, eps: Float = 1e-5) throws { try self.init([dim], eps: eps) }

  public override var summary: String { "LayerNorm(\(normalizedShape), eps \(eps))" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    OpCounter.record(Double(x.count))
    return try Tensor.layerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
  }
}
