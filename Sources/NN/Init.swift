// Init: parameter initialisers beyond PyTorch's layer defaults (orthogonal).

import TensorCore

/// PyTorch's `nn.init.orthogonal_` for a [rows, cols] matrix: a standard normal matrix, made
/// orthonormal along its shorter side (Gram-Schmidt in Double, signs fixed like QR with a
/// positive diagonal). rows <= cols gives orthonormal rows, otherwise orthonormal columns.
public func orthogonalMatrix(_ rows: Int, _ cols: Int, gain: Float = 1, generator: Generator) -> Tensor {
  let (n, m) = rows < cols ? (cols, rows) : (rows, cols)  // orthonormalise m vectors of length n
  let normal = Tensor.randn([n, m], generator: generator).toArray().map(Double.init)
  var q = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
  for j in 0..<m {
    var v = (0..<n).map { normal[$0 * m + j] }
    for _ in 0..<2 {  // twice for numerical orthogonality
      for k in 0..<j {
        let dot = zip(v, q[k]).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<n { v[i] -= dot * q[k][i] }
      }
    }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    q[j] = norm > 0 ? v.map { $0 / norm } : v
  }
  let out = Tensor(shape: [rows, cols], zeroed: false)
  for r in 0..<rows {
    for c in 0..<cols { out.data[r * cols + c] = Float(rows < cols ? q[r][c] : q[c][r]) * gain }
  }
  return out
}
