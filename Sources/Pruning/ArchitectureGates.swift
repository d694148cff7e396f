// ArchitectureGates: turning architecture vectors [B, D] into the UNet's gate values, by the canonical layout.

import Diffusion
import TensorCore

extension GateStructure {
  /// Gate values for `model` from architecture vectors [B, length] (soft or 0/1). Slices keep
  /// the autograd link, so gradients reach whatever produced the vectors. `hard` (0/1 codes at
  /// inference) makes the gated forward equal to the physically pruned expert's.
  public func gates(_ vectors: Tensor, for model: UNet2DConditionModel, hard: Bool = false) throws -> UNetGates {
    guard vectors.rank == 2, vectors.shape[1] == length else {
      throw PruningError("architecture vectors must be [batch, \(length)], got \(vectors.shape)")
    }
    let modules = try gatedModules(model)
    var gates = UNetGates(hard: hard)
    for (entry, module) in zip(entries, modules) {
      var column = entry.widthOffset
      func next(_ width: Int) throws -> Tensor {
        defer { column += width }
        return try vectors.narrow(1, start: column, length: width)
      }
      let depth = try entry.depthColumn.map { try vectors.narrow(1, start: $0, length: 1).reshape([vectors.shape[0]]) }
      switch module {
      case .resnet(let r): gates.resnets[ObjectIdentifier(r)] = ResnetGates(width: try next(entry.widths[0]), depth: depth)
      case .transformer(let t):
        gates.transformers[ObjectIdentifier(t)] = TransformerGates(
          attn1: try next(entry.widths[0]), attn2: try next(entry.widths[1]), ff: try next(entry.widths[2]), depth: depth)
      }
    }
    return gates
  }

  enum GatedModule {
    case resnet(ResnetBlock2D)
    case transformer(Transformer2DModel)
  }

  /// The model's gated modules in the structure's order, checked against it.
  func gatedModules(_ model: UNet2DConditionModel) throws -> [GatedModule] {
    var modules: [GatedModule] = []
    func add(_ resnets: [ResnetBlock2D?], _ transformers: [Transformer2DModel?]) throws {
      for r in resnets {
        guard let r, r.innerChannels == r.outChannels else { throw PruningError("gates need the full UNet, not a pruned expert") }
        modules.append(.resnet(r))
      }
      for t in transformers {
        guard let t, t.isFullWidth else { throw PruningError("gates need the full UNet, not a pruned expert") }
        modules.append(.transformer(t))
      }
    }
    for b in model.downBlocks { try add(b.resnets, b.attentions) }
    try add(model.midBlock.resnets, model.midBlock.attentions)
    for b in model.upBlocks { try add(b.resnets, b.attentions) }
    guard modules.count == entries.count else {
      throw PruningError("the UNet has \(modules.count) gated sub-blocks but the structure has \(entries.count)")
    }
    for (entry, module) in zip(entries, modules) {
      switch (entry.kind, module) {
      case (.resnet, .resnet(let r)) where r.groups == entry.widths[0]: continue
      case (.transformer, .transformer(let t)) where t.heads == entry.widths[0] && t.feedForwardInner % entry.widths[2] == 0: continue
      default: throw PruningError("\(entry.module) does not match the structure (\(entry.kind.rawValue) \(entry.widths))")
      }
    }
    return modules
  }
}
