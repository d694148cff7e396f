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

  /// The layer shapes behind each entry and the formulas (only when built from a config).
  let shapes: [EntryShape]
  let counter: MACCounter?

  /// A model from counts computed earlier (e.g. stored with a router).
  public init(structure: GateStructure, entries: [EntryMACs], ungated: Double) {
    self.structure = structure
    self.entries = entries
    self.ungated = ungated
    self.shapes = []
    self.counter = nil
  }

  /// Counts for `config` at latents of `height` x `width` with `tokens` context tokens.
  public init(config c: UNet2DConditionConfig, structure: GateStructure, height: Int, width: Int, tokens: Int) throws {
    guard height > 0, width > 0, tokens > 0 else { throw PruningError("MACs need a positive latent size and token count") }
    let counter = MACCounter(config: c, tokens: tokens)
    let (shapes, ungated) = counter.shapes(height: height, width: width)
    // Each block's resnets come before its transformers: the canonical order of the structure.
    guard shapes.count == structure.entries.count else {
      throw PruningError("the MAC model found \(shapes.count) gated entries, the structure has \(structure.entries.count)")
    }
    self.structure = structure
    self.entries = shapes.map { counter.macs($0) }
    self.ungated = ungated
    self.shapes = shapes
    self.counter = counter
  }

  /// What the op counter measures on the physically pruned expert of `code` (hard at 0.5): every
  /// layer at its pruned width, dropped sub-blocks at zero, SiLUs included. It differs from the
  /// reference's `cur` bookkeeping (used for the resource loss) only by the bias and SiLU terms that
  /// do not scale with the kept fraction. Needs counts built from a config.
  public func expertMACs(_ code: [Float]) throws -> Double {
    try ungated + expertMACsByEntry(code).reduce(0, +)
  }

  /// The expert's MACs per block (`down_blocks.0`, `mid_block`, ...), gated entries only, in order.
  public func expertMACsByBlock(_ code: [Float]) throws -> [(block: String, macs: Double)] {
    var out: [(block: String, macs: Double)] = []
    for (entry, macs) in zip(structure.entries, try expertMACsByEntry(code)) {
      let block = entry.module.split(separator: ".").prefix(entry.module.hasPrefix("mid_block") ? 1 : 2).joined(separator: ".")
      if out.last?.block == block { out[out.count - 1].macs += macs } else { out.append((block, macs)) }
    }
    return out
  }

  func expertMACsByEntry(_ code: [Float]) throws -> [Double] {
    guard let counter else { throw PruningError("expert MACs need a resource model built from the UNet config") }
    guard code.count == structure.length else { throw PruningError("an architecture code needs \(structure.length) values, got \(code.count)") }
    let hard = code.map { $0 >= 0.5 ? 1 : 0 }
    return zip(structure.entries, shapes).map { entry, shape in
      if let d = entry.depthColumn, hard[d] == 0 { return 0 }
      var column = entry.widthOffset
      let kept = entry.widths.map { w -> Double in
        defer { column += w }
        return Double(hard[column..<(column + w)].reduce(0, +)) / Double(w)
      }
      let macs = counter.macs(shape, kept: kept)
      return macs.total + macs.activations
    }
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

/// The layer shape behind one gated entry: a resnet (in/out channels) or a transformer
/// (channels, heads), at `positions` = H·W of its block.
enum EntryShape: Sendable {
  case resnet(input: Int, output: Int, positions: Int)
  case transformer(channels: Int, heads: Int, positions: Int)
}

/// The op-counter formulas for the modules a UNet uses.
struct MACCounter: Sendable {
  let config: UNet2DConditionConfig
  let tokens: Int
  var timeChannels: Int { config.blockOutChannels[0] * 4 }
  var contextWidth: Int { config.crossAttentionDim.perBlock(config.blockOutChannels.count)[0] }

  func conv(_ cin: Int, _ cout: Int, kernel k: Int, positions p: Int) -> Double { Double(k * k * cin * cout * p + cout * p) }
  func linear(_ inF: Int, _ outF: Int, rows: Int, bias: Bool = true) -> Double { Double(rows * inF * outF + (bias ? outF : 0)) }
  func groupNorm(_ c: Int, _ p: Int) -> Double { Double(2 * c * p) }

  /// The gated entries' shapes in the structure's order, and the MACs outside them.
  func shapes(height: Int, width: Int) -> ([EntryShape], Double) {
    let c = config
    var shapes: [EntryShape] = []
    var ungated = stem(height * width)
    var (h, w) = (height, width)
    let n = c.blockOutChannels.count, layers = c.layersPerBlock.perBlock(n)
    for i in 0..<n {
      let out = c.blockOutChannels[i], input = i == 0 ? c.blockOutChannels[0] : c.blockOutChannels[i - 1]
      shapes += (0..<layers[i]).map { j in .resnet(input: j == 0 ? input : out, output: out, positions: h * w) }
      if c.downBlockTypes[i].hasPrefix("CrossAttn") {
        shapes += (0..<layers[i]).map { _ in .transformer(channels: out, heads: c.headsPerBlock[i], positions: h * w) }
      }
      if i < n - 1 {
        (h, w) = ((h + 1) / 2, (w + 1) / 2)
        ungated += conv(out, out, kernel: 3, positions: h * w)
      }
    }
    let last = c.blockOutChannels[n - 1]
    shapes += [
      .resnet(input: last, output: last, positions: h * w), .resnet(input: last, output: last, positions: h * w),
      .transformer(channels: last, heads: c.headsPerBlock[n - 1], positions: h * w),
    ]
    let rc = Array(c.blockOutChannels.reversed()), rh = Array(c.headsPerBlock.reversed()), rl = Array(layers.reversed())
    for i in 0..<n {
      let out = rc[i], previous = i == 0 ? rc[0] : rc[i - 1], skipIn = rc[Swift.min(i + 1, n - 1)]
      shapes += (0..<(rl[i] + 1)).map { j in
        .resnet(input: (j == 0 ? previous : out) + (j == rl[i] ? skipIn : out), output: out, positions: h * w)
      }
      if c.upBlockTypes[i].hasPrefix("CrossAttn") {
        shapes += (0..<(rl[i] + 1)).map { _ in .transformer(channels: out, heads: rh[i], positions: h * w) }
      }
      if i < n - 1 {
        (h, w) = (h * 2, w * 2)
        ungated += conv(out, out, kernel: 3, positions: h * w)
      }
    }
    return (shapes, ungated)
  }

  /// MACs of one entry with the kept fraction of each width group (1 = full; the full model's counts).
  func macs(_ shape: EntryShape, kept: [Double]? = nil) -> EntryMACs {
    switch shape {
    case .resnet(let cin, let cout, let p):
      let inner = Int((Double(cout) * (kept?[0] ?? 1)).rounded())
      let prunable = conv(cin, inner, kernel: 3, positions: p) + linear(timeChannels, inner, rows: 1) + groupNorm(inner, p)
        + conv(inner, cout, kernel: 3, positions: p)
      let extra = groupNorm(cin, p) + (cin == cout ? 0 : conv(cin, cout, kernel: 1, positions: p))
      let silu = Double(2 * (cin * p + timeChannels + inner * p))
      return EntryMACs(prunableParts: [prunable], total: prunable + extra, activations: silu)
    case .transformer(let c, let heads, let s):
      let d = c / heads
      func attention(_ fraction: Double, context: Int?) -> Double {
        let h = Int((Double(heads) * fraction).rounded()), inner = h * d
        let core = Double(h * (2 * s * s * d + s * s))
        let kv = context.map { 2 * linear($0, inner, rows: tokens, bias: false) } ?? 2 * linear(c, inner, rows: s, bias: false)
        return linear(c, inner, rows: s, bias: false) + kv + linear(inner, c, rows: s) + core
      }
      let attn1 = attention(kept?[0] ?? 1, context: nil), attn2 = attention(kept?[1] ?? 1, context: contextWidth)
      let ffInner = Int((Double(4 * c) * (kept?[2] ?? 1)).rounded())
      let ff = linear(c, 2 * ffInner, rows: s) + linear(ffInner, c, rows: s)
      let projection = config.useLinearProjection ? linear(c, c, rows: s) : conv(c, c, kernel: 1, positions: s)
      let extra = groupNorm(c, s) + 2 * projection + Double(3 * s * c)
      return EntryMACs(prunableParts: [attn1, attn2, ff], total: attn1 + attn2 + ff + extra)
    }
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
