// NNBindings: the `nn` module — layers as callable Module values with named parameters and state.

import NN
import Script
import TensorCore

extension BindingContext {
  public func wrap(module: Module) -> Value { .native(NativeObject(type: moduleType, payload: module)) }
}

extension Arguments {
  /// The receiver of a module method.
  func thisModule() throws -> Module {
    guard case .native(let o)? = receiver, let m = o.payload as? Module else {
      throw Diagnostic(.type, "'\(callee)' must be called on a Module")
    }
    return m
  }

  func module(_ i: Int) throws -> Module {
    guard case .native(let o) = self[i], let m = o.payload as? Module else { throw bad(i, "Module") }
    return m
  }
}

/// The indented tree `model.summary()` prints: dotted child names, configuration, parameter counts.
func moduleTree(_ m: Module, name: String = "", depth: Int = 0) -> String {
  let pad = String(repeating: "  ", count: depth)
  var lines = ["\(pad)\(name.isEmpty ? "" : name + ": ")\(m.summary)  [\(m.parameterCount) params]"]
  for (n, c) in m.childSlots { lines.append(moduleTree(c, name: n, depth: depth + 1)) }
  return lines.joined(separator: "\n")
}

func configureModuleType(_ ctx: BindingContext) {
  let t = ctx.moduleType
  installModuleBehaviour(on: t, ctx)
  t.call = native("forward", [p("x")], doc: "Runs the layer on an input tensor.") { a in
    guard case .native(let o)? = a.receiver, let m = o.payload as? Module else { return .null }
    return ctx.wrap(try m.forward(try a.tensor(0, ctx)))
  }
}

/// What every Module-backed type offers: children and parameters as members, indexing,
/// parameters()/state()/load_state()/summary()/train()/eval(). Types whose call takes more than
/// one input (UNet, VAE) install this and set their own `call`.
func installModuleBehaviour(on t: NativeType, _ ctx: BindingContext) {
  t.describe = { o in
    guard let m = o.payload as? Module else { return "<Module>" }
    return "\(m.summary) [\(m.parameterCount) params]"
  }
  t.dynamicMember = { o, name in
    guard let m = o.payload as? Module else { return nil }
    if let c = m.childSlots.first(where: { $0.name == name }) { return ctx.wrap(module: c.module) }
    if let p = (m.parameterSlots + m.bufferSlots).first(where: { $0.name == name }) { return ctx.wrap(p.tensor) }
    return nil
  }
  t.dynamicMemberNames = { o in
    guard let m = o.payload as? Module else { return [] }
    return m.childSlots.map(\.name) + m.parameterSlots.map(\.name) + m.bufferSlots.map(\.name)
  }
  t.index = { o, idx in
    guard let m = o.payload as? Module, idx.count == 1, case .value(.number(let n)) = idx[0], n == n.rounded() else {
      throw Diagnostic(.index, "modules are indexed by one integer (the child's position)")
    }
    let i = Int(n) < 0 ? Int(n) + m.childSlots.count : Int(n)
    guard i >= 0, i < m.childSlots.count else { throw Diagnostic(.index, "child index \(Int(n)) out of range 0..<\(m.childSlots.count)") }
    return ctx.wrap(module: m.childSlots[i].module)
  }
  t.length = { o in (o.payload as? Module)?.childSlots.count ?? 0 }
  t.properties["training"] = NativeProperty(doc: "True in training mode (dropout active).") { o in .bool((o.payload as? Module)?.training ?? false) }
  t.properties["parameter_count"] = NativeProperty(doc: "Total number of parameter elements.") { o in
    .number(Double((o.payload as? Module)?.parameterCount ?? 0))
  }
  method(t, "parameters", [], doc: "Every parameter tensor, in registration order.") { a in
    .list(ListRef(try a.thisModule().parameters().map(ctx.wrap)))
  }
  method(t, "named_parameters", [], doc: "[dotted name, tensor] pairs, like PyTorch's named_parameters().") { a in
    .list(ListRef(try a.thisModule().namedParameters().map { .list(ListRef([.string($0.0), ctx.wrap($0.1)])) }))
  }
  method(t, "state", [], doc: "A map from dotted names to tensors (PyTorch's state_dict).") { a in
    .map(MapRef(try a.thisModule().state().map { ($0.0, ctx.wrap($0.1)) }))
  }
  method(t, "load_state", [p("state"), p("strict", .bool(true))],
    doc: "Copies tensors from a map into the parameters; strict reports every missing, unexpected or wrong-shape key at once.") { a in
    var dict: [String: Tensor] = [:]
    for (k, v) in try a.map(0).entries { dict[k.description] = try ctx.tensor(from: v) { "state entry '\(k)'" } }
    try a.thisModule().loadState(dict, strict: try a.bool(1))
    return .null
  }
  method(t, "train", [p("on", .bool(true))], doc: "Sets training mode on the whole tree.") { a in
    try a.thisModule().train(try a.bool(0))
    return a.receiver ?? .null
  }
  method(t, "eval", [], doc: "Sets evaluation mode (no dropout) on the whole tree.") { a in
    try a.thisModule().eval()
    return a.receiver ?? .null
  }
  method(t, "summary", [], doc: "The module tree with each layer's configuration and parameter count.") { a in
    .string(moduleTree(try a.thisModule()))
  }
  method(t, "zero_grad", [], doc: "Clears the gradients of every parameter.") { a in
    for p in try a.thisModule().parameters() { p.grad = nil }
    return .null
  }
  method(t, "append", [p("module")], doc: "Adds a module at the end of a ModuleList.") { a in
    guard let list = try a.thisModule() as? ModuleList else { throw Diagnostic(.type, "append needs a ModuleList") }
    list.append(try a.module(0))
    return .null
  }
}

func nnModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  let w = ctx.wrap(module:)
  let gen = [p("seed", .null), p("generator", .null)]
  def(m, "Linear", [p("in_features"), p("out_features"), p("bias", .bool(true))] + gen,
    doc: "y = x·Wᵀ + b with PyTorch's initialisation (uniform ±1/sqrt(in)).") { a in
    w(try Linear(try a.int(0), try a.int(1), bias: try a.bool(2), generator: try a.generator(seed: 3, generator: 4, ctx)))
  }
  def(m, "Conv2d", [p("in_channels"), p("out_channels"), p("kernel"), p("stride", .number(1)), p("padding", .number(0)),
    p("dilation", .number(1)), p("groups", .number(1)), p("bias", .bool(true))] + gen, doc: "2-D convolution layer.") { a in
    w(try Conv2d(try a.int(0), try a.int(1), kernel: try a.pair(2), stride: try a.pair(3), padding: try a.pair(4),
      dilation: try a.pair(5), groups: try a.int(6), bias: try a.bool(7), generator: try a.generator(seed: 8, generator: 9, ctx)))
  }
  def(m, "GroupNorm", [p("groups"), p("channels"), p("eps", .number(1e-5)), p("affine", .bool(true))], doc: "Group normalisation layer.") { a in
    w(try GroupNorm(groups: try a.int(0), channels: try a.int(1), eps: Float(try a.number(2)), affine: try a.bool(3)))
  }
  def(m, "LayerNorm", [p("shape"), p("eps", .number(1e-5)), p("affine", .bool(true))], doc: "Layer normalisation over the trailing `shape`.") { a in
    w(try LayerNorm(try a.ints(0), eps: Float(try a.number(1)), elementwiseAffine: try a.bool(2)))
  }
  def(m, "Embedding", [p("count"), p("dim")] + gen, doc: "A [count, dim] lookup table indexed by integer ids.") { a in
    w(try Embedding(try a.int(0), try a.int(1), generator: try a.generator(seed: 2, generator: 3, ctx)))
  }
  def(m, "Dropout", [p("p", .number(0.5))] + gen, doc: "Dropout with its own generator.") { a in
    let g = try a.generator(seed: 1, generator: 2, ctx)
    return w(try Dropout(Float(try a.number(0)), generator: g === ctx.generator ? Generator(seed: ctx.generator.next()) : g))
  }
  def(m, "SiLU", [], doc: "x · sigmoid(x).") { _ in w(SiLU()) }
  def(m, "GELU", [p("approximate", .string("none"))], doc: "GELU (\"none\" = erf, or \"tanh\").") { a in
    guard let mode = GeluApproximation(rawValue: try a.string(0)) else { throw a.bad(0, "\"none\" or \"tanh\"") }
    return w(GELU(approximate: mode))
  }
  def(m, "Identity", [], doc: "Returns its input.") { _ in w(Identity()) }
  def(m, "Sequential", [p("layers")], doc: "Runs a list of modules in order; children are named 0, 1, ...") { a in
    w(Sequential(try a.list(0).enumerated().map { i, v in
      guard case .native(let o) = v, let mod = o.payload as? Module else { throw Diagnostic(.type, "Sequential: item \(i) is not a Module") }
      return mod
    }))
  }
  def(m, "ModuleList", [p("modules", .null)], doc: "An indexable list of modules (no forward).") { a in
    let items = a[0].isNull ? [] : try a.list(0)
    return w(ModuleList(try items.enumerated().map { i, v in
      guard case .native(let o) = v, let mod = o.payload as? Module else { throw Diagnostic(.type, "ModuleList: item \(i) is not a Module") }
      return mod
    }))
  }
  return m
}
