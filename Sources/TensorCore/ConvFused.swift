// ConvFused: a convolution with the per-sample bias and residual adds after it folded into its Winograd output pass at inference.

extension Tensor {
  /// conv2d(x, weight, bias) + sampleBias [N, Cout] (per sample and channel) + residual
  /// [N, Cout, Ho, Wo]: a ResNet block's conv with the time embedding or the skip connection added.
  /// For 3x3 stride-1 convs the adds happen while the Winograd pass writes its outputs, so no
  /// intermediate tensor is written and read again, and with autograd the whole is one node (the
  /// conv's gradients, the sample bias's sums over the image, the residual's g); otherwise (other
  /// geometries or shapes) they are the separate ops, with the same result up to rounding.
  public static func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1), groups: Int = 1, sampleBias: Tensor?, residual: Tensor?
  ) throws -> Tensor {
    let operands = [x, weight] + [bias, sampleBias, residual].compactMap { $0 }
    let recording = GradMode.isEnabled && operands.contains { $0.requiresGrad }
    if groups == 1, operands.allSatisfy({ $0.dtype == .float32 }),
      let geo = try? ConvGeometry(
        input: x.shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: 1),
      geo.fitsWinograd, bias.map({ $0.shape == [geo.co] }) ?? true,
      sampleBias.map({ $0.shape == [geo.n, geo.co] }) ?? true,
      residual.map({ $0.shape == [geo.n, geo.co, geo.ho, geo.wo] }) ?? true
    {
      let xd = x.isContiguous ? x.detach() : x.contiguousCopy(), wd = weight.isContiguous ? weight.detach() : weight.contiguousCopy()
      let out = winogradConvAdding(geo, xd, weight: wd, bias: bias, sampleBias: sampleBias, residual: residual)
      guard recording else { return out }
      return out.record("conv2d_adding", operands) { g in
        let gc = g.isContiguous ? g : g.contiguousCopy()
        let (gx, gw) = convBackward(geo, x: xd, w: wd, g: gc, needInput: x.requiresGrad, needWeight: weight.requiresGrad)
        var grads: [Tensor?] = [gx, gw]
        if let bias { grads.append(bias.requiresGrad ? convBiasGradient(geo, g: gc) : nil) }
        if let sampleBias { grads.append(sampleBias.requiresGrad ? try gc.sum(axes: [2, 3]) : nil) }
        if let residual { grads.append(residual.requiresGrad ? gc : nil) }
        return grads
      }
    }
    var y = try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    if let sampleBias {
      y = try y + sampleBias.reshape([sampleBias.shape.first ?? 1, sampleBias.count / Swift.max(sampleBias.shape.first ?? 1, 1), 1, 1])
    }
    if let residual { y = try residual + y }
    return y
  }

  /// The one-pass forward of `conv2d(_:...:sampleBias:residual:)` for a geometry that fits Winograd;
  /// `x` and `wt` are already contiguous.
  private static func winogradConvAdding(
    _ geo: ConvGeometry, _ x: Tensor, weight wt: Tensor, bias: Tensor?, sampleBias: Tensor?, residual: Tensor?
  ) -> Tensor {
    func dense(_ t: Tensor) -> Tensor { t.isContiguous ? t : t.contiguousCopy() }
    let b = bias.map(dense), sb = sampleBias.map(dense), res = residual.map(dense)
    let out = Tensor(shape: [geo.n, geo.co, geo.ho, geo.wo], zeroed: false)
    var fusion = WinogradFusion()
    fusion.sampleBias = sb.map { UnsafePointer($0.data) }
    fusion.residual = res.map { UnsafePointer($0.data) }
    convForward(geo, x: x.data, w: wt.data, bias: b.map { UnsafePointer($0.data) }, out: out.data, fusion: fusion)
    withExtendedLifetime((x, wt, b, sb, res)) {}
    return out
  }
}
