// TensorFormat: how tensors print — a one-line summary, or NumPy-style values with elision.

import Foundation
import TensorCore

enum TensorFormat {
  /// `Tensor<f32>[4, 320, 64, 64] mean=0.013 std=0.98`, or the values when there are at most 10.
  static func summary(_ t: Tensor) -> String {
    let grad = t.requiresGrad ? (t.gradFn.map { ", grad_fn=\($0.name)" } ?? ", requires_grad") : ""
    if t.count <= 10 {
      let body = values(t, edge: 3).replacingOccurrences(of: "\n", with: "\n       ")
      return "tensor(\(body)\(grad))"
    }
    var text = t.description
    if t.dtype == .float32 {
      let v = t.toArray()
      let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
      let variance = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(v.count - 1, 1))
      text += " mean=\(number(mean)) std=\(number(variance.squareRoot()))"
    }
    return text + grad
  }

  static func number(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e6 { return String(format: "%.0f", x) }
    return String(format: abs(x) >= 1e4 || abs(x) < 1e-3 ? "%.3e" : "%.4g", x)
  }

  /// Nested values; each dimension longer than 2·edge shows its first and last `edge` entries.
  static func values(_ t: Tensor, edge: Int = 3, precision: Int = 4) -> String {
    let v = t.toArray()
    let isInt = t.dtype == .int64 || v.allSatisfy { $0 == $0.rounded() && abs($0) < 1e7 }
    let cells = v.map { x -> String in
      if x.isNaN { return "nan" }
      if x.isInfinite { return x > 0 ? "inf" : "-inf" }
      return isInt ? String(Int64(x)) : String(format: "%.\(precision)f", Double(x))
    }
    let width = cells.map(\.count).max() ?? 1
    if t.rank == 0 { return cells.first ?? "" }
    func render(_ dim: Int, _ offset: Int, _ indent: Int) -> String {
      let n = t.shape[dim]
      let stride = t.shape[(dim + 1)...].reduce(1, *)
      let shown: [Int?] = n > 2 * edge ? Array(0..<edge) + [nil] + Array((n - edge)..<n) : Array(0..<n)
      if dim == t.rank - 1 {
        let items = shown.map { i in i.map { String(repeating: " ", count: width - cells[offset + $0].count) + cells[offset + $0] } ?? "..." }
        return "[" + items.joined(separator: ", ") + "]"
      }
      let sep = ",\n" + String(repeating: "\n", count: max(0, t.rank - dim - 2)) + String(repeating: " ", count: indent + 1)
      let items = shown.map { i in i.map { render(dim + 1, offset + $0 * stride, indent + 1) } ?? "..." }
      return "[" + items.joined(separator: sep) + "]"
    }
    return render(0, 0, 0)
  }
}
