// TensorModule: the `tensor` module — creation, random numbers with seeds, and functional ops.

import Script
import TensorCore

func tensorModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  let w: (Tensor) -> Value = { ctx.wrap($0) }
  def(m, "tensor", [p("data"), p("dtype", .string("float32"))], doc: "A tensor from a number or nested lists of numbers.") { a in
    let t = try a.tensor(0, ctx)
    return w(try a.string(1) == "int64" ? t.to(.int64) : t.contiguousCopy())
  }
  def(m, "zeros", [p("shape")], doc: "A tensor of zeros.") { a in w(Tensor.zeros(try a.shape(0))) }
  def(m, "ones", [p("shape")], doc: "A tensor of ones.") { a in w(Tensor.ones(try a.shape(0))) }
  def(m, "full", [p("shape"), p("value")], doc: "A tensor filled with `value`.") { a in
    w(Tensor.full(try a.shape(0), Float(try a.number(1))))
  }
  def(m, "zeros_like", [p("t")], doc: "Zeros with the shape of `t`.") { a in w(Tensor.zeros(try a.tensor(0, ctx).shape)) }
  def(m, "ones_like", [p("t")], doc: "Ones with the shape of `t`.") { a in w(Tensor.ones(try a.tensor(0, ctx).shape)) }
  def(m, "arange", [p("start"), p("end", .null), p("step", .number(1))],
    doc: "start, start+step, ... below end; arange(n) counts 0..n.") { a in
    if case .null = a[1] { return w(try Tensor.arange(0, try a.number(0), step: try a.number(2))) }
    return w(try Tensor.arange(try a.number(0), try a.number(1), step: try a.number(2)))
  }
  def(m, "linspace", [p("start"), p("end"), p("count")], doc: "`count` evenly spaced values from start to end inclusive.") { a in
    w(try Tensor.linspace(try a.number(0), try a.number(1), count: try a.int(2)))
  }
  def(m, "eye", [p("n"), p("m", .null)], doc: "An n x m identity matrix.") { a in
    let n = try a.int(0), cols = try a.optionalInt(1) ?? n
    guard n >= 0, cols >= 0 else { throw Diagnostic(.value, "eye: sizes must be non-negative") }
    return w(Tensor.eye(n, cols))
  }
  installRandom(m, ctx)
  installFunctional(m, ctx)
  return m
}

private func installRandom(_ m: MapRef, _ ctx: BindingContext) {
  let w: (Tensor) -> Value = { ctx.wrap($0) }
  let seeded = [p("seed", .null), p("generator", .null)]
  def(m, "seed", [p("seed")], doc: "Restarts the session's default random generator from `seed`.") { a in
    ctx.generator.reseed(UInt64(bitPattern: Int64(try a.int(0))))
    return .null
  }
  def(m, "generator", [p("seed")], doc: "A new random generator (xoshiro256**, seeded through SplitMix64).") { a in
    .native(NativeObject(type: ctx.generatorType, payload: Generator(seed: UInt64(bitPattern: Int64(try a.int(0))))))
  }
  def(m, "randn", [p("shape")] + seeded, doc: "Standard normal samples; `seed:` or `generator:` makes them reproducible.") { a in
    w(Tensor.randn(try a.shape(0), generator: try a.generator(seed: 1, generator: 2, ctx)))
  }
  def(m, "rand", [p("shape"), p("low", .number(0)), p("high", .number(1))] + seeded, doc: "Uniform samples in [low, high).") { a in
    w(Tensor.rand(try a.shape(0), low: Float(try a.number(1)), high: Float(try a.number(2)),
      generator: try a.generator(seed: 3, generator: 4, ctx)))
  }
  def(m, "randint", [p("low"), p("high"), p("shape")] + seeded, doc: "Uniform int64 samples in low..high (exclusive).") { a in
    w(try Tensor.randint(try a.int(0), try a.int(1), try a.shape(2), generator: try a.generator(seed: 3, generator: 4, ctx)))
  }
  def(m, "randperm", [p("n")] + seeded, doc: "A random permutation of 0..n as int64.") { a in
    let n = try a.int(0)
    guard n >= 0 else { throw a.bad(0, "non-negative integer") }
    return w(Tensor.randperm(n, generator: try a.generator(seed: 1, generator: 2, ctx)))
  }
}

private func installFunctional(_ m: MapRef, _ ctx: BindingContext) {
  let w: (Tensor) -> Value = { ctx.wrap($0) }
  def(m, "cat", [p("tensors"), p("axis", .number(0))], doc: "Joins tensors along an existing axis.") { a in
    w(try Tensor.cat(try tensorList(a, 0, ctx), axis: try a.int(1)))
  }
  def(m, "stack", [p("tensors"), p("axis", .number(0))], doc: "Joins same-shaped tensors along a new axis.") { a in
    w(try Tensor.stack(try tensorList(a, 0, ctx), axis: try a.int(1)))
  }
  def(m, "where", [p("condition"), p("a"), p("b")], doc: "Elements of `a` where condition is non-zero, else of `b` (broadcasting).") { a in
    w(try Tensor.where(try a.tensor(0, ctx), try a.tensor(1, ctx), try a.tensor(2, ctx)))
  }
  def(m, "matmul", [p("a"), p("b")], doc: "Matrix product with torch.matmul rules.") { a in
    w(try a.tensor(0, ctx).matmul(try a.tensor(1, ctx)))
  }
  def(m, "linear", [p("x"), p("weight"), p("bias", .null)], doc: "x · weightᵀ + bias.") { a in
    w(try Tensor.linear(try a.tensor(0, ctx), weight: try a.tensor(1, ctx), bias: try a.optionalTensor(2, ctx)))
  }
  def(m, "conv2d", [p("x"), p("weight"), p("bias", .null), p("stride", .number(1)), p("padding", .number(0)),
    p("dilation", .number(1)), p("groups", .number(1))], doc: "2-D convolution of [N,C,H,W] with [Cout,Cin/groups,kH,kW].") { a in
    w(try Tensor.conv2d(try a.tensor(0, ctx), weight: try a.tensor(1, ctx), bias: try a.optionalTensor(2, ctx),
      stride: try a.pair(3), padding: try a.pair(4), dilation: try a.pair(5), groups: try a.int(6)))
  }
  def(m, "group_norm", [p("x"), p("groups"), p("weight", .null), p("bias", .null), p("eps", .number(1e-5))],
    doc: "Group normalisation over [N, C, *].") { a in
    w(try Tensor.groupNorm(try a.tensor(0, ctx), groups: try a.int(1), weight: try a.optionalTensor(2, ctx),
      bias: try a.optionalTensor(3, ctx), eps: Float(try a.number(4))))
  }
  def(m, "layer_norm", [p("x"), p("shape"), p("weight", .null), p("bias", .null), p("eps", .number(1e-5))],
    doc: "Layer normalisation over the trailing `shape`.") { a in
    w(try Tensor.layerNorm(try a.tensor(0, ctx), normalizedShape: try a.ints(1), weight: try a.optionalTensor(2, ctx),
      bias: try a.optionalTensor(3, ctx), eps: Float(try a.number(4))))
  }
  def(m, "attention", [p("q"), p("k"), p("v"), p("mask", .null), p("causal", .bool(false)), p("scale", .null)],
    doc: "Scaled dot-product attention over [..., L, d]; computed in blocks of query rows.") { a in
    w(try Tensor.scaledDotProductAttention(try a.tensor(0, ctx), try a.tensor(1, ctx), try a.tensor(2, ctx),
      mask: try a.optionalTensor(3, ctx), causal: try a.bool(4), scale: try a.optionalNumber(5).map(Float.init)))
  }
  def(m, "interpolate", [p("x"), p("size", .null), p("scale", .null), p("mode", .string("nearest")), p("align_corners", .bool(false))],
    doc: "Resizes [N,C,H,W] to `size` or by `scale` (nearest or bilinear, PyTorch semantics).") { a in
    guard let mode = InterpolationMode(rawValue: try a.string(3)) else { throw a.bad(3, "\"nearest\" or \"bilinear\"") }
    let size: (Int, Int)? = try a.optionalInts(1).map { s in
      guard s.count == 2 else { throw a.bad(1, "[height, width]") }
      return (s[0], s[1])
    }
    return w(try a.tensor(0, ctx).interpolate(size: size, scale: try a.optionalNumber(2), mode: mode, alignCorners: try a.bool(4)))
  }
  def(m, "avg_pool2d", [p("x"), p("kernel"), p("stride", .null), p("padding", .number(0))], doc: "Average pooling.") { a in
    let stride: (Int, Int)? = a[2].isNull ? nil : try a.pair(2)
    return w(try a.tensor(0, ctx).avgPool2d(kernel: try a.pair(1), stride: stride, padding: try a.pair(3)))
  }
  def(m, "max_pool2d", [p("x"), p("kernel"), p("stride", .null), p("padding", .number(0))], doc: "Max pooling.") { a in
    let stride: (Int, Int)? = a[2].isNull ? nil : try a.pair(2)
    return w(try a.tensor(0, ctx).maxPool2d(kernel: try a.pair(1), stride: stride, padding: try a.pair(3)))
  }
  def(m, "embedding", [p("ids"), p("weight")], doc: "Rows of `weight` for integer ids.") { a in
    w(try Tensor.embedding(try a.tensor(0, ctx), weight: try a.tensor(1, ctx)))
  }
  def(m, "dropout", [p("x"), p("p", .number(0.5)), p("training", .bool(true))] + [p("seed", .null), p("generator", .null)],
    doc: "Zeroes elements with probability p and rescales the rest (identity when not training).") { a in
    w(try a.tensor(0, ctx).dropout(Float(try a.number(1)), training: try a.bool(2), generator: try a.generator(seed: 3, generator: 4, ctx)))
  }
  def(m, "index_select", [p("x"), p("axis"), p("index")], doc: "Slices picked by a 1-D integer index along an axis.") { a in
    w(try a.tensor(0, ctx).indexSelect(try a.int(1), try a.tensor(2, ctx)))
  }
  def(m, "gather", [p("x"), p("axis"), p("index")], doc: "torch.gather: values at `index` along an axis.") { a in
    w(try a.tensor(0, ctx).gather(try a.int(1), try a.tensor(2, ctx)))
  }
  def(m, "pad", [p("x"), p("pad"), p("value", .number(0))], doc: "Constant padding; pairs start from the last dimension (like F.pad).") { a in
    w(try a.tensor(0, ctx).pad(try a.ints(1), value: Float(try a.number(2))))
  }
}

/// A list of tensors from a script list.
func tensorList(_ a: Arguments, _ i: Int, _ ctx: BindingContext) throws -> [Tensor] {
  try a.list(i).enumerated().map { k, v in try ctx.tensor(from: v) { "item \(k) of argument #\(i + 1) to '\(a.callee)'" } }
}

extension Value {
  var isNull: Bool {
    if case .null = self { return true }
    return false
  }
}

/// The Generator type: a seeded stream scripts can pass as `generator:`.
func configureGeneratorType(_ ctx: BindingContext) {
  ctx.generatorType.describe = { o in "<Generator seed=\((o.payload as? Generator)?.seed ?? 0)>" }
  method(ctx.generatorType, "reseed", [p("seed")], doc: "Restarts the stream from `seed`.") { a in
    guard case .native(let o)? = a.receiver, let g = o.payload as? Generator else { return .null }
    g.reseed(UInt64(bitPattern: Int64(try a.int(0))))
    return .null
  }
}
