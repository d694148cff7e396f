// EmbeddingMetrics: CMMD (Gaussian-kernel MMD of CLIP image embeddings) and CLIP score from embeddings.

import Foundation

/// CMMD as cmmd-pytorch computes it (σ = 10, scale 1000, biased estimator with the diagonal),
/// in float64 from float rows x [n, d] and y [m, d].
public func cmmd(_ x: [Float], rows n: Int, _ y: [Float], rows m: Int, dimension d: Int, sigma: Double = 10, scale: Double = 1000) throws -> Double {
  guard n > 0, m > 0, d > 0, x.count == n * d, y.count == m * d else {
    throw MetricsError("CMMD needs two non-empty embedding sets of width \(d) (got \(x.count) and \(y.count) values)")
  }
  let gamma = 1 / (2 * sigma * sigma)
  let a = x.map(Double.init), b = y.map(Double.init)
  func norms(_ v: [Double], _ rows: Int) -> [Double] { (0..<rows).map { r in (0..<d).reduce(0) { $0 + v[r * d + $1] * v[r * d + $1] } } }
  let na = norms(a, n), nb = norms(b, m)
  func meanKernel(_ p: [Double], _ pn: [Double], _ rp: Int, _ q: [Double], _ qn: [Double], _ rq: Int) -> Double {
    var total = 0.0
    for i in 0..<rp {
      for j in 0..<rq {
        var dot = 0.0
        for k in 0..<d { dot += p[i * d + k] * q[j * d + k] }
        total += exp(-gamma * (-2 * dot + pn[i] + qn[j]))
      }
    }
    return total / Double(rp * rq)
  }
  return scale * (meanKernel(a, na, n, a, na, n) + meanKernel(b, nb, m, b, nb, m) - 2 * meanKernel(a, na, n, b, nb, m))
}

/// The CLIP score of the reference: logit_scale · mean over pairs of cos(image_k, text_k), not clamped.
public func clipScore(images: [Float], texts: [Float], rows n: Int, dimension d: Int, logitScale: Double = 100) throws -> Double {
  guard n > 0, images.count == n * d, texts.count == n * d else {
    throw MetricsError("CLIP score needs as many image as text embeddings of width \(d)")
  }
  var total = 0.0
  for k in 0..<n {
    var dot = 0.0, ni = 0.0, nt = 0.0
    for j in 0..<d {
      let a = Double(images[k * d + j]), b = Double(texts[k * d + j])
      dot += a * b
      ni += a * a
      nt += b * b
    }
    total += dot / max(ni.squareRoot() * nt.squareRoot(), 1e-12)
  }
  return logitScale * total / Double(n)
}
