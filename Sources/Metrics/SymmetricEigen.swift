// SymmetricEigen: eigenvalues and eigenvectors of symmetric matrices in float64 through LAPACK (dsyevd).

import COpenBLAS

/// A = V diag(λ) Vᵀ for a symmetric n x n matrix (row-major; symmetric, so the layout does not matter).
public struct SymmetricEigen {
  /// Eigenvalues, ascending.
  public let values: [Double]
  /// Eigenvectors as columns of an n x n column-major matrix: vector k is vectors[k*n ..< (k+1)*n].
  public let vectors: [Double]
  public let n: Int

  public init(_ matrix: [Double], n: Int) throws {
    guard n > 0, matrix.count == n * n else { throw MetricsError("eigendecomposition needs an n x n matrix, got \(matrix.count) values for n = \(n)") }
    guard matrix.allSatisfy(\.isFinite) else { throw MetricsError("the matrix has non-finite entries") }
    var a = matrix, w = [Double](repeating: 0, count: n)
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var workQuery = 0.0, iworkQuery: Int32 = 0, minusOne: Int32 = -1
    let jobz: CChar = 86  // "V"
    let uplo: CChar = 85  // "U"
    var jz = jobz, up = uplo
    dsyevd_(&jz, &up, &nn, &a, &lda, &w, &workQuery, &minusOne, &iworkQuery, &minusOne, &info, 1, 1)
    guard info == 0 else { throw MetricsError("dsyevd workspace query failed (info \(info))") }
    var lwork = Int32(workQuery), liwork = iworkQuery
    var work = [Double](repeating: 0, count: max(1, Int(lwork)))
    var iwork = [Int32](repeating: 0, count: max(1, Int(liwork)))
    dsyevd_(&jz, &up, &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    guard info == 0 else { throw MetricsError("dsyevd did not converge (info \(info))") }
    values = w
    vectors = a
    self.n = n
  }

  /// V f(Λ) Vᵀ (row-major), e.g. f = sqrt for the symmetric square root, as one GEMM.
  public func reconstruct(_ f: (Double) -> Double) -> [Double] {
    // `vectors` read row-major is Vᵀ (row k = eigenvector k): scale its rows, then Vᵀᵀ · scaled.
    var scaled = vectors
    for k in 0..<n {
      let s = f(values[k])
      for i in 0..<n { scaled[k * n + i] *= s }
    }
    var out = [Double](repeating: 0, count: n * n)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, vectors, Int32(n), scaled, Int32(n), 0, &out, Int32(n))
    return out
  }
}
