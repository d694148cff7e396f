// PruningTypes: methods and properties of the PruningTrainer and Router script types.

import Formats
import Pruning
import Script
import TensorCore

func configurePruningTypes(_ ctx: BindingContext) {
  configureTrainerType(ctx)
  configureRouterType(ctx)
  configureLossLogType(ctx)
}

/// A batch map {samples, prompt_embeddings, context, mask?} as a PruningBatch.
private func batch(_ a: Arguments, _ i: Int, _ ctx: BindingContext) throws -> PruningBatch {
  let m = try a.map(i)
  func tensor(_ key: String, required: Bool = true) throws -> Tensor? {
    guard let v = m[key], !isNull(v) else {
      if required { throw Diagnostic(.key, "batch map needs '\(key)' (samples, prompt_embeddings, context, optional mask)") }
      return nil
    }
    return try ctx.tensor(from: v) { "batch '\(key)'" }
  }
  func required(_ key: String) throws -> Tensor {
    guard let t = try tensor(key) else { throw Diagnostic(.key, "batch map needs '\(key)'") }
    return t
  }
  return PruningBatch(
    samples: try required("samples"), promptEmbeddings: try required("prompt_embeddings"), context: try required("context"),
    contextMask: try tensor("mask", required: false))
}

private func isNull(_ v: Value) -> Bool {
  if case .null = v { return true }
  return false
}

private func numbers(_ d: [String: Float]) -> Value {
  .map(MapRef(d.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) }))
}

private func configureTrainerType(_ ctx: BindingContext) {
  let t = ctx.trainerType
  let trainer = { (a: Arguments) in try a.payload(PruningTrainer.self, "PruningTrainer") }
  t.describe = { o in
    guard let tr = o.payload as? PruningTrainer else { return "<PruningTrainer>" }
    return "<PruningTrainer step \(tr.step)/\(tr.config.maxSteps), \(tr.config.codes) experts, target \(tr.config.pruningTarget)>"
  }
  method(t, "step", [p("batch")], doc: "One pruning step on {samples, prompt_embeddings, context, mask?}; returns the loss terms and macs_ratio.") { a in
    numbers(try trainer(a).train(try batch(a, 0, ctx)))
  }
  method(t, "evaluate", [p("batch")], doc: "The loss terms on a batch without updating anything (routing without noise).") { a in
    numbers(try trainer(a).evaluate(try batch(a, 0, ctx)))
  }
  method(t, "save", [p("dir")], doc: "Writes checkpoint.safetensors and router.safetensors into dir (atomically).") { a in
    try trainer(a).saveCheckpoint(in: try a.string(0))
    return .null
  }
  method(t, "resume", [p("dir")], doc: "Restores the state save() wrote; the run continues as if never interrupted.") { a in
    try trainer(a).loadCheckpoint(from: try a.string(0))
    return .number(Double(try trainer(a).step))
  }
  method(t, "describe", [p("code")], doc: "The per-block chart of an architecture code [D].") { a in
    .string(try trainer(a).structure.describe(try a.tensor(0, ctx).toArray()))
  }
  t.properties["step"] = NativeProperty(doc: "Completed steps.") { o in .number(Double((o.payload as? PruningTrainer)?.step ?? 0)) }
  t.properties["max_steps"] = NativeProperty(doc: "training.max_train_steps.") { o in .number(Double((o.payload as? PruningTrainer)?.config.maxSteps ?? 0)) }
  t.properties["pretraining"] = NativeProperty(doc: "True during the predictor pre-training phase.") { o in .bool((o.payload as? PruningTrainer)?.pretraining ?? false) }
  t.properties["checkpoint_every"] = NativeProperty(doc: "Steps between checkpoints.") { o in .number(Double((o.payload as? PruningTrainer)?.config.checkpointEvery ?? 0)) }
  t.properties["codes"] = NativeProperty(doc: "The experts' current hard codes [K, D].") { o in
    guard let tr = o.payload as? PruningTrainer, let codes = try? tr.router.expertCodes else { return .null }
    return ctx.wrap(codes)
  }
  t.properties["structure"] = NativeProperty(doc: "The gate layout (as pruning.structure gives it).") { o in
    (o.payload as? PruningTrainer).map { structureValue($0.structure) } ?? .null
  }
}

private func configureRouterType(_ ctx: BindingContext) {
  let t = ctx.routerType
  let bundle = { (a: Arguments) in try a.payload(RouterBox.self, "Router").bundle }
  t.describe = { o in
    guard let b = (o.payload as? RouterBox)?.bundle else { return "<Router>" }
    return "<Router \(b.router.codeCount) experts, vector length \(b.router.relaxation.structure.length), prompt width \(b.predictor.inputDim)>"
  }
  method(t, "route", [p("embeddings")],
    doc: "Per prompt embedding: {expert, macs_ratio (of the prunable MACs), similarity, code}; deterministic (no routing noise).") { a in
    let b = try bundle(a)
    var e = try a.tensor(0, ctx)
    if e.rank == 1 { e = try e.reshape([1, e.count]) }
    let (routing, ratios) = try b.route(e)
    let k = routing.scores.shape[1], scores = routing.scores.toArray()
    return .list(ListRef(try routing.experts.enumerated().map { i, expert in
      .map(MapRef([
        ("expert", .number(Double(expert))), ("macs_ratio", .number(Double(ratios[i]))),
        ("similarity", .number(Double(scores[i * k + expert]))), ("code", ctx.wrap(try routing.codes.narrow(0, start: i, length: 1).reshape([routing.codes.shape[1]]))),
      ]))
    }))
  }
  method(t, "logits", [p("embeddings")], doc: "The architecture predictor's logits [B, D] for prompt embeddings [B, dim].") { a in
    let b = try bundle(a)
    var e = try a.tensor(0, ctx)
    if e.rank == 1 { e = try e.reshape([1, e.count]) }
    return ctx.wrap(try GradMode.noGrad { try b.predictor(e).expand([e.shape[0], b.router.relaxation.structure.length]) })
  }
  method(t, "relax", [p("logits"), p("seed", .null)],
    doc: "The Gumbel-sigmoid relaxation of logits [B, D] (width groups, and the depth survival profile); with a seed, Gumbel noise is added.") { a in
    let b = try bundle(a)
    let noise: GumbelNoise = try a.optionalInt(1).map { .random(Generator(seed: UInt64(bitPattern: Int64($0)))) } ?? .none
    let logits = try a.tensor(0, ctx), d = b.router.relaxation.structure.length
    guard logits.rank == 2, logits.shape[1] == d else { throw a.bad(0, "logits [batch, \(d)]") }
    return ctx.wrap(try GradMode.noGrad { try b.router.relaxation.sample(logits, noise: noise) })
  }
  method(t, "scores", [p("relaxed")], doc: "Cosine similarities [B, K] of relaxed vectors with the experts' codes, both width-depth normalised.") { a in
    let b = try bundle(a)
    let relaxed = try a.tensor(0, ctx), d = b.router.relaxation.structure.length
    guard relaxed.rank == 2, relaxed.shape[1] == d else { throw a.bad(0, "relaxed vectors [batch, \(d)]") }
    return ctx.wrap(try GradMode.noGrad { try b.router.scores(relaxed, codes: b.router.sampledCodes) })
  }
  method(t, "describe", [p("expert")], doc: "The per-block chart of expert k's code.") { a in
    let b = try bundle(a)
    let k = try a.int(0)
    guard k >= 0, k < b.router.codeCount else { throw a.bad(0, "expert index in 0..<\(b.router.codeCount)") }
    return .string(try b.router.relaxation.structure.describe(try b.router.expertCodes.narrow(0, start: k, length: 1).toArray()))
  }
  t.properties["codes"] = NativeProperty(doc: "The experts' hard codes [K, D].") { o in
    guard let b = (o.payload as? RouterBox)?.bundle, let c = try? b.router.expertCodes else { return .null }
    return ctx.wrap(c)
  }
  t.properties["ff_gate_width"] = NativeProperty(doc: "Feed-forward gate groups per transformer (the config's ff_gate_width).") { o in
    guard let b = (o.payload as? RouterBox)?.bundle else { return .null }
    return .number(Double(b.router.relaxation.structure.entries.first { $0.kind == .transformer }?.widths[2] ?? 32))
  }
  t.properties["macs_ratios"] = NativeProperty(doc: "Each expert's share of the prunable MACs.") { o in
    guard let b = (o.payload as? RouterBox)?.bundle, let c = try? b.router.expertCodes, let r = try? b.resources.currentPrunable(c) else { return .null }
    return .list(ListRef(r.map { .number($0 / b.resources.prunableFull) }))
  }
}
