// ArchitecturePredictor: APTP's hypernetwork — one affine map from the prompt embedding to architecture logits, in per-group heads.

import NN
import TensorCore

/// A head with weight normalisation (`torch.nn.utils.parametrizations.weight_norm`, dim 0):
/// W = g · V / ‖V‖ per row, stored as `parametrizations.weight.original0` (g) and `original1` (V).
final class WeightNormHead: Module {
  let magnitude: Tensor, direction: Tensor
  let bias: Tensor?

  init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool, generator: Generator) {
    direction = orthogonalMatrix(outFeatures, inFeatures, generator: generator)
    magnitude = orthogonalMatrix(outFeatures, 1, generator: generator)  // the reference also orthogonalises g
    self.bias = bias ? Tensor(shape: [outFeatures]) : nil
    super.init()
    registerModule("parametrizations", ModuleGroup([("weight", WeightNormParameters(magnitude, direction))]))
    if let b = self.bias { registerParameter("bias", b) }
  }

  var weight: Tensor {
    get throws {
      let norms = try direction.pow(2).sum(axes: [1], keepdim: true).sqrt()
      return try direction * (magnitude / norms)
    }
  }
}

/// Holds g and V under the names `original0` / `original1`.
final class WeightNormParameters: Module {
  init(_ g: Tensor, _ v: Tensor) {
    super.init()
    registerParameter("original0", g)
    registerParameter("original1", v)
  }
}

/// The reference's `HyperStructure`: `mh_fc.i` is a Linear(input → width of group i) for every
/// width group and a last Linear(input → number of depth gates); no activation. The output
/// [B, length] holds raw logits (the quantizer applies noise and sigmoid). Weights are
/// orthogonal, biases zero. `single` is the single-architecture baseline: one learned [1, length]
/// vector, whatever the prompt.
public final class ArchitecturePredictor: Module {
  public let structure: GateStructure
  public let inputDim: Int
  let heads: [Module]
  let single: Tensor?

  public init(
    structure: GateStructure, inputDim: Int, bias: Bool = true, weightNorm: Bool = false, single: Bool = false,
    generator: Generator = Generator(seed: 0)
  ) throws {
    guard inputDim > 0 else { throw PruningError("the prompt embedding width must be positive") }
    self.structure = structure
    self.inputDim = inputDim
    let outputs = structure.widthList + (structure.depthCount > 0 ? [structure.depthCount] : [])
    if single {
      heads = []
      self.single = Tensor.randn([1, structure.length], generator: generator)
    } else {
      self.single = nil
      heads = try outputs.map { width -> Module in
        if weightNorm { return WeightNormHead(inputDim, width, bias: bias, generator: generator) }
        let linear = try Linear(
          weight: orthogonalMatrix(width, inputDim, generator: generator), bias: bias ? Tensor(shape: [width]) : nil)
        return linear
      }
    }
    super.init()
    if let s = self.single { registerParameter("arch", s) } else { registerModule("mh_fc", ModuleList(heads)) }
  }

  public override var summary: String {
    single != nil ? "ArchitecturePredictor(single architecture, \(structure.length))"
      : "ArchitecturePredictor(\(inputDim) -> \(structure.length) in \(heads.count) heads)"
  }

  /// Logits [B, length] for prompt embeddings [B, inputDim] (one GEMM over the stacked heads).
  public override func forward(_ z: Tensor) throws -> Tensor {
    if let single {
      let b = z.rank >= 1 ? z.shape[0] : 1
      return b == 1 ? single : try single.expand([b, structure.length])
    }
    guard z.rank == 2, z.shape[1] == inputDim else {
      throw PruningError("prompt embeddings must be [batch, \(inputDim)], got \(z.shape)")
    }
    var weights: [Tensor] = [], biases: [Tensor] = []
    for head in heads {
      switch head {
      case let l as Linear:
        weights.append(l.weight)
        if let b = l.bias { biases.append(b) }
      case let w as WeightNormHead:
        weights.append(try w.weight)
        if let b = w.bias { biases.append(b) }
      default: throw PruningError("unexpected head \(head.summary)")
      }
    }
    let bias = biases.count == heads.count ? try Tensor.cat(biases, axis: 0) : nil
    return try Tensor.linear(z, weight: Tensor.cat(weights, axis: 0), bias: bias)
  }
}
