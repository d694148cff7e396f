// MetricsBindings: the `metrics` module — FID, CMMD and CLIP score on feature tensors.

import Metrics
import Script
import TensorCore

/// Features [N, D] as row-major floats.
private func rows(_ a: Arguments, _ i: Int, _ ctx: BindingContext) throws -> (values: [Float], n: Int, d: Int) {
  let t = try a.tensor(i, ctx)
  guard t.rank == 2 else { throw a.bad(i, "feature tensor [N, D]") }
  return (t.toArray(), t.shape[0], t.shape[1])
}

func metricsModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "fid", [p("features1"), p("features2")],
    doc: "Fréchet distance between two feature sets [N, D] (float64 statistics, eigen-based trace of the matrix square root).") { a in
    let x = try rows(a, 0, ctx), y = try rows(a, 1, ctx)
    var s1 = FeatureStatistics(dimension: x.d), s2 = FeatureStatistics(dimension: y.d)
    try s1.add(x.values, rows: x.n)
    try s2.add(y.values, rows: y.n)
    return .number(try frechetDistance(s1, s2))
  }
  def(m, "cmmd", [p("x"), p("y"), p("sigma", .number(10)), p("scale", .number(1000))],
    doc: "CMMD: Gaussian-kernel MMD (biased) between embedding sets [N, D] and [M, D], times scale.") { a in
    let x = try rows(a, 0, ctx), y = try rows(a, 1, ctx)
    guard x.d == y.d else { throw a.bad(1, "embeddings of width \(x.d)") }
    return .number(try cmmd(x.values, rows: x.n, y.values, rows: y.n, dimension: x.d, sigma: try a.number(2), scale: try a.number(3)))
  }
  def(m, "clip_score", [p("images"), p("texts"), p("scale", .number(100))],
    doc: "scale · mean cosine of paired image and text embeddings [N, D] (the reference's CLIP score, not clamped).") { a in
    let x = try rows(a, 0, ctx), y = try rows(a, 1, ctx)
    guard x.n == y.n, x.d == y.d else { throw a.bad(1, "text embeddings [\(x.n), \(x.d)]") }
    return .number(try clipScore(images: x.values, texts: y.values, rows: x.n, dimension: x.d, logitScale: try a.number(2)))
  }
  return m
}
