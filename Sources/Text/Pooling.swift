// Pooling: sentence-transformers' pooling modes over masked token states, and L2 normalisation.

import TensorCore

enum Pooling {
  /// Concatenates the requested modes over the positions where mask is 1: states [B, L, D] -> [B, D·modes].
  static func pool(_ states: Tensor, mask: Tensor, modes: [String]) throws -> Tensor {
    let (b, l, d) = (states.shape[0], states.shape[1], states.shape[2])
    let h = states.contiguous(), m = mask.toInts()
    let width = d * modes.count
    let out = Tensor(shape: [b, width])
    for row in 0..<b {
      let tokens = (0..<l).filter { m[row * l + $0] != 0 }
      for (k, mode) in modes.enumerated() {
        let dst = out.data + row * width + k * d
        let src = { (t: Int) in h.data + (row * l + t) * d }
        switch mode {
        case "cls":
          dst.update(from: src(0), count: d)
        case "lasttoken":
          dst.update(from: src(tokens.last ?? 0), count: d)
        case "max":
          dst.update(repeating: tokens.isEmpty ? 0 : -.infinity, count: d)
          for t in tokens { for j in 0..<d { dst[j] = Swift.max(dst[j], src(t)[j]) } }
        case "mean", "mean_sqrt_len_tokens":
          for t in tokens { for j in 0..<d { dst[j] += src(t)[j] } }
          let count = Float(tokens.count)
          let divisor = mode == "mean" ? Swift.max(count, 1e-9) : Swift.max(count, 1e-9).squareRoot()
          for j in 0..<d { dst[j] /= divisor }
        default:
          throw TextError("pooling mode \"\(mode)\" is not supported (cls, lasttoken, max, mean, mean_sqrt_len_tokens)")
        }
      }
    }
    return out
  }

  /// Rows divided by max(‖row‖, 1e-12), like `torch.nn.functional.normalize`.
  static func l2Normalized(_ x: Tensor) throws -> Tensor {
    let (n, d) = (x.shape[0], x.shape[1])
    let src = x.contiguous(), out = Tensor(shape: [n, d], zeroed: false)
    for row in 0..<n {
      var sum: Float = 0
      for j in 0..<d { sum += src.data[row * d + j] * src.data[row * d + j] }
      let scale = 1 / Swift.max(sum.squareRoot(), 1e-12)
      for j in 0..<d { out.data[row * d + j] = src.data[row * d + j] * scale }
    }
    return out
  }
}
