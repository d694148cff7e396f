// ExpertBindings: physically pruned experts in scripts — extraction from a router's code, MAC measurement, saving.

import Diffusion
import Formats
import NN
import Pruning
import Script
import TensorCore

/// Adds `pruning.extract`, `pruning.count_macs` and `pruning.expert_macs` to the pruning module.
func addExpertFunctions(_ m: MapRef, _ ctx: BindingContext) {
  def(m, "extract", [p("unet"), p("router"), p("expert", .number(0)), p("ff_gate_width", .number(32))],
    doc: "The physically smaller UNet of expert k: the full UNet's weights sliced by the router's hard code k (pruned widths recorded in its config); `router` may also be a code [D] (then ff_gate_width gives the layout).") { a in
    let unet = try a.native(0, UNet2DConditionModel.self, "UNet")
    if case .native(let o) = a[1], let code = o.payload as? Tensor {
      let structure = try GateStructure(unet: unet, ffGateWidth: try a.int(3))
      return ctx.wrap(unet: try Experts.extract(from: unet, structure: structure, code: code.contiguous().toArray()))
    }
    let bundle = try a.native(1, RouterBox.self, "Router").bundle
    let k = try a.int(2)
    guard k >= 0, k < bundle.router.codeCount else { throw a.bad(2, "expert index in 0..<\(bundle.router.codeCount)") }
    let structure = try bundle.structure(for: unet)
    let code = try bundle.router.expertCodes.narrow(0, start: k, length: 1).toArray()
    return ctx.wrap(unet: try Experts.extract(from: unet, structure: structure, code: code))
  }
  def(m, "baseline_code", [p("unet"), p("method"), p("target", .number(0.6)), p("height", .number(32)), p("width", .number(32)),
    p("tokens", .number(77)), p("ff_gate_width", .number(32)), p("seed", .number(0))],
    doc: "{code [D], macs_ratio}: one architecture for every prompt at a target on total MACs — method \"magnitude\" (smallest L1 groups removed first), \"random\" (seeded order) or \"uniform\" (the same fraction of every gate).") { a in
    let unet = try a.native(0, UNet2DConditionModel.self, "UNet")
    let s = try GateStructure(unet: unet, ffGateWidth: try a.int(6))
    let r = try ResourceModel(config: unet.config, structure: s, height: try a.int(3), width: try a.int(4), tokens: try a.int(5))
    let target = try a.number(2)
    let code: [Float]
    switch try a.string(1) {
    case "magnitude": code = try BaselineCodes.magnitude(unet, structure: s, resources: r, target: target)
    case "random": code = try BaselineCodes.random(structure: s, resources: r, target: target, seed: UInt64(max(0, try a.int(7))))
    case "uniform": code = try BaselineCodes.uniform(unet, structure: s, resources: r, target: target)
    default: throw a.bad(1, "\"magnitude\", \"random\" or \"uniform\"")
    }
    return .map(MapRef([("code", ctx.wrap(try Tensor.from(code, shape: [code.count]))), ("macs_ratio", .number(try BaselineCodes.ratio(code, r)))]))
  }
  def(m, "sinkhorn", [p("scores"), p("iterations", .number(3)), p("epsilon", .number(0.05))],
    doc: "Sinkhorn-balanced assignment weights [B, K] for scores [B, K] (each row sums to 1; columns pushed toward B/K), as the router's optimal transport.") { a in
    let s = try a.tensor(0, ctx)
    guard s.rank == 2, s.shape[0] > 0, s.shape[1] > 0 else { throw a.bad(0, "scores [B, K]") }
    let iterations = try a.int(1)
    guard iterations >= 0 else { throw a.bad(1, "iterations >= 0") }
    let q = sinkhorn(s.contiguous().toArray(), batch: s.shape[0], codes: s.shape[1], epsilon: Float(try a.number(2)), iterations: iterations)
    return ctx.wrap(try Tensor.from(q, shape: s.shape))
  }
  def(m, "count_macs", [p("f")],
    doc: "Calls f() and returns {result, macs}: the multiply-accumulates its layers performed (the reference's op-counter formulas; use batch 1 for MACs per sample).") { a in
    let (result, macs) = try OpCounter.measure { try a.interpreter.callValue(a[0], []) }
    return .map(MapRef([("result", result), ("macs", .number(macs))]))
  }
  def(m, "expert_macs", [p("unet"), p("code"), p("height", .number(32)), p("width", .number(32)), p("tokens", .number(77)), p("ff_gate_width", .number(32))],
    doc: "{total, blocks}: the MACs per sample the physically pruned expert of code [D] performs, and per block.") { a in
    let config = try a.unetConfig(0)
    let s = try GateStructure(config: config, ffGateWidth: try a.int(5))
    let r = try ResourceModel(config: config, structure: s, height: try a.int(2), width: try a.int(3), tokens: try a.int(4))
    let code = try a.tensor(1, ctx).toArray()
    let blocks = try r.expertMACsByBlock(code).map { ($0.block, Value.number($0.macs)) }
    return .map(MapRef([("total", .number(try r.expertMACs(code))), ("blocks", .map(MapRef(blocks)))]))
  }
}

extension RouterBundle {
  /// The full structure of `unet` (with module paths), checked to be the layout this router was trained on.
  func structure(for unet: UNet2DConditionModel) throws -> GateStructure {
    let mine = router.relaxation.structure
    let ff = mine.entries.first { $0.kind == .transformer }?.widths[2] ?? 32
    let structure = try GateStructure(unet: unet, ffGateWidth: ff)
    guard structure.widthList == mine.widthList, structure.depthList == mine.depthList else {
      throw PruningError("the router's gate layout (length \(mine.length)) does not match this UNet's (length \(structure.length))")
    }
    return structure
  }
}

/// UNet methods for experts: save as a diffusers folder, and the pruned widths.
func configureExpertMethods(_ ctx: BindingContext) {
  let t = ctx.unetType
  method(t, "save", [p("folder"), p("dtype", .string("f32"))],
    doc: "Writes a diffusers folder: config.json (with aptp_pruned widths for an expert) and diffusion_pytorch_model.safetensors (f32, f16 or bf16).") { a in
    guard let dtype = SafetensorsDType(rawValue: try a.string(1).uppercased()), [.f32, .f16, .bf16].contains(dtype) else {
      throw a.bad(1, "\"f32\", \"f16\" or \"bf16\"")
    }
    try a.payload(UNet2DConditionModel.self, "UNet").save(folder: try a.string(0), dtype: dtype)
    return .null
  }
  t.properties["pruned"] = NativeProperty(doc: "An expert's pruned widths {resnet_groups, attention_heads, feed_forward_inner, dropped}, or nil for a full UNet.") { o in
    guard let u = o.payload as? UNet2DConditionModel, let w = try? UNetLayerWidths(config: u.config), !w.isEmpty else { return .null }
    return scriptValue(w.configValue)
  }
  method(t, "block_parameters", [], doc: "Parameter count per top-level block (conv_in, time_embedding, down_blocks.i, mid_block, up_blocks.i, ...).") { a in
    var counts: [(String, Int)] = []
    for (name, tensor) in try a.payload(UNet2DConditionModel.self, "UNet").namedParameters() {
      let parts = name.split(separator: ".")
      let block = parts.first.map { ["down_blocks", "up_blocks"].contains(String($0)) && parts.count > 1 ? "\($0).\(parts[1])" : String($0) } ?? name
      if counts.last?.0 == block { counts[counts.count - 1].1 += tensor.count } else { counts.append((block, tensor.count)) }
    }
    return .map(MapRef(counts.map { ($0.0, .number(Double($0.1))) }))
  }
}
