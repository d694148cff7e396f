// ExpertPlan: what one hard architecture code keeps of a UNet — per-layer widths and the weight slices that realise them.

import Diffusion
import TensorCore

/// The physical form of an architecture code: the pruned widths for the expert's config, and for
/// each sliced parameter the kept indices along one axis of the full model's tensor.
public struct ExpertPlan: Sendable {
  public let widths: UNetLayerWidths
  /// Parameter name -> (axis, kept indices); parameters not listed are copied whole.
  let slices: [String: (axis: Int, indices: [Int])]
}

extension GateStructure {
  /// The plan for `code` (length `self.length`, thresholded at 0.5 like the reference's `hard`)
  /// applied to `unet` (the full model this structure gates). A width gate that keeps nothing in a
  /// sub-block that is not dropped is an error (the router's codes always keep one group).
  public func expertPlan(code: [Float], for unet: UNet2DConditionModel) throws -> ExpertPlan {
    guard code.count == length else { throw PruningError("an architecture code needs \(length) values, got \(code.count)") }
    let hard = code.map { $0 >= 0.5 }
    var widths = UNetLayerWidths()
    var slices: [String: (axis: Int, indices: [Int])] = [:]
    for (entry, module) in zip(entries, try gatedModules(unet)) {
      if let d = entry.depthColumn, !hard[d] {
        widths.dropped.insert(entry.module)
        continue
      }
      var column = entry.widthOffset
      func kept(_ width: Int, _ what: String) throws -> [Int] {
        defer { column += width }
        let groups = (0..<width).filter { hard[column + $0] }
        guard !groups.isEmpty else { throw PruningError("the code keeps no \(what) of \(entry.module); an expert needs at least one") }
        return groups
      }
      switch module {
      case .resnet(let r):
        let groups = try kept(entry.widths[0], "channel group")
        guard groups.count < entry.widths[0] else { continue }
        widths.resnetGroups[entry.module] = groups.count
        let channels = Self.expand(groups, size: r.outChannels / entry.widths[0])
        for name in ["conv1.weight", "conv1.bias", "time_emb_proj.weight", "time_emb_proj.bias", "norm2.weight", "norm2.bias"] {
          slices["\(entry.module).\(name)"] = (0, channels)
        }
        slices["\(entry.module).conv2.weight"] = (1, channels)
      case .transformer(let t):
        let block = "\(entry.module).transformer_blocks.0"
        for (i, attention) in ["attn1", "attn2"].enumerated() {
          let heads = try kept(entry.widths[i], "head in \(attention)")
          guard heads.count < entry.widths[i] else { continue }
          widths.attentionHeads["\(block).\(attention)"] = heads.count
          let rows = Self.expand(heads, size: t.channels / t.heads)
          for p in ["to_q", "to_k", "to_v"] { slices["\(block).\(attention).\(p).weight"] = (0, rows) }
          slices["\(block).\(attention).to_out.0.weight"] = (1, rows)
        }
        let groups = try kept(entry.widths[2], "feed-forward group")
        guard groups.count < entry.widths[2] else { continue }
        let inner = t.feedForwardInner
        let units = Self.expand(groups, size: inner / entry.widths[2])
        widths.feedForwardInner["\(block).ff"] = units.count
        for name in ["net.0.proj.weight", "net.0.proj.bias"] { slices["\(block).ff.\(name)"] = (0, units + units.map { $0 + inner }) }
        slices["\(block).ff.net.2.weight"] = (1, units)
      }
    }
    return ExpertPlan(widths: widths, slices: slices)
  }

  /// Group indices -> the element indices they cover (`size` consecutive elements per group).
  static func expand(_ groups: [Int], size: Int) -> [Int] { groups.flatMap { g in (g * size)..<((g + 1) * size) } }
}

/// Physically pruned experts: smaller UNets whose weights are slices of the full model's.
public enum Experts {
  /// The expert of `code`: a UNet whose config records the pruned widths (`aptp_pruned`) and
  /// whose kept channels, heads and feed-forward units are copied from `unet` (the reference at its
  /// latest commit re-initialises them randomly; this follows its intended, earlier behaviour).
  public static func extract(from unet: UNet2DConditionModel, structure: GateStructure, code: [Float]) throws -> UNet2DConditionModel {
    let plan = try structure.expertPlan(code: code, for: unet)
    var config = unet.config
    config.extra[UNetLayerWidths.configKey] = plan.widths.configValue
    let expert = try UNet2DConditionModel(config)
    let full = Dictionary(uniqueKeysWithValues: unet.namedParameters())
    var state: [String: Tensor] = [:]
    for (name, target) in expert.namedParameters() {
      guard var source = full[name] else { throw PruningError("the full UNet has no parameter \(name)") }
      if let (axis, indices) = plan.slices[name] {
        source = try source.indexSelect(axis, Tensor(ints: indices.map(Int64.init))).contiguous()
      }
      guard source.shape == target.shape else { throw PruningError("\(name): sliced shape \(source.shape) != expert shape \(target.shape)") }
      state[name] = source
    }
    try expert.loadState(state, strict: true)
    expert.eval()
    return expert
  }
}
