// Cases: one benchmark case from tools/bench/cases.json — the engine run, its work, its raw-sgemm reference.

import COpenBLAS
import TensorCore

/// A case as read from cases.json: name, op and integer parameters.
struct BenchCase {
  let name: String
  let op: String
  let p: [String: Int]

  func int(_ key: String, _ fallback: Int = 0) -> Int { p[key] ?? fallback }
}

/// What one case measured.
struct BenchResult {
  let name: String
  let seconds: Double
  /// Floating-point operations (GEMM-like cases) or bytes moved (memory-bound cases) per run.
  let work: Double
  let isBytes: Bool
  /// Raw cblas_sgemm seconds for the same GEMM(s), with OpenBLAS using the same thread count.
  let sgemmSeconds: Double?
}

/// Times one raw sgemm of the given size with OpenBLAS's own threading.
func rawSgemm(m: Int, n: Int, k: Int) -> Double {
  let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
  var c = [Float](repeating: 0, count: m * n)
  openblas_set_num_threads(Int32(Parallel.threads))
  defer { openblas_set_num_threads(1) }
  return measure {
    cblas_sgemm(
      CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, &c,
      Int32(n))
  }
}

/// Runs one case with the engine.
func runCase(_ c: BenchCase) throws -> BenchResult {
  let g = Generator(seed: 0)
  switch c.op {
  case "matmul":
    let (m, k, n) = (c.int("m"), c.int("k"), c.int("n"))
    let a = Tensor.randn([m, k], generator: g), b = Tensor.randn([k, n], generator: g)
    let s = try measure { _ = try a.matmul(b) }
    return BenchResult(name: c.name, seconds: s, work: 2.0 * Double(m * n * k), isBytes: false, sgemmSeconds: rawSgemm(m: m, n: n, k: k))
  case "conv2d_fwd", "conv2d_bwd":
    return try convCase(c, g, backward: c.op == "conv2d_bwd")
  case "linear", "linear_bwd":
    return try linearCase(c, g, backward: c.op == "linear_bwd")
  case "sdpa", "sdpa_bwd":
    let (b, h, lq, lk, d) = (c.int("b"), c.int("heads"), c.int("lq"), c.int("lk"), c.int("d"))
    let q = Tensor.randn([b, h, lq, d], generator: g), kt = Tensor.randn([b, h, lk, d], generator: g)
    let v = Tensor.randn([b, h, lk, d], generator: g)
    let flops = 4.0 * Double(b * h * lq * lk * d)
    if c.op == "sdpa" {
      let s = try measure { _ = try Tensor.scaledDotProductAttention(q, kt, v) }
      return BenchResult(name: c.name, seconds: s, work: flops, isBytes: false, sgemmSeconds: nil)
    }
    for t in [q, kt, v] { t.requiresGrad = true }
    let up = Tensor.randn([b, h, lq, d], generator: g)
    let s = try measure {
      for t in [q, kt, v] { t.grad = nil }
      try Tensor.scaledDotProductAttention(q, kt, v).backward(up)
    }
    return BenchResult(name: c.name, seconds: s, work: 3.5 * flops, isBytes: false, sgemmSeconds: nil)
  case "group_norm":
    let x = Tensor.randn([c.int("n"), c.int("c"), c.int("h"), c.int("w")], generator: g)
    let w = Tensor.randn([c.int("c")], generator: g), bias = Tensor.randn([c.int("c")], generator: g)
    let s = try measure { _ = try Tensor.groupNorm(x, groups: c.int("groups"), weight: w, bias: bias) }
    return BenchResult(name: c.name, seconds: s, work: 3.0 * 4 * Double(x.count), isBytes: true, sgemmSeconds: nil)
  case "add", "silu", "gelu":
    let n = c.int("count")
    let x = Tensor.randn([n], generator: g), y = Tensor.randn([n], generator: g)
    let s = try measure {
      switch c.op {
      case "add": _ = try x + y
      case "silu": _ = try x.silu()
      default: _ = try x.gelu()
      }
    }
    let bytes = Double(n) * 4 * (c.op == "add" ? 3 : 2)
    return BenchResult(name: c.name, seconds: s, work: bytes, isBytes: true, sgemmSeconds: nil)
  default:
    throw TensorError(.argument, op: "bench", "unknown benchmark op '\(c.op)' in case '\(c.name)'")
  }
}

/// Conv2d forward (or forward + backward) with the equivalent raw GEMMs as reference.
func convCase(_ c: BenchCase, _ g: Generator, backward: Bool) throws -> BenchResult {
  let (n, cin, cout, h, w, k) = (c.int("n"), c.int("cin"), c.int("cout"), c.int("h"), c.int("w"), c.int("k"))
  let (stride, pad) = (c.int("stride", 1), c.int("pad"))
  let x = Tensor.randn([n, cin, h, w], generator: g), wt = Tensor.randn([cout, cin, k, k], generator: g)
  let b = Tensor.randn([cout], generator: g)
  let ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1
  let (gm, gn, gk) = (cout, n * ho * wo, cin * k * k)
  let flops = 2.0 * Double(gm * gn * gk)
  let conv = { try Tensor.conv2d(x, weight: wt, bias: b, stride: (stride, stride), padding: (pad, pad)) }
  if !backward {
    let s = try measure { _ = try conv() }
    return BenchResult(name: c.name, seconds: s, work: flops, isBytes: false, sgemmSeconds: rawSgemm(m: gm, n: gn, k: gk))
  }
  for t in [x, wt, b] { t.requiresGrad = true }
  let up = Tensor.randn([n, cout, ho, wo], generator: g)
  let s = try measure {
    for t in [x, wt, b] { t.grad = nil }
    try conv().backward(up)
  }
  let reference = rawSgemm(m: gm, n: gn, k: gk) + rawSgemm(m: gm, n: gk, k: gn) + rawSgemm(m: gk, n: gn, k: gm)
  return BenchResult(name: c.name, seconds: s, work: 3 * flops, isBytes: false, sgemmSeconds: reference)
}

/// A linear layer [m, k] -> [m, n] with bias and a residual (as the transformer blocks use it),
/// forward or forward + backward, with the equivalent raw GEMMs as reference.
func linearCase(_ c: BenchCase, _ g: Generator, backward: Bool) throws -> BenchResult {
  let (m, k, n) = (c.int("m"), c.int("k"), c.int("n"))
  let x = Tensor.randn([m, k], generator: g), w = Tensor.randn([n, k], generator: g)
  let b = Tensor.randn([n], generator: g), r = Tensor.randn([m, n], generator: g)
  let flops = 2.0 * Double(m * n * k)
  let layer = { try Tensor.linear(x, weight: w, bias: b, residual: r) }
  if !backward {
    let s = try measure { _ = try layer() }
    return BenchResult(name: c.name, seconds: s, work: flops, isBytes: false, sgemmSeconds: rawSgemm(m: m, n: n, k: k))
  }
  for t in [x, w, b] { t.requiresGrad = true }
  let up = Tensor.randn([m, n], generator: g)
  let s = try measure {
    for t in [x, w, b] { t.grad = nil }
    try layer().backward(up)
  }
  let reference = rawSgemm(m: m, n: n, k: k) + rawSgemm(m: m, n: k, k: n) + rawSgemm(m: n, n: k, k: m)
  return BenchResult(name: c.name, seconds: s, work: 3 * flops, isBytes: false, sgemmSeconds: reference)
}
