// TensorType: the Tensor type as scripts see it — properties, methods, operators, indexing.

import Script
import TensorCore

/// Registers everything scripts can do with a tensor value.
func configureTensorType(_ ctx: BindingContext) {
  let t = ctx.tensorType
  t.describe = { o in (o.payload as? Tensor).map(TensorFormat.summary) ?? "<Tensor>" }
  t.length = { o in (o.payload as? Tensor)?.shape.first ?? 0 }
  configureTensorProperties(ctx)
  configureTensorOperators(ctx)
  configureTensorIndexing(ctx)
  configureTensorMethods(ctx)
  configureTensorMathMethods(ctx)
}

private func tensorProperty(_ ctx: BindingContext, _ name: String, _ doc: String, _ get: @escaping (Tensor) throws -> Value) {
  ctx.tensorType.properties[name] = NativeProperty(doc: doc) { o in
    guard let t = o.payload as? Tensor else { return .null }
    return try get(t)
  }
}

private func configureTensorProperties(_ ctx: BindingContext) {
  tensorProperty(ctx, "shape", "The size of each dimension, as a list.") { t in .list(ListRef(t.shape.map { .number(Double($0)) })) }
  tensorProperty(ctx, "ndim", "Number of dimensions.") { t in .number(Double(t.rank)) }
  tensorProperty(ctx, "numel", "Number of elements.") { t in .number(Double(t.count)) }
  tensorProperty(ctx, "dtype", "Element type: \"float32\" or \"int64\".") { t in .string(t.dtype.rawValue) }
  tensorProperty(ctx, "T", "The transpose of a 2-D tensor (last two dimensions swapped).") { t in
    ctx.wrap(try t.transpose(-1, -2))
  }
  tensorProperty(ctx, "is_leaf", "True unless the tensor was produced by a recorded operation.") { t in .bool(t.isLeaf) }
  ctx.tensorType.properties["requires_grad"] = NativeProperty(
    doc: "Whether gradients are computed for this tensor; set it on leaves (parameters).",
    get: { o in .bool((o.payload as? Tensor)?.requiresGrad ?? false) },
    set: { o, v in
      guard let t = o.payload as? Tensor, case .bool(let b) = v else { throw Diagnostic(.type, "requires_grad must be a bool") }
      guard t.isLeaf else { throw Diagnostic(.value, "requires_grad can only be set on leaf tensors") }
      guard t.dtype == .float32 || !b else { throw Diagnostic(.type, "only float tensors can require gradients") }
      t.requiresGrad = b
    })
  ctx.tensorType.properties["grad"] = NativeProperty(
    doc: "The gradient accumulated by backward() (nil before); assign nil to clear it.",
    get: { o in ((o.payload as? Tensor)?.grad).map(ctx.wrap) ?? .null },
    set: { o, v in
      guard let t = o.payload as? Tensor else { return }
      if case .null = v { t.grad = nil; return }
      let g = try ctx.tensor(from: v) { "grad" }
      guard g.shape == t.shape else { throw Diagnostic(.value, "grad must have shape \(shapeString(t.shape))") }
      t.grad = g
    })
}

/// Maps script operators to tensor ops; either side may be a number or a list.
private func configureTensorOperators(_ ctx: BindingContext) {
  ctx.tensorType.binary = { op, lhs, rhs in try translatingErrors { try tensorBinary(ctx, op, lhs, rhs) } }
  ctx.tensorType.negate = { o in
    guard let t = o.payload as? Tensor else { return .null }
    return ctx.wrap(try translatingErrors { try t.neg() })
  }
  ctx.tensorType.iterate = { o in
    guard let t = o.payload as? Tensor, t.rank > 0 else { throw Diagnostic(.type, "cannot iterate over a 0-d tensor") }
    var i = 0
    return {
      guard i < t.shape[0] else { return nil }
      defer { i += 1 }
      return ctx.wrap(try t.select(0, i))
    }
  }
}

/// Runs tensor code, turning TensorError into a script diagnostic with the same message.
func translatingErrors<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch let e as TensorError {
    throw Diagnostic(e.kind == .index ? .index : (e.kind == .argument ? .value : .type), e.description)
  }
}

private func tensorBinary(_ ctx: BindingContext, _ op: BinaryOperator, _ lhs: Value, _ rhs: Value) throws -> Value? {
    let a = try ctx.tensor(from: lhs) { "left operand of \(op.rawValue)" }
    let b = try ctx.tensor(from: rhs) { "right operand of \(op.rawValue)" }
    let r: Tensor
    switch op {
    case .add: r = try a + b
    case .sub: r = try a - b
    case .mul: r = try a * b
    case .div: r = try a / b
    case .pow: r = try a.pow(b)
    case .matmul: r = try a.matmul(b)
    case .mod: r = try a - (try (a / b).floorValues() * b)
    case .lt: r = try a.compare(b, .lt)
    case .le: r = try a.compare(b, .le)
    case .gt: r = try a.compare(b, .gt)
    case .ge: r = try a.compare(b, .ge)
    case .eq: r = try a.compare(b, .eq)
    case .ne: r = try a.compare(b, .ne)
    }
    return ctx.wrap(r)
}

extension Tensor {
  /// The sub-tensor at `index` along `axis`, with that dimension removed (a view).
  func select(_ axis: Int, _ index: Int) throws -> Tensor {
    let n = shape[axis]
    let i = index < 0 ? index + n : index
    guard i >= 0, i < n else {
      throw TensorError(.index, op: "index", "index \(index) is out of bounds for dimension \(axis) of size \(n)")
    }
    return try narrow(axis, start: i, length: 1).squeeze(axis)
  }

  /// Rounds down elementwise (no gradient).
  func floorValues() throws -> Tensor { try detach().unaryFloor() }

  private func unaryFloor() throws -> Tensor {
    let v = toArray().map { $0.rounded(.down) }
    return Tensor(v, shape: shape)
  }

  /// Applies script indices: integers select (dropping the dimension), slices narrow.
  func applyIndex(_ idx: [IndexArgument]) throws -> Tensor {
    guard idx.count <= rank else {
      throw TensorError(.index, op: "index", "too many indices (\(idx.count)) for a tensor of rank \(rank)")
    }
    var t = self
    var axis = 0
    for part in idx {
      switch part {
      case .value(let v):
        guard case .number(let n) = v, n == n.rounded() else {
          throw TensorError(.index, op: "index", "tensor indices must be integers or slices, got \(v.typeName)")
        }
        t = try t.select(axis, Int(n))
      case .slice(let start, let end, let step):
        guard (step ?? 1) > 0 else { throw TensorError(.index, op: "index", "tensor slices need a positive step") }
        t = try t.slice(axis, start: start, end: end, step: step ?? 1)
        axis += 1
      }
    }
    return t
  }
}

private func configureTensorIndexing(_ ctx: BindingContext) {
  ctx.tensorType.index = { o, idx in
    guard let t = o.payload as? Tensor else { return .null }
    do { return ctx.wrap(try t.applyIndex(idx)) } catch let e as TensorError { throw Diagnostic(.index, e.description) }
  }
  ctx.tensorType.setIndex = { o, idx, v in
    guard let t = o.payload as? Tensor else { return }
    guard t.isLeaf, !t.requiresGrad || !GradMode.isEnabled else {
      throw Diagnostic(.value, "cannot assign into a tensor that requires grad (use no_grad or detach)")
    }
    do {
      let target = try t.applyIndex(idx)
      try target.assign(try ctx.tensor(from: v) { "assigned value" })
    } catch let e as TensorError { throw Diagnostic(.index, e.description) }
  }
}
