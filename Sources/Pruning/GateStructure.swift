// GateStructure: APTP's gate layout derived from a UNet config — sub-blocks, width groups, depth gates, vector columns.

import Diffusion
import Formats

/// One gated sub-block: a resnet (one width group of `norm2` groups) or a transformer (heads of
/// self-attention, heads of cross-attention, feed-forward groups), with its columns in the vector.
public struct GateEntry: Sendable, Equatable {
  public enum Kind: String, Sendable { case resnet, transformer }
  public let kind: Kind
  /// The module path, e.g. `down_blocks.0.resnets.1` or `up_blocks.3.attentions.2`.
  public let module: String
  /// Width groups: `[groups]` for a resnet, `[heads, heads, ff groups]` for a transformer.
  public let widths: [Int]
  /// Whether the sub-block has a depth gate (the last resnet / transformer of a down or up block).
  public let depthGated: Bool
  /// The first column of this entry's width groups.
  public let widthOffset: Int
  /// The column of its depth gate, if any.
  public let depthColumn: Int?

  public var widthSum: Int { widths.reduce(0, +) }
}

/// The canonical layout of the architecture vector (aptp-reference §3.4): down blocks, mid block,
/// up blocks; inside a block all resnets, then all transformers; all width groups first (each
/// contiguous), then one column per depth gate in the same order. Depth gates sit on the last
/// resnet and the last transformer of every down and up block, except on a resnet that changes
/// the channel count (possible with one layer per block; Stable Diffusion has none).
public struct GateStructure: Sendable, Equatable {
  public let entries: [GateEntry]
  public let sumWidth: Int
  public let depthCount: Int

  /// The flat list of width-group sizes in vector order.
  public var widthList: [Int] { entries.flatMap(\.widths) }
  /// 0/1 per entry: whether it has a depth gate.
  public var depthList: [Int] { entries.map { $0.depthGated ? 1 : 0 } }
  /// The architecture vector's length: width columns plus depth gates.
  public var length: Int { sumWidth + depthCount }
  /// Number of width groups (70 for SD 2.1).
  public var groupCount: Int { entries.reduce(0) { $0 + $1.widths.count } }

  /// The structure of a UNet built from `config`, with feed-forward gates of `ffGateWidth` groups
  /// (the reference's `ff_gate_width`). Needs no weights.
  public init(config c: UNet2DConditionConfig, ffGateWidth: Int = 32) throws {
    let n = c.blockOutChannels.count
    guard n > 0, c.downBlockTypes.count == n, c.upBlockTypes.count == n else {
      throw PruningError("UNet config needs one down and one up block per block_out_channels entry")
    }
    if let layers = c.transformerLayersPerBlock.values.first(where: { $0 != 1 }) {
      throw PruningError("gating supports one transformer block per Transformer2DModel (transformer_layers_per_block = \(layers))")
    }
    let groups = c.normNumGroups ?? 32, heads = c.headsPerBlock, layers = c.layersPerBlock.perBlock(n)
    var builder = Builder(groups: groups, ffGateWidth: ffGateWidth)
    for i in 0..<n {
      let cross = c.downBlockTypes[i].hasPrefix("CrossAttn")
      let input = i == 0 ? c.blockOutChannels[0] : c.blockOutChannels[i - 1]
      try builder.block(
        "down_blocks.\(i)", channels: c.blockOutChannels[i], resnets: layers[i], transformers: cross ? layers[i] : 0, heads: heads[i],
        depth: true, lastResnetInput: layers[i] == 1 ? input : c.blockOutChannels[i])
    }
    try builder.block(
      "mid_block", channels: c.blockOutChannels[n - 1], resnets: 2, transformers: 1, heads: heads[n - 1], depth: false,
      lastResnetInput: c.blockOutChannels[n - 1])
    let rc = Array(c.blockOutChannels.reversed()), rh = Array(heads.reversed()), rl = Array(layers.reversed())
    for i in 0..<n {
      let cross = c.upBlockTypes[i].hasPrefix("CrossAttn")
      let previous = i == 0 ? rc[0] : rc[i - 1]
      try builder.block(
        "up_blocks.\(i)", channels: rc[i], resnets: rl[i] + 1, transformers: cross ? rl[i] + 1 : 0, heads: rh[i], depth: true,
        lastResnetInput: rl[i] == 0 ? previous : rc[i])
    }
    self.init(pending: builder.pending)
  }

  /// A structure given as the reference's `get_structure()` lists: widths per entry (one value:
  /// a resnet; three: a transformer) and 0/1 depth flags per entry.
  public init(widths: [[Int]], depth: [Int]) throws {
    guard widths.count == depth.count, !widths.isEmpty else {
      throw PruningError("structure needs one depth flag per width entry (\(widths.count) widths, \(depth.count) flags)")
    }
    guard widths.allSatisfy({ ($0.count == 1 || $0.count == 3) && $0.allSatisfy { $0 > 0 } }), depth.allSatisfy({ $0 == 0 || $0 == 1 }) else {
      throw PruningError("structure entries must have 1 (resnet) or 3 (transformer) positive widths and 0/1 depth flags")
    }
    self.init(pending: zip(widths, depth).enumerated().map { i, e in
      (e.0.count == 1 ? .resnet : .transformer, "entry.\(i)", e.0, e.1 == 1)
    })
  }

  private init(pending: [(GateEntry.Kind, String, [Int], Bool)]) {
    var entries: [GateEntry] = []
    var offset = 0
    let sumWidth = pending.reduce(0) { $0 + $1.2.reduce(0, +) }
    var depthColumn = sumWidth
    for (kind, module, widths, depth) in pending {
      entries.append(
        GateEntry(kind: kind, module: module, widths: widths, depthGated: depth, widthOffset: offset, depthColumn: depth ? depthColumn : nil))
      offset += widths.reduce(0, +)
      if depth { depthColumn += 1 }
    }
    self.entries = entries
    self.sumWidth = sumWidth
    self.depthCount = depthColumn - sumWidth
  }

  /// The structure of a UNet model (its config decides it; the model is checked to match).
  public init(unet: UNet2DConditionModel, ffGateWidth: Int = 32) throws {
    try self.init(config: unet.config, ffGateWidth: ffGateWidth)
  }

  /// The reference's `depth_order` config list (negative entries count from the end), as slot ->
  /// depth gate: slot k of the survival profile goes to depth gate `order[k] mod depthCount`.
  public func depthOrder(_ configured: [Int]) throws -> [Int] {
    guard configured.count == depthCount else {
      throw PruningError("depth_order lists \(configured.count) entries for \(depthCount) depth gates")
    }
    let order = configured.map { (($0 % depthCount) + depthCount) % depthCount }
    guard Set(order).count == depthCount else { throw PruningError("depth_order \(configured) does not name every depth gate once") }
    return order
  }

  /// Collects entries block by block in the canonical order.
  private struct Builder {
    let groups: Int, ffGateWidth: Int
    var pending: [(GateEntry.Kind, String, [Int], Bool)] = []

    /// `lastResnetInput`: the channels of the identity the last resnet would fall back to; a
    /// resnet that changes the channel count cannot be skipped, so it gets no depth gate.
    mutating func block(
      _ name: String, channels: Int, resnets: Int, transformers: Int, heads: Int, depth: Bool, lastResnetInput: Int
    ) throws {
      guard channels % groups == 0 else { throw PruningError("\(name): \(channels) channels are not divisible by \(groups) groups") }
      let skippable = lastResnetInput == channels
      for j in 0..<resnets { pending.append((.resnet, "\(name).resnets.\(j)", [groups], depth && skippable && j == resnets - 1)) }
      guard transformers > 0 else { return }
      guard heads > 0, channels % heads == 0 else { throw PruningError("\(name): \(channels) channels are not divisible by \(heads) heads") }
      guard ffGateWidth > 0, (4 * channels) % ffGateWidth == 0 else {
        throw PruningError("\(name): the feed-forward width \(4 * channels) is not divisible by ff_gate_width \(ffGateWidth)")
      }
      for j in 0..<transformers {
        pending.append((.transformer, "\(name).attentions.\(j)", [heads, heads, ffGateWidth], depth && j == transformers - 1))
      }
    }
  }
}
