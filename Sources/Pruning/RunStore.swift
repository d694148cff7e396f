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
    ]
    try Safetensors.save(payloads, metadata: metadata, to: path)
  }
}
