// TensorMethods: tensor methods for values, shapes, reductions and autograd (`t.sum(axis: 1)`, ...).

import Script
import TensorCore

/// Registers a tensor method whose body gets the receiver tensor.
func tensorMethod(
  _ ctx: BindingContext, _ name: String, _ params: [Parameter], doc: String,
  _ body: @escaping (Tensor, Arguments) throws -> Value
) {
  method(ctx.tensorType, name, params, doc: doc) { a in try body(try a.this(ctx), a) }
}

/// Axes from `axis:` (an integer, a list, or nil for all).
func axesArgument(_ a: Arguments, _ i: Int) throws -> [Int]? { try a.optionalInts(i) }

func configureTensorMethods(_ ctx: BindingContext) {
  let w: (Tensor) -> Value = { ctx.wrap($0) }
  tensorMethod(ctx, "item", [], doc: "The value of a one-element tensor as a number.") { t, _ in .number(shortestDouble(try t.item())) }
  tensorMethod(ctx, "tolist", [], doc: "The values as (nested) lists of numbers.") { t, _ in ctx.nestedList(t) }
  tensorMethod(ctx, "show", [p("edge", .number(3)), p("precision", .number(4))],
    doc: "The values as NumPy-style text; dimensions longer than 2·edge are elided in the middle.") { t, a in
    .string(TensorFormat.values(t, edge: try a.int(0), precision: try a.int(1)))
  }
  tensorMethod(ctx, "reshape", [p("shape")], doc: "Same values in a new shape (one entry may be -1); a view when possible.") { t, a in
    w(try t.reshape(try a.ints(0)))
  }
  tensorMethod(ctx, "view", [p("shape")], doc: "Alias of reshape.") { t, a in w(try t.reshape(try a.ints(0))) }
  tensorMethod(ctx, "flatten", [], doc: "A 1-D view of all values.") { t, _ in w(try t.reshape([-1])) }
  tensorMethod(ctx, "permute", [p("dims")], doc: "Reorders dimensions (a view).") { t, a in w(try t.permute(try a.ints(0))) }
  tensorMethod(ctx, "transpose", [p("dim0", .number(-2)), p("dim1", .number(-1))], doc: "Swaps two dimensions (a view).") { t, a in
    w(try t.transpose(try a.int(0), try a.int(1)))
  }
  tensorMethod(ctx, "unsqueeze", [p("axis")], doc: "Inserts a size-1 dimension.") { t, a in w(try t.unsqueeze(try a.int(0))) }
  tensorMethod(ctx, "squeeze", [p("axis", .null)], doc: "Removes size-1 dimensions (all, or one).") { t, a in
    w(try t.squeeze(try a.optionalInt(0)))
  }
  tensorMethod(ctx, "expand", [p("shape")], doc: "Broadcasts size-1 dimensions to `shape` without copying.") { t, a in
    w(try t.expand(try a.ints(0)))
  }
  tensorMethod(ctx, "repeat", [p("repeats")], doc: "Tiles the tensor along each dimension.") { t, a in w(try t.repeat(try a.ints(0))) }
  tensorMethod(ctx, "flip", [p("axis")], doc: "Reverses the order along the given axes.") { t, a in w(try t.flip(try a.ints(0))) }
  tensorMethod(ctx, "narrow", [p("axis"), p("start"), p("length")], doc: "Elements start..start+length along an axis (a view).") { t, a in
    w(try t.narrow(try a.int(0), start: try a.int(1), length: try a.int(2)))
  }
  tensorMethod(ctx, "chunk", [p("chunks"), p("axis", .number(0))], doc: "Splits into nearly equal pieces along an axis.") { t, a in
    .list(ListRef(try t.chunk(try a.int(0), axis: try a.int(1)).map { w($0) }))
  }
  tensorMethod(ctx, "split", [p("size"), p("axis", .number(0))], doc: "Splits into pieces of `size` (or a list of sizes).") { t, a in
    if case .list = a[0] { return .list(ListRef(try t.split(sizes: try a.ints(0), axis: try a.int(1)).map { w($0) })) }
    return .list(ListRef(try t.split(try a.int(0), axis: try a.int(1)).map { w($0) }))
  }
  tensorMethod(ctx, "contiguous", [], doc: "A contiguous copy if the tensor is a strided view, else itself.") { t, _ in w(t.contiguous()) }
  tensorMethod(ctx, "clone", [], doc: "A copy of the values (keeps the autograd link).") { t, _ in
    w(try t.scaled(1))
  }
  tensorMethod(ctx, "detach", [], doc: "The same values without autograd history.") { t, _ in w(t.detach()) }
  tensorMethod(ctx, "float", [], doc: "Converted to float32.") { t, _ in w(t.to(.float32)) }
  tensorMethod(ctx, "long", [], doc: "Converted to int64 (truncating).") { t, _ in w(t.to(.int64)) }
  tensorMethod(ctx, "backward", [p("gradient", .null), p("retain_graph", .bool(false))],
    doc: "Computes gradients of this tensor (a scalar, or with `gradient` of its shape) into the leaves' `.grad`.") { t, a in
    try t.backward(try a.optionalTensor(0, ctx), retainGraph: try a.bool(1))
    return .null
  }
  tensorMethod(ctx, "zero_grad", [], doc: "Clears this tensor's accumulated gradient.") { t, _ in
    t.zeroGrad()
    return .null
  }
  tensorMethod(ctx, "fill_", [p("value")], doc: "Sets every element to `value`, in place.") { t, a in
    try GradMode.noGrad { try t.fill(Float(try a.number(0))) }
    return .native(try a.receiverObject())
  }
  configureTensorReductions(ctx)
}

extension Arguments {
  func receiverObject() throws -> NativeObject {
    guard case .native(let o)? = receiver else { throw Diagnostic(.type, "'\(callee)' needs a receiver") }
    return o
  }
}

private func configureTensorReductions(_ ctx: BindingContext) {
  let w: (Tensor) -> Value = { ctx.wrap($0) }
  let reduceParams = [p("axis", .null), p("keepdim", .bool(false))]
  tensorMethod(ctx, "sum", reduceParams, doc: "Sum over `axis` (an int, a list, or nil for all).") { t, a in
    w(try t.sum(axes: try axesArgument(a, 0), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "mean", reduceParams, doc: "Mean over `axis` (nil for all).") { t, a in
    w(try t.mean(axes: try axesArgument(a, 0), keepdim: try a.bool(1)))
  }
  let momentParams = reduceParams + [p("unbiased", .bool(true))]
  tensorMethod(ctx, "var", momentParams, doc: "Variance over `axis`; unbiased (n-1) by default, like PyTorch.") { t, a in
    w(try t.variance(axes: try axesArgument(a, 0), unbiased: try a.bool(2), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "std", momentParams, doc: "Standard deviation over `axis`; unbiased by default.") { t, a in
    w(try t.std(axes: try axesArgument(a, 0), unbiased: try a.bool(2), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "max", reduceParams, doc: "Maximum over `axis` (nil for all).") { t, a in
    w(try t.max(axes: try axesArgument(a, 0), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "min", reduceParams, doc: "Minimum over `axis` (nil for all).") { t, a in
    w(try t.min(axes: try axesArgument(a, 0), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "argmax", [p("axis", .null), p("keepdim", .bool(false))], doc: "Index of the maximum (int64), over the flattened tensor when axis is nil.") { t, a in
    w(try t.argmax(axis: try a.optionalInt(0), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "argmin", [p("axis", .null), p("keepdim", .bool(false))], doc: "Index of the minimum (int64).") { t, a in
    w(try t.argmin(axis: try a.optionalInt(0), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "logsumexp", reduceParams, doc: "log(sum(exp(x))) over `axis`, computed stably.") { t, a in
    w(try t.logsumexp(axes: try axesArgument(a, 0), keepdim: try a.bool(1)))
  }
  tensorMethod(ctx, "cumsum", [p("axis")], doc: "Running sum along an axis.") { t, a in w(try t.cumsum(axis: try a.int(0))) }
  tensorMethod(ctx, "softmax", [p("axis", .number(-1))], doc: "Softmax along an axis (default the last).") { t, a in
    w(try t.softmax(axis: try a.int(0)))
  }
  tensorMethod(ctx, "log_softmax", [p("axis", .number(-1))], doc: "log(softmax) along an axis, computed stably.") { t, a in
    w(try t.logSoftmax(axis: try a.int(0)))
  }
}

/// Elementwise math as methods: `t.exp()`, `t.clamp(min: 0)`, `t.matmul(u)`.
func configureTensorMathMethods(_ ctx: BindingContext) {
  let w: (Tensor) -> Value = { ctx.wrap($0) }
  let unary: [(String, String, (Tensor) throws -> Tensor)] = [
    ("neg", "-x", { try $0.neg() }), ("abs", "|x|", { try $0.abs() }), ("exp", "e^x", { try $0.exp() }),
    ("log", "Natural logarithm.", { try $0.log() }), ("log1p", "log(1 + x).", { try $0.log1p() }),
    ("sqrt", "Square root.", { try $0.sqrt() }), ("rsqrt", "1 / sqrt(x).", { try $0.rsqrt() }),
    ("sin", "Sine.", { try $0.sin() }), ("cos", "Cosine.", { try $0.cos() }), ("tanh", "Hyperbolic tangent.", { try $0.tanh() }),
    ("sigmoid", "1 / (1 + e^-x).", { try $0.sigmoid() }), ("relu", "max(x, 0).", { try $0.relu() }),
    ("silu", "x · sigmoid(x).", { try $0.silu() }), ("sign", "-1, 0 or 1 (no gradient).", { try $0.sign() }),
  ]
  for (name, doc, f) in unary {
    tensorMethod(ctx, name, [], doc: doc) { t, _ in w(try f(t)) }
  }
  tensorMethod(ctx, "gelu", [p("approximate", .string("none"))], doc: "GELU; approximate: \"none\" (erf) or \"tanh\".") { t, a in
    guard let mode = GeluApproximation(rawValue: try a.string(0)) else { throw a.bad(0, "\"none\" or \"tanh\"") }
    return w(try t.gelu(mode))
  }
  tensorMethod(ctx, "clamp", [p("min", .null), p("max", .null)], doc: "Limits values to [min, max]; either bound may be nil.") { t, a in
    w(try t.clamp(min: try a.optionalNumber(0).map(Float.init), max: try a.optionalNumber(1).map(Float.init)))
  }
  tensorMethod(ctx, "pow", [p("exponent")], doc: "x ** exponent (a number or a tensor).") { t, a in
    if case .number(let e) = a[0] { return w(try t.pow(Float(e))) }
    return w(try t.pow(try a.tensor(0, ctx)))
  }
  tensorMethod(ctx, "matmul", [p("other")], doc: "Matrix product with torch.matmul rules (same as `@`).") { t, a in
    w(try t.matmul(try a.tensor(0, ctx)))
  }
  tensorMethod(ctx, "maximum", [p("other")], doc: "Elementwise maximum.") { t, a in w(try t.maximum(try a.tensor(0, ctx))) }
  tensorMethod(ctx, "minimum", [p("other")], doc: "Elementwise minimum.") { t, a in w(try t.minimum(try a.tensor(0, ctx))) }
}
