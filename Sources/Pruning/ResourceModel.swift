// ResourceModel: multiply-accumulate counts of a (gated) UNet, the per-sample MACs of architecture vectors, the target conversion.

import Diffusion
import Formats
import TensorCore

/// Static MAC counts of one gated entry at a given resolution (the reference's op-counter formulas,
/// aptp-reference §4.4-4.5): `prunable` scales with the gates, `total` adds what does not.
public struct EntryMACs: Sendable {
  /// For a resnet: [conv1 + time_emb_proj + norm2 + conv2]; for a transformer: [attn1, attn2, ff].
  public let prunableParts: [Double]
  public let total: Double
  /// The resnet's three SiLUs, which the op counter counts and the per-block bookkeeping leaves out.
  public var activations: Double = 0
  public var prunable: Double { prunableParts.reduce(0, +) }
}

/// The UNet's MACs for one sample at a latent size and context length, and the resource ratio
/// of architecture vectors: current prunable MACs (hardened gates, straight-through gradient)
/// over the prunable MACs of the full model (`P_full`).
public struct ResourceModel: Sendable {
  public let structure: GateStructure
  public let entries: [EntryMACs]
  /// MACs outside the gated entries: samplers, time embedding, conv_in/out, final norm.
  public let ungated: Double
  /// `T_full`: every MAC of the model.
  public var total: Double { entries.reduce(0) { $0 + $1.total } + ungated }
  /// `P_full`: prunable MACs plus the non-prunable MACs inside depth-gated entries.
  public var prunableFull: Double {
    zip(structure.entries, entries).reduce(0) { $0 + ($1.0.depthGated ? $1.1.total : $1.1.prunable) }
  }
  /// What the reference's op counter reports: `total` plus the resnets' SiLUs.
  public var opCounterTotal: Double { total + entries.reduce(0) { $0 + $1.activations } }
  /// The prunable MACs alone.
  public var prunable: Double { entries.reduce(0) { $0 + $1.prunable } }

  /// A model from counts computed earlier (e.g. stored with a router).
  public init(structure: GateStructure, entries: [EntryMACs], ungated: Double) {
    self.structure = structure
    self.entries = entries
    self.ungated = ungated
  }

  /// Counts for `config` at latents of `height` x `width` with `tokens` context tokens.
  public init(config c: UNet2DConditionConfig, structure: GateStructure, height: Int, width: Int, tokens: Int) throws {
    guard height > 0, width > 0, tokens > 0 else { throw PruningError("MACs need a positive latent size and token count") }
    let counter = MACCounter(config: c, tokens: tokens)
    var entries: [EntryMACs] = []
    var ungated = counter.stem(height * width)
    var (h, w) = (height, width)
    let n = c.blockOutChannels.count, layers = c.layersPerBlock.perBlock(n)
    for i in 0..<n {
      let out = c.blockOutChannels[i], input = i == 0 ? c.blockOutChannels[0] : c.blockOutChannels[i - 1]
      let cross = c.downBlockTypes[i].hasPrefix("CrossAttn")
      for j in 0..<layers[i] { entries.append(counter.resnet(j == 0 ? input : out, out, h * w)) }
      if cross { for _ in 0..<layers[i] { entries.append(counter.transformer(out, heads: c.headsPerBlock[i], h * w)) } }
      if i < n - 1 {
        (h, w) = ((h + 1) / 2, (w + 1) / 2)
        ungated += counter.conv(out, out, kernel: 3, positions: h * w)
      }
    }
    let last = c.blockOutChannels[n - 1]
    entries += [counter.resnet(last, last, h * w), counter.resnet(last, last, h * w), counter.transformer(last, heads: c.headsPerBlock[n - 1], h * w)]
    let rc = Array(c.blockOutChannels.reversed()), rh = Array(c.headsPerBlock.reversed()), rl = Array(layers.reversed())
    for i in 0..<n {
      let out = rc[i], previous = i == 0 ? rc[0] : rc[i - 1], skipIn = rc[Swift.min(i + 1, n - 1)]
      let cross = c.upBlockTypes[i].hasPrefix("CrossAttn")
      for j in 0..<(rl[i] + 1) {
        let skip = j == rl[i] ? skipIn : out
        entries.append(counter.resnet((j == 0 ? previous : out) + skip, out, h * w))
      }
      if cross { for _ in 0..<(rl[i] + 1) { entries.append(counter.transformer(out, heads: rh[i], h * w)) } }
      if i < n - 1 {
        (h, w) = (h * 2, w * 2)
        ungated += counter.conv(out, out, kernel: 3, positions: h * w)
      }
    }
    // Each block's resnets come before its transformers: the canonical order of the structure.
    guard entries.count == structure.entries.count else {
      throw PruningError("the MAC model found \(entries.count) gated entries, the structure has \(structure.entries.count)")
    }
    self.structure = structure
    self.entries = entries
    self.ungated = ungated
  }

  /// The reference's conversion of a target on total MACs into one on `P_full`: p' = 1 − (1 − p)·T/P.
  public func prunableTarget(_ p: Double) throws -> Double {
    guard p > 0, p <= 1 else { throw PruningError("pruning_target must be in (0, 1], got \(p)") }
    return 1 - (1 - p) * total / prunableFull
  }

  /// Current prunable MACs of each row of hard or soft codes, in Double (for reports; no gradient).
  public func currentPrunable(_ codes: Tensor) throws -> [Double] {
    guard codes.rank == 2, codes.shape[1] == structure.length else {
      throw PruningError("architecture vectors must be [batch, \(structure.length)], got \(codes.shape)")
    }
    let values = codes.toArray(), d = structure.length
    return (0..<codes.shape[0]).map { row in
      let v = values[(row * d)..<((row + 1) * d)].map { $0 >= 0.5 ? 1.0 : 0.0 }
      var sum = 0.0
      for (entry, macs) in zip(structure.entries, entries) {
        var column = entry.widthOffset, current = 0.0
        for (width, part) in zip(entry.widths, macs.prunableParts) {
          current += part * v[column..<(column + width)].reduce(0, +) / Double(width)
          column += width
        }
        if let dc = entry.depthColumn { current = (current + macs.total - macs.prunable) * v[dc] }
        sum += current
      }
      return sum
    }
  }

  /// Per-sample resource ratios [B] = current prunable MACs / P_full, from architecture vectors
  /// [B, length]; gates are hardened with a straight-through gradient.
  public func ratios(_ vectors: Tensor) throws -> Tensor {
    guard vectors.rank == 2, vectors.shape[1] == structure.length else {
      throw PruningError("architecture vectors must be [batch, \(structure.length)], got \(vectors.shape)")
    }
    let scale = 1 / prunableFull
    var sum: Tensor? = nil
    for (entry, macs) in zip(structure.entries, entries) {
      var column = entry.widthOffset
      var current: Tensor? = nil
      for (width, part) in zip(entry.widths, macs.prunableParts) {
        let kept = try hardThreshold(vectors.narrow(1, start: column, length: width)).mean(axes: [1])
        let term = try kept.scaled(Float(part * scale))
        current = try current.map { try $0 + term } ?? term
        column += width
      }
      guard var value = current else { continue }
      if let d = entry.depthColumn {
        let depth = try hardThreshold(vectors.narrow(1, start: d, length: 1)).reshape([vectors.shape[0]])
        value = try (value + Float((macs.total - macs.prunable) * scale)) * depth
      }
      sum = try sum.map { try $0 + value } ?? value
    }
    return sum ?? Tensor(shape: [vectors.shape[0]])
  }
}

/// The op-counter formulas for the modules a UNet uses.
struct MACCounter {
  let config: UNet2DConditionConfig
  let tokens: Int
  var timeChannels: Int { config.blockOutChannels[0] * 4 }
  var contextWidth: Int { config.crossAttentionDim.perBlock(config.blockOutChannels.count)[0] }

  func conv(_ cin: Int, _ cout: Int, kernel k: Int, positions p: Int) -> Double { Double(k * k * cin * cout * p + cout * p) }
  func linear(_ inF: Int, _ outF: Int, rows: Int, bias: Bool = true) -> Double { Double(rows * inF * outF + (bias ? outF : 0)) }
  func groupNorm(_ c: Int, _ p: Int) -> Double { Double(2 * c * p) }

  func resnet(_ cin: Int, _ cout: Int, _ p: Int) -> EntryMACs {
    let prunable = conv(cin, cout, kernel: 3, positions: p) + linear(timeChannels, cout, rows: 1) + groupNorm(cout, p)
      + conv(cout, cout, kernel: 3, positions: p)
    let extra = groupNorm(cin, p) + (cin == cout ? 0 : conv(cin, cout, kernel: 1, positions: p))
    let silu = Double(2 * (cin * p + timeChannels + cout * p))
    return EntryMACs(prunableParts: [prunable], total: prunable + extra, activations: silu)
  }

  /// attn1 + attn2 + ff prunable; GroupNorm, proj_in/out and three LayerNorms besides. The core
  /// attention term uses the query length for cross-attention too (the reference's simplification).
  func transformer(_ c: Int, heads: Int, _ s: Int) -> EntryMACs {
    let d = c / heads
    let core = Double(heads * (2 * s * s * d + s * s))
    let attn1 = 3 * linear(c, c, rows: s, bias: false) + linear(c, c, rows: s) + core
    let attn2 = linear(c, c, rows: s, bias: false) + 2 * linear(contextWidth, c, rows: tokens, bias: false) + linear(c, c, rows: s) + core
    let ff = linear(c, 8 * c, rows: s) + linear(4 * c, c, rows: s)
    let projection = config.useLinearProjection ? linear(c, c, rows: s) : conv(c, c, kernel: 1, positions: s)
    let extra = groupNorm(c, s) + 2 * projection + Double(3 * s * c)
    return EntryMACs(prunableParts: [attn1, attn2, ff], total: attn1 + attn2 + ff + extra)
  }

  /// Time embedding (two linears and a SiLU), conv_in, conv_norm_out + SiLU, conv_out.
  func stem(_ p: Int) -> Double {
    let c0 = config.blockOutChannels[0], t = timeChannels
    let time = linear(c0, t, rows: 1) + Double(2 * t) + linear(t, t, rows: 1)
    let k = config.convInKernel, ko = config.convOutKernel
    return time + conv(config.inChannels, c0, kernel: k, positions: p) + groupNorm(c0, p) + Double(2 * c0 * p)
      + conv(c0, config.outChannels, kernel: ko, positions: p)
  }
}
