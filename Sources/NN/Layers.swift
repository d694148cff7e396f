// Layers: Linear, Conv2d, Embedding and the parameter initialisers PyTorch uses for them.

import TensorCore

/// U(-bound, bound) samples, the initialiser PyTorch's Linear/Conv2d use (bound = 1/sqrt(fan_in)).
func uniformInit(_ shape: [Int], bound: Float, generator: Generator) -> Tensor {
  Tensor.rand(shape, low: -bound, high: bound, generator: generator)
}

/// y = x Wᵀ + b, with weight [out, in] and bias [out] (PyTorch's `nn.Linear`).
public final class Linear: Module {
  public let inFeatures: Int, outFeatures: Int
  public private(set) var weight: Tensor
  public private(set) var bias: Tensor?

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: Generator) throws {
    guard inFeatures > 0, outFeatures > 0 else {
      throw ModuleError.argument("Linear: features must be positive, got \(inFeatures) -> \(outFeatures)")
    }
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    let bound = 1 / Float(inFeatures).squareRoot()
    weight = uniformInit([outFeatures, inFeatures], bound: bound, generator: generator)
    self.bias = bias ? uniformInit([outFeatures], bound: bound, generator: generator) : nil
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  /// A layer over given tensors (e.g. views into one fused buffer); weight [out, in], bias [out].
  public init(weight: Tensor, bias: Tensor?) throws {
    guard weight.rank == 2, bias.map({ $0.shape == [weight.shape[0]] }) ?? true else {
      throw ModuleError.argument("Linear: weight must be [out, in] and bias [out], got \(weight.shape) and \(bias?.shape ?? [])")
    }
    inFeatures = weight.shape[1]
    outFeatures = weight.shape[0]
    self.weight = weight
    self.bias = bias
    super.init()
    registerParameter("weight", weight)
    if let b = bias { registerParameter("bias", b) }
  }

  public override var summary: String { "Linear(\(inFeatures) -> \(outFeatures)\(bias == nil ? ", no bias" : ""))" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    OpCounter.record(OpCounter.linear(x, out: outFeatures, bias: bias != nil))
    return try Tensor.linear(x, weight: weight, bias: bias)
  }

  /// This layer's output plus `residual` (same shape as the output), added while the output is
  /// written (`Tensor.linear(_:weight:bias:residual:)`); nil is the plain layer.
  public func forward(_ x: Tensor, adding residual: Tensor?) throws -> Tensor {
    OpCounter.record(OpCounter.linear(x, out: outFeatures, bias: bias != nil))
    return try Tensor.linear(x, weight: weight, bias: bias, residual: residual)
  }
}

/// 2-D convolution with weight [out, in/groups, k, k] (PyTorch's `nn.Conv2d`).
public final class Conv2d: Module {
  public let inChannels: Int, outChannels: Int, kernel: (Int, Int)
  public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int
  public private(set) var weight: Tensor
  public private(set) var bias: Tensor?

  public init(
    _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
    generator: Generator
  ) throws {
    guard inChannels > 0, outChannels > 0, groups > 0, inChannels % groups == 0, outChannels % groups == 0,
      kernel.0 > 0, kernel.1 > 0
    else {
      throw ModuleError.argument(
        "Conv2d: channels \(inChannels) -> \(outChannels) must be positive and divisible by groups \(groups), kernel positive")
    }
    (self.inChannels, self.outChannels, self.kernel) = (inChannels, outChannels, kernel)
    (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    let fanIn = inChannels / groups * kernel.0 * kernel.1
    let bound = 1 / Float(fanIn).squareRoot()
    weight = uniformInit([outChannels, inChannels / groups, kernel.0, kernel.1], bound: bound, generator: generator)
    self.bias = bias ? uniformInit([outChannels], bound: bound, generator: generator) : nil
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  /// Square-kernel convenience initialiser.
  public convenience init(
    _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1,
    bias: Bool = true, generator: Generator
  ) throws {
    try self.init(
      inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding),
      groups: groups, bias: bias, generator: generator)
  }

  public override var summary: String {
    "Conv2d(\(inChannels) -> \(outChannels), kernel \(kernel.0)x\(kernel.1), stride \(stride.0), padding \(padding.0)"
      + (groups > 1 ? ", groups \(groups)" : "") + ")"
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let y = try Tensor.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    recordOps(y)
    return y
  }

  /// self(x) + sampleBias [N, out] (per sample and channel) + residual, the adds folded into the
  /// convolution's output pass at inference where `Tensor.conv2d(_:...:sampleBias:residual:)` can.
  public func forward(_ x: Tensor, sampleBias: Tensor?, residual: Tensor? = nil) throws -> Tensor {
    let y = try Tensor.conv2d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
      sampleBias: sampleBias, residual: residual)
    recordOps(y)
    return y
  }

  private func recordOps(_ y: Tensor) {
    OpCounter.record(Double(y.count) * Double(kernel.0 * kernel.1 * inChannels / groups) + (bias == nil ? 0 : Double(y.count)))
  }
}

/// A lookup table [num, dim] indexed by integer ids (PyTorch's `nn.Embedding`, N(0,1) init).
public final class Embedding: Module {
  public let count: Int, dim: Int
  public private(set) var weight: Tensor

  public init(_ count: Int, _ dim: Int, generator: Generator) throws {
    guard count > 0, dim > 0 else { throw ModuleError.argument("Embedding: sizes must be positive, got \(count) x \(dim)") }
    (self.count, self.dim) = (count, dim)
    weight = Tensor.randn([count, dim], generator: generator)
    super.init()
    registerParameter("weight", weight)
  }

  public override var summary: String { "Embedding(\(count), \(dim))" }

  public override func forward(_ ids: Tensor) throws -> Tensor { try Tensor.embedding(ids, weight: weight) }
}
