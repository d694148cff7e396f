// Conv: 2-D convolution (stride, padding, dilation, groups, bias) — geometry, the public op and its autograd.

/// Geometry of one conv2d call, validated once.
struct ConvGeometry {
  let n: Int, c: Int, h: Int, w: Int
  let co: Int, kh: Int, kw: Int
  let sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
  let groups: Int
  let ho: Int, wo: Int
  var cg: Int { c / groups }
  var cog: Int { co / groups }
  /// Rows of the im2col matrix for one group.
  var colRows: Int { cg * kh * kw }
  var spatialOut: Int { ho * wo }
  /// A 1x1, stride-1, unpadded conv reads its input directly as the column matrix.
  var isPointwise: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 }

  init(input: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int) throws {
    guard input.count == 4, weight.count == 4 else {
      throw TensorError.shape("conv2d", "expected input [N,C,H,W] and weight [Cout,Cin/groups,kH,kW], got \(shapeString(input)) and \(shapeString(weight))")
    }
    guard groups > 0, stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
      throw TensorError.argument("conv2d", "stride and dilation must be positive, padding non-negative and groups positive")
    }
    (n, c, h, w) = (input[0], input[1], input[2], input[3])
    (co, kh, kw) = (weight[0], weight[2], weight[3])
    (sh, sw, ph, pw, dh, dw) = (stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1)
    self.groups = groups
    guard c % groups == 0, co % groups == 0, weight[1] == c / groups else {
      throw TensorError.shape(
        "conv2d", "input \(shapeString(input)) with groups=\(groups) needs weight [\(co),\(c / Swift.max(groups, 1)),kH,kW], got \(shapeString(weight))")
    }
    let spanH = h + 2 * ph - dh * (kh - 1) - 1, spanW = w + 2 * pw - dw * (kw - 1) - 1
    ho = spanH >= 0 ? spanH / sh + 1 : 0
    wo = spanW >= 0 ? spanW / sw + 1 : 0
    guard ho > 0, wo > 0 else {
      throw TensorError.shape("conv2d", "input \(shapeString(input)) is smaller than the kernel \(kh)x\(kw) (dilation \(dh)x\(dw), padding \(ph)x\(pw))")
    }
  }

  /// Output columns per im2col tile. sgemm packs both operands on every call, so the weight is
  /// re-packed once per tile: tiles are as wide as the image unless its im2col matrix would pass
  /// 4 MB, and then split the image evenly.
  var columnTile: Int {
    let target = Swift.max(256, 1_048_576 / Swift.max(colRows, 1))
    let tiles = Swift.max(1, (spatialOut + target - 1) / target)
    return Swift.min(spatialOut, ((spatialOut + tiles - 1) / tiles + 15) / 16 * 16)
  }
}

extension Tensor {
  /// 2-D convolution of input [N,C,H,W] with weight [Cout, C/groups, kH, kW] (cross-correlation,
  /// like PyTorch), optional bias [Cout].
  public static func conv2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
  ) throws -> Tensor {
    try input.requireFloat("conv2d")
    try weight.requireFloat("conv2d")
    try bias?.requireFloat("conv2d")
    let geo = try ConvGeometry(
      input: input.shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups)
    if let bias, bias.shape != [geo.co] {
      throw TensorError.shape("conv2d", "bias \(shapeString(bias.shape)) does not match \(geo.co) output channels")
    }
    let x = input.isContiguous ? input.detach() : input.contiguousCopy()
    let wt = weight.isContiguous ? weight.detach() : weight.contiguousCopy()
    let out = Tensor(shape: [geo.n, geo.co, geo.ho, geo.wo], zeroed: false)
    let bc = bias.map { $0.isContiguous ? $0 : $0.contiguousCopy() }
    convForward(geo, x: x.data, w: wt.data, bias: bc.map { UnsafePointer($0.data) }, out: out.data)
    withExtendedLifetime(bc) {}
    let inputs = [input, weight] + (bias.map { [$0] } ?? [])
    return out.record("conv2d", inputs) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let (gx, gw) = convBackward(
        geo, x: x, w: wt, g: gc, needInput: input.requiresGrad, needWeight: weight.requiresGrad)
      var grads: [Tensor?] = [gx, gw]
      if let bias { grads.append(bias.requiresGrad ? convBiasGradient(geo, g: gc) : nil) }
      return grads
    }
  }
}
