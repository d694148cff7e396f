// MetricTests: Fréchet distance, streaming feature statistics, CMMD and CLIP score against pytorch-fid, clean-fid and the reference.
import XCTest

@testable import Formats
@testable import Metrics
@testable import TensorCore

final class MetricTests: XCTestCase {
  func doubles(_ file: String, _ name: String) throws -> [Double] {
    let ckpt = try SafetensorsCheckpoint.open(goldenFixtures + "/" + file)
    let r = try ckpt.record(name)
    return try r.withUnsafeBytes { raw in
      r.dtype == .f64 ? Array(raw.bindMemory(to: Double.self)) : try Tensor.reading(r).toArray().map(Double.init)
    }
  }

  func statistics(_ file: String, _ name: String, batches: [Int]) throws -> FeatureStatistics {
    let t = try goldenTensors(file).golden(name)
    let (n, d) = (t.shape[0], t.shape[1]), values = t.toArray()
    var s = FeatureStatistics(dimension: d)
    var start = 0, k = 0
    while start < n {
      let rows = min(batches[k % batches.count], n - start)
      try s.add(Array(values[(start * d)..<((start + rows) * d)]), rows: rows)
      start += rows
      k += 1
    }
    return s
  }

  func testStreamingStatisticsMatchNumPy() throws {
    for batches in [[1000], [7, 50, 1, 33], [1]] {
      let s = try statistics("metrics_fid/correlated.safetensors", "feats1", batches: batches)
      let mu = try doubles("metrics_fid/correlated.safetensors", "mu1"), sigma = try doubles("metrics_fid/correlated.safetensors", "sigma1")
      for (a, b) in zip(s.mean, mu) { XCTAssertEqual(a, b, accuracy: 1e-10 * max(1, abs(b))) }
      for (a, b) in zip(s.covariance, sigma) { XCTAssertEqual(a, b, accuracy: 1e-10 * max(1, abs(b))) }
    }
  }

  func testFrechetDistanceMatchesPytorchFidAndCleanFid() throws {
    for (name, check) in [("correlated", 0), ("near_singular", 1), ("identical", 2)] {
      let file = "metrics_fid/\(name).safetensors"
      let a = try statistics(file, "feats1", batches: [64]), b = try statistics(file, "feats2", batches: [100])
      let fid = try frechetDistance(a, b)
      let want = try doubles(file, "fid_pytorch_fid")[0]
      XCTAssertEqual(want, try doubles(file, "fid_cleanfid")[0])
      switch check {
      case 0: XCTAssertEqual(fid, want, accuracy: 1e-6 * abs(want), name)
      case 1: XCTAssertEqual(fid, want, accuracy: 1e-3, name)
      default: XCTAssertLessThan(abs(fid), 1e-4, name)
      }
    }
    XCTAssertThrowsError(try frechetDistance(FeatureStatistics(dimension: 3), FeatureStatistics(dimension: 3)))
    XCTAssertThrowsError(try frechetDistance(mean1: [0], covariance1: [1], mean2: [0, 0], covariance2: [1, 0, 0, 1]))
  }

  func testCMMDMatchesReference() throws {
    for name in ["identical", "same_distribution", "shifted"] {
      let io = try goldenTensors("metrics_cmmd/\(name).safetensors")
      let x = try io.golden("x"), y = try io.golden("y")
      let value = try cmmd(x.toArray(), rows: x.shape[0], y.toArray(), rows: y.shape[0], dimension: x.shape[1])
      let want = try doubles("metrics_cmmd/\(name).safetensors", "cmmd_float64")[0]
      XCTAssertEqual(value, want, accuracy: 1e-9 * max(1, abs(want)), name)
    }
  }

  func testCLIPScoreIsTheUnclampedScaledMeanCosine() throws {
    for name in ["typical", "negative_mean"] {
      let io = try goldenTensors("metrics_clipscore/\(name).safetensors")
      let images = try io.golden("image_embeddings"), texts = try io.golden("text_features")
      let scale = Double(try io.golden("logit_scale_exp").item())
      let score = try clipScore(images: images.toArray(), texts: texts.toArray(), rows: images.shape[0], dimension: images.shape[1], logitScale: scale)
      XCTAssertEqual(score, Double(try io.golden("clip_score_ref").item()), accuracy: 1e-3, name)
    }
  }
}
