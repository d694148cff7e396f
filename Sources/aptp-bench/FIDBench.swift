// FIDBench: Fréchet distance of two 10k x 2048 feature sets (statistics included), beside pytorch-fid.

import Formats
import Foundation
import Metrics
import TensorCore

/// Times statistics (in batches of 500) plus the distance for two random correlated feature sets,
/// and runs tools/bench/fid_peer.py on the same features.
func fidBench(peer withPeer: Bool, samples: Int = 10_000, dimension: Int = 2048) throws {
  let g = Generator(seed: 1)
  let mixing = try Tensor.randn([dimension, dimension], generator: g).scaled(1 / Float(dimension).squareRoot())
  let a = try Tensor.randn([samples, dimension], generator: g).matmul(mixing)
  let b = try (Tensor.randn([samples, dimension], generator: g).matmul(mixing) + 0.1)
  let (va, vb) = (a.toArray(), b.toArray())
  var value = 0.0
  let seconds = try measure(minRuns: 1, minSeconds: 0) {
    var s1 = FeatureStatistics(dimension: dimension), s2 = FeatureStatistics(dimension: dimension)
    for start in stride(from: 0, to: samples, by: 500) {
      let rows = min(500, samples - start)
      try s1.add(Array(va[(start * dimension)..<((start + rows) * dimension)]), rows: rows)
      try s2.add(Array(vb[(start * dimension)..<((start + rows) * dimension)]), rows: rows)
    }
    value = try frechetDistance(s1, s2)
  }
  var line = "FID \(samples) x \(dimension) (statistics + distance): \(fmt(seconds, 2)) s, FID \(fmt(value, 4))"
  if withPeer {
    let path = NSTemporaryDirectory() + "aptp-bench-fid-\(ProcessInfo.processInfo.processIdentifier).safetensors"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Safetensors.save(
      [try TensorPayload(name: "a", shape: a.shape, floats: va), try TensorPayload(name: "b", shape: b.shape, floats: vb)], to: path)
    let peer = runPeerScript("tools/bench/fid_peer.py", path)
    if let s = peer["fid"], let v = peer["fid_value"] {
      line += "; pytorch-fid \(fmt(s, 2)) s (FID \(fmt(v, 4))); time ratio \(fmt(seconds / s, 3))"
    } else {
      line += "; pytorch-fid peer unavailable (pip install pytorch-fid scipy to compare)"
    }
  }
  print(line)
}
