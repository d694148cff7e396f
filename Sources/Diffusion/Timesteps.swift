// Timesteps: diffusers' sinusoidal timestep features (get_timestep_embedding).

import Foundation
import TensorCore

enum Timesteps {
  /// [B, dim]: for frequency f_i = exp(-ln(10000)·i / (dim/2 − shift)), sin(t·f) then cos(t·f)
  /// (swapped with `flipSinToCos`); an odd `dim` gets a zero last column. Computed in float32 as
  /// torch does (the frequencies are correctly rounded).
  static func embedding(_ timesteps: [Float], dim: Int, flipSinToCos: Bool, shift: Float, maxPeriod: Double = 10_000) -> Tensor {
    let half = dim / 2
    let out = Tensor(shape: [timesteps.count, dim])
    let frequencies: [Float] = (0..<half).map { i in
      let exponent = Float(-log(maxPeriod)) * Float(i) / (Float(half) - shift)
      return Float(exp(Double(exponent)))
    }
    for (row, t) in timesteps.enumerated() {
      let base = out.data + row * dim
      for i in 0..<half {
        let arg = t * frequencies[i]
        let (s, c) = (sinf(arg), cosf(arg))
        base[i] = flipSinToCos ? c : s
        base[half + i] = flipSinToCos ? s : c
      }
    }
    return out
  }
}
