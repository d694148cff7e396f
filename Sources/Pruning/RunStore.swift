// RunStore: a pruning run on disk — the checkpoint (router, predictor, optimizer, step) written atomically, and the router file.

import Formats
import Foundation
import NN
import TensorCore

extension PruningTrainer {
  /// `checkpoint.safetensors`: predictor (`hypernet.*`), router (`quantizer.*`, incl. the sampled
  /// codes) and AdamW state (`optimizer.*`), with the step in the metadata. Written to a temporary
  /// file, synced and renamed, so a kill at any moment leaves the previous checkpoint intact.
  public func saveCheckpoint(in folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var payloads: [TensorPayload] = []
    for (prefix, tensors) in [("hypernet.", predictor.state()), ("quantizer.", router.state())] {
      for (name, t) in tensors { payloads.append(try TensorPayload(name: prefix + name, shape: t.shape, floats: t.toArray())) }
    }
    for (name, t) in optimizer.stateTensors().sorted(by: { $0.key < $1.key }) {
      payloads.append(try TensorPayload(name: "optimizer." + name, shape: t.shape, floats: t.toArray()))
    }
    try Safetensors.save(
      payloads, metadata: ["step": String(step), "optimizer_steps": String(optimizer.stepCount), "format": "aptp-pruning-checkpoint-1"],
      to: folder + "/checkpoint.safetensors")
    try saveRouter(to: folder + "/router.safetensors")
  }

  /// Restores the state `saveCheckpoint` wrote; the run then continues exactly as if uninterrupted.
  public func loadCheckpoint(from folder: String) throws {
    let path = folder + "/checkpoint.safetensors"
    guard fileExists(path) else { throw PruningError(file: folder, "no checkpoint.safetensors to resume from") }
    let file = try SafetensorsCheckpoint.open(path)
    let meta = file.metadata
    guard let stepText = meta["step"]?.stringValue, let savedStep = Int(stepText),
      let optimizerText = meta["optimizer_steps"]?.stringValue, let optimizerSteps = Int(optimizerText)
    else { throw PruningError(file: path, "metadata lacks step / optimizer_steps (not a pruning checkpoint)") }
    try predictor.load(from: file, key: { $0.hasPrefix("hypernet.") ? String($0.dropFirst(9)) : nil })
    try router.load(from: file, key: { $0.hasPrefix("quantizer.") ? String($0.dropFirst(10)) : nil })
    var state: [String: Tensor] = [:]
    for r in file.records where r.name.hasPrefix("optimizer.") { state[String(r.name.dropFirst(10))] = try Tensor.reading(r) }
    try optimizer.loadStateTensors(state, stepCount: optimizerSteps)
    step = savedStep
  }

  /// `router.safetensors`: what routing needs without the UNet — predictor and router weights,
  /// and the structure and relaxation settings in the metadata.
  public func saveRouter(to path: String) throws {
    var payloads: [TensorPayload] = []
    for (prefix, tensors) in [("hypernet.", predictor.state()), ("quantizer.", router.state())] {
      for (name, t) in tensors { payloads.append(try TensorPayload(name: prefix + name, shape: t.shape, floats: t.toArray())) }
    }
    let r = router.relaxation
    let metadata = [
      "format": "aptp-router-1",
      "widths": JSONWriter.render(.list(structure.entries.map { .list($0.widths.map { .int($0) }) }), pretty: false),
      "depth": JSONWriter.render(.list(structure.entries.map { .int($0.depthGated ? 1 : 0) }), pretty: false),
      "modules": JSONWriter.render(.list(structure.entries.map { .string($0.module) }), pretty: false),
      "depth_order": JSONWriter.render(.list(r.depthOrder.map { .int($0) }), pretty: false),
      "codes": String(router.codeCount), "temperature": String(r.temperature), "base": String(r.base),
      "prompt_dim": String(predictor.inputDim), "single_architecture": String(config.singleArchitecture),
      "optimal_transport": String(router.optimalTransport),
      "entry_macs": JSONWriter.render(
        .list(resources.entries.map { .map(ConfigMap([("prunable", .list($0.prunableParts.map { .double($0) })), ("total", .double($0.total))])) }),
        pretty: false),
      "ungated_macs": String(resources.ungated),
    ]
    try Safetensors.save(payloads, metadata: metadata, to: path)
  }
}

/// What routing needs, read back from `router.safetensors`: the predictor, the router and the
/// MAC model of the pruned UNet at its training resolution.
public struct RouterBundle {
  public let predictor: ArchitecturePredictor
  public let router: ArchitectureRouter
  public let resources: ResourceModel

  /// Rebuilds the predictor and router from the metadata and loads their weights.
  public static func load(_ path: String) throws -> RouterBundle {
    let file = try SafetensorsCheckpoint.open(path)
    let meta = file.metadata
    func json(_ key: String) throws -> ConfigValue {
      guard let text = meta[key]?.stringValue else { throw PruningError(file: path, "metadata lacks '\(key)' (not an APTP router file)") }
      return try JSONParser.parse(text, file: path)
    }
    func number(_ key: String) throws -> Double {
      guard let text = meta[key]?.stringValue, let v = Double(text) else { throw PruningError(file: path, "metadata lacks a number '\(key)'") }
      return v
    }
    guard meta["format"]?.stringValue == "aptp-router-1" else { throw PruningError(file: path, "not an APTP router file (format \(meta["format"]?.stringValue ?? "missing"))") }
    let widths = try json("widths").listValue?.map { $0.listValue?.compactMap(\.intValue) ?? [] } ?? []
    let depth = try json("depth").listValue?.compactMap(\.intValue) ?? []
    let structure = try GateStructure(widths: widths, depth: depth)
    let order = try json("depth_order").listValue?.compactMap(\.intValue)
    var relaxation = try GateRelaxation(structure: structure, depthOrder: order)
    relaxation.temperature = Float(try number("temperature"))
    relaxation.base = Float(try number("base"))
    let predictor = try ArchitecturePredictor(
      structure: structure, inputDim: Int(try number("prompt_dim")), single: meta["single_architecture"]?.stringValue == "true")
    let router = try ArchitectureRouter(relaxation: relaxation, codes: Int(try number("codes")))
    router.optimalTransport = meta["optimal_transport"]?.stringValue != "false"
    try predictor.load(from: file, key: { $0.hasPrefix("hypernet.") ? String($0.dropFirst(9)) : nil })
    try router.load(from: file, key: { $0.hasPrefix("quantizer.") ? String($0.dropFirst(10)) : nil })
    let entries = try json("entry_macs").listValue?.map { e -> EntryMACs in
      guard let m = e.mapValue, let parts = m["prunable"]?.listValue?.compactMap(\.doubleValue), let total = m["total"]?.doubleValue else {
        throw PruningError(file: path, "entry_macs entries need prunable and total")
      }
      return EntryMACs(prunableParts: parts, total: total)
    } ?? []
    guard entries.count == structure.entries.count else {
      throw PruningError(file: path, "entry_macs lists \(entries.count) entries for \(structure.entries.count) gated sub-blocks")
    }
    let resources = ResourceModel(structure: structure, entries: entries, ungated: try number("ungated_macs"))
    return RouterBundle(predictor: predictor, router: router, resources: resources)
  }

  /// Routes prompt embeddings [B, D]: the expert, its hard code and its MACs ratio (of P_full), and the scores.
  public func route(_ embeddings: Tensor) throws -> (routing: Routing, ratios: [Float]) {
    let routing = try GradMode.noGrad { try router.route(try predictor(embeddings).expand([embeddings.shape[0], router.relaxation.structure.length])) }
    return (routing, try resources.currentPrunable(routing.codes).map { Float($0 / resources.prunableFull) })
  }
}
