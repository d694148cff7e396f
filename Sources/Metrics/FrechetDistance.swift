// FrechetDistance: FID's distance between Gaussians fitted to features, with streaming statistics in float64.

import COpenBLAS
import Formats

/// Mean and covariance of features that arrive in batches, merged with Chan et al.'s pairwise
/// update in float64 (stable for any batch sizes); the covariance is unbiased (N − 1), like np.cov.
public struct FeatureStatistics: Sendable {
  public let dimension: Int
  public internal(set) var count = 0
  public internal(set) var mean: [Double]
  var scatter: [Double]  // Σ (x − mean)(x − mean)ᵀ, row-major

  public init(dimension: Int) {
    self.dimension = dimension
    mean = [Double](repeating: 0, count: dimension)
    scatter = [Double](repeating: 0, count: dimension * dimension)
  }

  /// Adds `rows` feature vectors (row-major floats, `rows * dimension` values).
  public mutating func add(_ features: [Float], rows: Int) throws {
    let d = dimension
    guard rows > 0 else { return }
    guard features.count == rows * d else { throw MetricsError("expected \(rows) x \(d) features, got \(features.count) values") }
    var batchMean = [Double](repeating: 0, count: d)
    for r in 0..<rows { for j in 0..<d { batchMean[j] += Double(features[r * d + j]) } }
    for j in 0..<d { batchMean[j] /= Double(rows) }
    var centered = [Double](repeating: 0, count: rows * d)
    for r in 0..<rows { for j in 0..<d { centered[r * d + j] = Double(features[r * d + j]) - batchMean[j] } }
    var batchScatter = [Double](repeating: 0, count: d * d)
    cblas_dgemm(
      CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(rows), 1, centered, Int32(d), centered, Int32(d), 0,
      &batchScatter, Int32(d))
    let n1 = Double(count), n2 = Double(rows), n = n1 + n2
    let delta = (0..<d).map { batchMean[$0] - mean[$0] }
    for i in 0..<d {
      for j in 0..<d { scatter[i * d + j] += batchScatter[i * d + j] + delta[i] * delta[j] * n1 * n2 / n }
    }
    for j in 0..<d { mean[j] += delta[j] * n2 / n }
    count += rows
  }

  /// The unbiased covariance (row-major d x d).
  public var covariance: [Double] {
    let denominator = Double(max(count - 1, 1))
    return scatter.map { $0 / denominator }
  }
}

extension FeatureStatistics {
  /// Writes `mean` [D], `scatter` [D, D] (float64) and the count into a safetensors file, atomically.
  public func save(_ path: String) throws {
    let d = dimension
    func bytes(_ v: [Double]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }
    try Safetensors.save(
      [
        try TensorPayload(name: "mean", shape: [d], rawBytes: bytes(mean), dtype: .f64),
        try TensorPayload(name: "scatter", shape: [d, d], rawBytes: bytes(scatter), dtype: .f64),
      ], metadata: ["count": String(count), "format": "aptp-fid-stats-1"], to: path)
  }

  /// Reads statistics written by `save`.
  public static func load(_ path: String) throws -> FeatureStatistics {
    let file = try SafetensorsCheckpoint.open(path)
    guard let count = file.metadata["count"]?.stringValue.flatMap(Int.init) else { throw MetricsError("\(path): not an FID statistics file (no count)") }
    let mean = try file.record("mean"), scatter = try file.record("scatter")
    guard mean.dtype == .f64, scatter.dtype == .f64, mean.shape.count == 1, scatter.shape == [mean.shape[0], mean.shape[0]] else {
      throw MetricsError("\(path): mean [D] and scatter [D, D] must be float64")
    }
    var s = FeatureStatistics(dimension: mean.shape[0])
    s.mean = mean.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    s.scatter = scatter.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    s.count = count
    return s
  }
}

/// d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂), with tr √(Σ₁Σ₂) = Σ √λ of the symmetric
/// R Σ₂ R (R = √Σ₁): eigenvalues instead of scipy's sqrtm, robust when Σ₁, Σ₂ are rank-deficient.
public func frechetDistance(mean1: [Double], covariance1: [Double], mean2: [Double], covariance2: [Double]) throws -> Double {
  let d = mean1.count
  guard d > 0, mean2.count == d, covariance1.count == d * d, covariance2.count == d * d else {
    throw MetricsError("feature statistics have different widths (\(mean1.count) and \(mean2.count))")
  }
  let meanTerm = zip(mean1, mean2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
  let trace1 = (0..<d).reduce(0) { $0 + covariance1[$1 * d + $1] }, trace2 = (0..<d).reduce(0) { $0 + covariance2[$1 * d + $1] }
  let root = try SymmetricEigen(covariance1, n: d).reconstruct { $0 > 0 ? $0.squareRoot() : 0 }
  var tmp = [Double](repeating: 0, count: d * d), product = [Double](repeating: 0, count: d * d)
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, root, Int32(d), covariance2, Int32(d), 0, &tmp, Int32(d))
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, tmp, Int32(d), root, Int32(d), 0, &product, Int32(d))
  for i in 0..<d { for j in (i + 1)..<max(i + 1, d) { let s = (product[i * d + j] + product[j * d + i]) / 2; product[i * d + j] = s; product[j * d + i] = s } }
  let traceRoot = try SymmetricEigen(product, n: d).values.reduce(0) { $0 + ($1 > 0 ? $1.squareRoot() : 0) }
  return meanTerm + trace1 + trace2 - 2 * traceRoot
}

/// FID between two feature statistics.
public func frechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) throws -> Double {
  guard a.count >= 2, b.count >= 2 else { throw MetricsError("FID needs at least 2 feature vectors per set (got \(a.count) and \(b.count))") }
  return try frechetDistance(mean1: a.mean, covariance1: a.covariance, mean2: b.mean, covariance2: b.covariance)
}
