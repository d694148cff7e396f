// Dropout: zeroes elements with probability p during training and rescales the rest by 1/(1-p).

extension Tensor {
  /// Dropout with an explicit generator; identity when `training` is false or p == 0.
  public func dropout(_ p: Float, training: Bool, generator: Generator) throws -> Tensor {
    guard p >= 0, p < 1 || p == 1 else { throw TensorError.argument("dropout", "probability must be in [0, 1], got \(p)") }
    if !training || p == 0 { return self }
    let mask = Tensor(shape: shape, zeroed: false)
    let keep = 1 - p
    let scale: Float = keep > 0 ? 1 / keep : 0
    for i in 0..<mask.count { mask.data[i] = generator.nextFloat() < keep ? scale : 0 }
    return try self * mask
  }
}
