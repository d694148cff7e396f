// FeatureNetBench: forward time of the metric feature networks — FID InceptionV3 and CLIP ViT-B/32 vision — beside PyTorch.

import Formats
import Foundation
import Metrics
import NN
import TensorCore

/// Times a batch of images through each feature network (random weights; the work does not depend
/// on the values) and runs tools/bench/feature_peer.py on the same shapes.
func featureNetBench(peer withPeer: Bool, only filter: String? = nil, batch: Int = 16) throws {
  let g = Generator(seed: 0)
  let inception = try InceptionV3(generator: g)
  inception.eval()
  let clip = try CLIPVisionModel(CLIPVisionConfig(), generator: g)
  clip.eval()
  let x299 = Tensor.rand([batch, 3, 299, 299], generator: g)
  let x224 = Tensor.randn([batch, 3, 224, 224], generator: g)
  let cases: [(String, () throws -> Void)] = [
    ("inception_fid b\(batch) 299", { _ = try GradMode.noGrad { try inception.features(x299) } }),
    ("clip_vit_b32 b\(batch) 224", { _ = try GradMode.noGrad { try clip(x224) } }),
  ]
  let ours = try cases.filter { filter.map($0.0.contains) ?? true }.map { ($0.0, try measure(minRuns: 3, minSeconds: 0, $0.1)) }
  let peer = withPeer ? runPeerScript("tools/bench/feature_peer.py", String(batch)) : [:]
  if withPeer && peer.isEmpty { print("(PyTorch peer unavailable: pip install torch torchvision transformers pytorch-fid to compare)") }
  print("feature networks (random weights, \(Parallel.threads) threads):")
  print(pad("case", 28) + pad("ms", 10) + pad("torch ms", 10) + "ratio")
  for (name, s) in ours {
    let p = peer[name]
    print(pad(name, 28) + pad(fmt(s * 1000, 1), 10) + pad(p.map { fmt($0 * 1000, 1) } ?? "-", 10) + (p.map { fmt(s / $0) } ?? "-"))
  }
}
