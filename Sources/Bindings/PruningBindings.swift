// PruningBindings: the native `pruning` module — gate structures, MACs, code charts, the trainer and routers.

import Diffusion
import Formats
import Pruning
import Script
import TensorCore

extension BindingContext {
  func wrap(trainer: PruningTrainer) -> Value { .native(NativeObject(type: trainerType, payload: trainer)) }
  func wrap(router: RouterBundle) -> Value { .native(NativeObject(type: routerType, payload: RouterBox(router))) }
}

/// Holds a router bundle (a struct) as a native payload.
final class RouterBox {
  let bundle: RouterBundle
  init(_ bundle: RouterBundle) { self.bundle = bundle }
}

extension Arguments {
  /// A UNet config from a UNet object, a model folder or a config.json path.
  func unetConfig(_ i: Int) throws -> UNet2DConditionConfig {
    if case .native(let o) = self[i], let unet = o.payload as? UNet2DConditionModel { return unet.config }
    guard case .string(let path) = self[i] else { throw bad(i, "UNet, model folder or config.json path") }
    return try loadConfig(UNet2DConditionConfig.self, from: path.hasSuffix(".json") ? path : path + "/config.json")
  }
}

/// The structure as a script map: widths (flat), depth_flags, length, and one map per entry.
func structureValue(_ s: GateStructure) -> Value {
  let ints = { (v: [Int]) in Value.list(ListRef(v.map { .number(Double($0)) })) }
  let entries = s.entries.map { e in
    Value.map(MapRef([
      ("module", .string(e.module)), ("kind", .string(e.kind.rawValue)), ("widths", ints(e.widths)),
      ("offset", .number(Double(e.widthOffset))), ("depth_column", e.depthColumn.map { .number(Double($0)) } ?? .null),
    ]))
  }
  return .map(MapRef([
    ("widths", ints(s.widthList)), ("depth_flags", ints(s.depthList)), ("length", .number(Double(s.length))),
    ("width_sum", .number(Double(s.sumWidth))), ("groups", .number(Double(s.groupCount))),
    ("depth_gates", .number(Double(s.depthCount))), ("entries", .list(ListRef(entries))),
  ]))
}

func pruningModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "structure", [p("unet"), p("ff_gate_width", .number(32))],
    doc: "The APTP gate layout of a UNet (object, folder or config.json; no weights needed): widths, depth_flags, length, entries.") { a in
    structureValue(try GateStructure(config: try a.unetConfig(0), ffGateWidth: try a.int(1)))
  }
  def(m, "macs", [p("unet"), p("code", .null), p("height", .number(32)), p("width", .number(32)), p("tokens", .number(77)), p("ff_gate_width", .number(32))],
    doc: "MACs per sample at a latent size and token count: total, prunable, prunable_full, op_counter_total; with code [B, D] or [D], current and ratio per row.") { a in
    let config = try a.unetConfig(0)
    let s = try GateStructure(config: config, ffGateWidth: try a.int(5))
    let r = try ResourceModel(config: config, structure: s, height: try a.int(2), width: try a.int(3), tokens: try a.int(4))
    var entries: [(String, Value)] = [
      ("total", .number(r.total)), ("prunable", .number(r.prunable)), ("prunable_full", .number(r.prunableFull)),
      ("op_counter_total", .number(r.opCounterTotal)),
    ]
    if !a.isNil(1) {
      var code = try a.tensor(1, ctx)
      if code.rank == 1 { code = try code.reshape([1, code.count]) }
      let current = try r.currentPrunable(code)
      entries.append(("ratio", .list(ListRef(current.map { .number($0 / r.prunableFull) }))))
      entries.append(("current", .list(ListRef(current.map { .number($0) }))))
    }
    return .map(MapRef(entries))
  }
  def(m, "describe", [p("unet"), p("code"), p("ff_gate_width", .number(32))],
    doc: "A per-block chart of what an architecture code [D] keeps: channel groups, heads, feed-forward groups, depth.") { a in
    let s = try GateStructure(config: try a.unetConfig(0), ffGateWidth: try a.int(2))
    return .string(try s.describe(try a.tensor(1, ctx).toArray()))
  }
  def(m, "trainer", [p("unet"), p("scheduler"), p("prompt_dim"), p("config", .null), p("sample_size", .null), p("tokens", .number(77)), p("batch_size", .number(1))],
    doc: "A pruning run over a frozen UNet: config is a map or YAML path with the reference's keys; sample_size [h, w] of the UNet input for MAC counting.") { a in
    let unet = try a.native(0, UNet2DConditionModel.self, "UNet"), sched = try a.native(1, NoiseSchedule.self, "Scheduler")
    var config = PruningConfig()
    if case .string(let path) = a[3] {
      config = try PruningConfig(try ConfigLoader.load(path), file: path)
    } else if !a.isNil(3) {
      config = try PruningConfig(try configValue(.map(try a.map(3)), a.interpreter))
    }
    let size = try a.optionalInts(4) ?? [unet.config.sampleSize?.first ?? 32, unet.config.sampleSize?.first ?? 32]
    guard size.count == 2 else { throw a.bad(4, "[height, width]") }
    return ctx.wrap(trainer: try PruningTrainer(
      unet: unet, scheduler: sched, promptDim: try a.int(2), config: config, sampleSize: (size[0], size[1]), tokens: try a.int(5),
      batchSize: try a.int(6)))
  }
  def(m, "log_append", [p("path"), p("entry")], doc: "Appends a map as one JSON line to a run log (log.jsonl).") { a in
    guard case .map(let entry)? = try configValue(.map(try a.map(1)), a.interpreter) as ConfigValue? else { throw a.bad(1, "map") }
    try RunLog(path: try a.string(0)).append(entry)
    return .null
  }
  def(m, "log_read", [p("path")], doc: "A run log (log.jsonl): indexable and iterable entries; prints as a sparkline per term.") { a in
    .native(NativeObject(type: ctx.lossLogType, payload: LossLog(try RunLog(path: try a.string(0)).entries())))
  }
  def(m, "log_truncate", [p("path"), p("step")], doc: "Drops log entries at or after `step` (used when resuming from a checkpoint).") { a in
    try RunLog(path: try a.string(0)).truncate(before: try a.int(1))
    return .null
  }
  def(m, "load_router", [p("path")], doc: "A router saved with a run (router.safetensors): predictor, codes and the MAC model.") { a in
    ctx.wrap(router: try RouterBundle.load(try a.string(0)))
  }
  addExpertFunctions(m, ctx)
  return m
}
