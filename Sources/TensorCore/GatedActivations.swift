// GatedActivations: GEGLU (value · gelu(gate) over the two halves of the last dimension), one pass each way.

import CKernels

extension Tensor {
  /// GEGLU: x [..., 2n] is split into value x[..., ..<n] and gate x[..., n...]; returns
  /// value · gelu(gate) [..., n] with the exact (erf) GELU — the values of
  /// `x.chunk(2, axis: -1)` then `halves[0] * halves[1].gelu()`, in one pass. Its backward writes
  /// the gradient of both halves into one [..., 2n] tensor in one pass, where the chunked form
  /// sends back two zero-filled full-width gradients and adds them.
  public func geglu() throws -> Tensor {
    try requireFloat("geglu")
    guard rank >= 1, shape[rank - 1] % 2 == 0 else {
      throw TensorError.shape("geglu", "the last dimension of \(shapeString(shape)) must be even (value and gate halves)")
    }
    let n = shape[rank - 1] / 2, rows = n == 0 ? 0 : count / (2 * n)
    let x = isContiguous ? self : contiguousCopy()
    var outShape = shape
    outShape[rank - 1] = n
    let out = Tensor(shape: outShape, zeroed: false)
    let grain = Swift.max(1, 32768 / Swift.max(2 * n, 1))
    let src = UnsafePointer(x.data), dst = out.data
    let gelu = GeluOp()
    let wide = VectorDispatch.useAVX512
    Parallel.forRange(rows, grain: grain) { begin, end in
      if wide {
        aptp_geglu_avx512(src + begin * 2 * n, end - begin, n, dst + begin * n)
        return
      }
      for r in begin..<end {
        let value = src + r * 2 * n, gate = value + n, o = dst + r * n
        for i in 0..<n { o[i] = value[i] * gelu(gate[i]) }
      }
    }
    return out.record("geglu", [self]) { g in
      let gc = g.isContiguous ? g : g.contiguousCopy()
      let gx = Tensor(shape: x.shape, zeroed: false)
      withExtendedLifetime((x, gc)) {
        let src = UnsafePointer(x.data), up = UnsafePointer(gc.data), dx = gx.data
        Parallel.forRange(rows, grain: grain) { begin, end in
          if wide {
            aptp_geglu_backward_avx512(src + begin * 2 * n, up + begin * n, end - begin, n, dx + begin * 2 * n)
            return
          }
          for r in begin..<end {
            let value = src + r * 2 * n, gate = value + n, gr = up + r * n
            let dValue = dx + r * 2 * n, dGate = dValue + n
            for i in 0..<n {
              let (activation, slope) = geluAndSlope(gate[i])
              dValue[i] = gr[i] * activation
              dGate[i] = (gr[i] * value[i]) * slope
            }
          }
        }
      }
      return [gx]
    }
  }
}
