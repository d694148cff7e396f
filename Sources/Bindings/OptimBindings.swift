// OptimBindings: the `optim` module — SGD, Adam, AdamW with parameter groups, clipping, LR schedules.

import NN
import Script
import TensorCore

/// Parameter groups from a Module, a list of tensors, or a list of {params:, lr:, weight_decay:} maps.
func parameterGroups(_ a: Arguments, _ ctx: BindingContext, lr: Float, weightDecay: Float) throws -> [ParamGroup] {
  if case .native(let o) = a[0], let m = o.payload as? Module { return [ParamGroup(params: m.parameters(), lr: lr, weightDecay: weightDecay)] }
  let items = try a.list(0)
  if items.allSatisfy({ if case .map = $0 { return true } else { return false } }), !items.isEmpty {
    return try items.enumerated().map { i, v in
      guard case .map(let g) = v, let params = g["params"] else { throw Diagnostic(.value, "group \(i) needs a 'params' entry") }
      let tensors: [Tensor]
      if case .native(let o) = params, let m = o.payload as? Module { tensors = m.parameters() } else {
        guard case .list(let l) = params else { throw Diagnostic(.type, "group \(i): params must be a list of tensors or a Module") }
        tensors = try l.items.map { try ctx.tensor(from: $0) { "group \(i) params" } }
      }
      func num(_ key: String, _ dflt: Float) throws -> Float {
        guard let v = g[key] else { return dflt }
        guard case .number(let n) = v else { throw Diagnostic(.type, "group \(i): \(key) must be a number") }
        return Float(n)
      }
      return ParamGroup(params: tensors, lr: try num("lr", lr), weightDecay: try num("weight_decay", weightDecay))
    }
  }
  return [ParamGroup(params: try tensorList(a, 0, ctx), lr: lr, weightDecay: weightDecay)]
}

func configureOptimizerType(_ ctx: BindingContext) {
  let t = ctx.optimizerType
  func this(_ a: Arguments) throws -> Optimizer {
    guard case .native(let o)? = a.receiver, let opt = o.payload as? Optimizer else { throw Diagnostic(.type, "not an optimizer") }
    return opt
  }
  t.describe = { o in
    guard let opt = o.payload as? Optimizer else { return "<Optimizer>" }
    let n = opt.groups.reduce(0) { $0 + $1.params.count }
    return "<\(type(of: opt)) \(opt.groups.count) group(s), \(n) tensors, lr=\(opt.groups.first?.lr ?? 0), step \(opt.stepCount)>"
  }
  method(t, "step", [], doc: "Updates every parameter that has a gradient.") { a in
    try this(a).step()
    return .null
  }
  method(t, "zero_grad", [], doc: "Clears the gradients of all parameters.") { a in
    try this(a).zeroGrad()
    return .null
  }
  t.properties["lr"] = NativeProperty(
    doc: "Learning rate of the first group; setting it sets every group.",
    get: { o in .number(Double((o.payload as? Optimizer)?.groups.first?.lr ?? 0)) },
    set: { o, v in
      guard case .number(let n) = v else { throw Diagnostic(.type, "lr must be a number") }
      (o.payload as? Optimizer)?.setLearningRate(Float(n))
    })
  t.properties["step_count"] = NativeProperty(doc: "Number of completed steps.") { o in
    .number(Double((o.payload as? Optimizer)?.stepCount ?? 0))
  }
}

func optimModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  func wrap(_ o: Optimizer) -> Value { .native(NativeObject(type: ctx.optimizerType, payload: o)) }
  def(m, "SGD", [p("params"), p("lr", .number(0.01)), p("momentum", .number(0)), p("nesterov", .bool(false)),
    p("weight_decay", .number(0))], doc: "Stochastic gradient descent (momentum, Nesterov), like torch.optim.SGD.") { a in
    let groups = try parameterGroups(a, ctx, lr: Float(try a.number(1)), weightDecay: Float(try a.number(4)))
    return wrap(SGD(groups: groups, momentum: Float(try a.number(2)), nesterov: try a.bool(3)))
  }
  for (name, decoupled, wd) in [("Adam", false, 0.0), ("AdamW", true, 0.01)] {
    def(m, name, [p("params"), p("lr", .number(1e-3)), p("betas", .null), p("eps", .number(1e-8)), p("weight_decay", .number(wd))],
      doc: decoupled ? "AdamW: Adam with decoupled weight decay (default 0.01)." : "Adam (weight decay added to the gradient).") { a in
      let groups = try parameterGroups(a, ctx, lr: Float(try a.number(1)), weightDecay: Float(try a.number(4)))
      var betas: (Float, Float) = (0.9, 0.999)
      if !a[2].isNull {
        let b = try a.list(2)
        guard b.count == 2, case .number(let b1) = b[0], case .number(let b2) = b[1] else { throw a.bad(2, "[beta1, beta2]") }
        betas = (Float(b1), Float(b2))
      }
      return wrap(Adam(groups: groups, betas: betas, eps: Float(try a.number(3)), decoupled: decoupled))
    }
  }
  def(m, "clip_grad_norm", [p("params"), p("max_norm")], doc: "Rescales gradients to a global L2 norm of at most max_norm; returns the norm before clipping.") { a in
    let params: [Tensor]
    if case .native(let o) = a[0], let mod = o.payload as? Module { params = mod.parameters() } else { params = try tensorList(a, 0, ctx) }
    return .number(Double(clipGradNorm(params, maxNorm: Float(try a.number(1)))))
  }
  def(m, "lr_factor", [p("schedule"), p("step"), p("warmup", .number(0)), p("total", .number(1))],
    doc: "Learning-rate multiplier at `step` for \"constant\", \"constant_with_warmup\", \"linear\" or \"cosine\".") { a in
    let warmup = try a.int(2), total = try a.int(3)
    let schedule: LRSchedule
    switch try a.string(0) {
    case "constant": schedule = .constant
    case "constant_with_warmup": schedule = .constantWithWarmup(warmup: warmup)
    case "linear": schedule = .linear(warmup: warmup, total: total)
    case "cosine": schedule = .cosine(warmup: warmup, total: total)
    default: throw a.bad(0, "\"constant\", \"constant_with_warmup\", \"linear\" or \"cosine\"")
    }
    return .number(Double(schedule.factor(try a.int(1))))
  }
  return m
}
