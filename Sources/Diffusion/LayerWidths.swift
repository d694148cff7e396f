// LayerWidths: per-layer widths of a physically pruned UNet (an APTP expert), kept in config.json under `aptp_pruned`.

import Formats

/// Which parts of a UNet an expert keeps: channel groups per resnet, heads per attention,
/// GEGLU inner width per feed-forward, and dropped sub-blocks. Paths are module paths
/// (`down_blocks.0.resnets.1`, `mid_block.attentions.0.transformer_blocks.0.attn2`,
/// `...transformer_blocks.0.ff`); anything not listed has the config's full width.
public struct UNetLayerWidths: Sendable, Equatable {
  /// The config.json key under which the widths are stored.
  public static let configKey = "aptp_pruned"
  /// Kept norm2 groups of a resnet (its inner width is groups · channels / norm_num_groups).
  public var resnetGroups: [String: Int] = [:]
  /// Kept heads of an attention (head size unchanged).
  public var attentionHeads: [String: Int] = [:]
  /// Kept inner width of a GEGLU feed-forward (each half of `net.0.proj`).
  public var feedForwardInner: [String: Int] = [:]
  /// Resnets and Transformer2DModels removed entirely (they pass their input through).
  public var dropped: Set<String> = []

  public init() {}

  /// True when nothing is pruned.
  public var isEmpty: Bool { resnetGroups.isEmpty && attentionHeads.isEmpty && feedForwardInner.isEmpty && dropped.isEmpty }

  /// Reads the widths from a config's `aptp_pruned` entry (absent: an unpruned model).
  public init(config: UNet2DConditionConfig) throws {
    guard let value = config.extra[Self.configKey], value != .null else { return }
    guard case .map(let map) = value else { throw DiffusionError("config.json: \(Self.configKey) must be a map, got \(value.typeName)") }
    func counts(_ key: String) throws -> [String: Int] {
      guard let entry = map[key] else { return [:] }
      guard case .map(let m) = entry else { throw DiffusionError("config.json: \(Self.configKey).\(key) must be a map of module paths to counts") }
      var out: [String: Int] = [:]
      for (path, v) in m {
        guard case .int(let n) = v, n > 0 else {
          throw DiffusionError("config.json: \(Self.configKey).\(key).\(path) must be a positive integer, got \(v)")
        }
        out[path] = n
      }
      return out
    }
    resnetGroups = try counts("resnet_groups")
    attentionHeads = try counts("attention_heads")
    feedForwardInner = try counts("feed_forward_inner")
    if let entry = map["dropped"] {
      guard case .list(let items) = entry else { throw DiffusionError("config.json: \(Self.configKey).dropped must be a list of module paths") }
      for item in items {
        guard case .string(let path) = item else { throw DiffusionError("config.json: \(Self.configKey).dropped must hold strings, got \(item)") }
        dropped.insert(path)
      }
    }
  }

  /// The `aptp_pruned` entry written into config.json (sorted keys, so files are reproducible).
  public var configValue: ConfigValue {
    let counts = { (d: [String: Int]) in ConfigValue.map(ConfigMap(d.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })) }
    return .map(
      ConfigMap([
        ("resnet_groups", counts(resnetGroups)), ("attention_heads", counts(attentionHeads)),
        ("feed_forward_inner", counts(feedForwardInner)), ("dropped", .list(dropped.sorted().map { .string($0) })),
      ]))
  }

  /// Checks every path against the modules `config` builds: an unknown path is an error, not a no-op.
  func validate(against config: UNet2DConditionConfig) throws {
    let n = config.blockOutChannels.count
    let layers = config.layersPerBlock.perBlock(n), transformerLayers = config.transformerLayersPerBlock.perBlock(n)
    var resnets: [String] = [], transformers: [(String, Int)] = []
    for i in 0..<n {
      resnets += (0..<layers[i]).map { "down_blocks.\(i).resnets.\($0)" }
      if config.downBlockTypes[i].hasPrefix("CrossAttn") { transformers += (0..<layers[i]).map { ("down_blocks.\(i).attentions.\($0)", transformerLayers[i]) } }
      let up = n - 1 - i
      resnets += (0...layers[up]).map { "up_blocks.\(i).resnets.\($0)" }
      if config.upBlockTypes[i].hasPrefix("CrossAttn") { transformers += (0...layers[up]).map { ("up_blocks.\(i).attentions.\($0)", transformerLayers[up]) } }
    }
    resnets += ["mid_block.resnets.0", "mid_block.resnets.1"]
    transformers.append(("mid_block.attentions.0", transformerLayers[n - 1]))
    let blocks = transformers.flatMap { t, count in (0..<count).map { "\(t).transformer_blocks.\($0)" } }
    let checks: [(String, Set<String>, Set<String>)] = [
      ("resnet_groups", Set(resnetGroups.keys), Set(resnets)),
      ("attention_heads", Set(attentionHeads.keys), Set(blocks.flatMap { [$0 + ".attn1", $0 + ".attn2"] })),
      ("feed_forward_inner", Set(feedForwardInner.keys), Set(blocks.map { $0 + ".ff" })),
      ("dropped", dropped, Set(resnets + transformers.map(\.0))),
    ]
    for (key, paths, known) in checks {
      if let unknown = paths.subtracting(known).sorted().first {
        throw DiffusionError("config.json: \(Self.configKey).\(key) names \(unknown), which this UNet config does not have")
      }
    }
  }
}
