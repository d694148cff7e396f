// ExpertBench: does a physically pruned expert run as much faster as its MACs say? Forward time vs MACs ratio.

import Diffusion
import Formats
import Foundation
import NN
import Pruning
import TensorCore

/// A code keeping the first `fraction` of every width group (at least one), with every depth gate
/// on except the first `dropped` ones.
func uniformCode(_ s: GateStructure, fraction: Double, dropped: Int) -> [Float] {
  var code = [Float](repeating: 0, count: s.length)
  for e in s.entries {
    var column = e.widthOffset
    for w in e.widths {
      let keep = max(1, Int((Double(w) * fraction).rounded()))
      for i in 0..<keep { code[column + i] = 1 }
      column += w
    }
  }
  for d in 0..<s.depthCount { code[s.sumWidth + d] = d < dropped ? 0 : 1 }
  return code
}

/// For each kept fraction: the expert's MACs over the full model's, and its forward time over the full model's.
/// `profileOnly` ("full" or "half") times just that model for `profileRuns` forwards, for `perf record`.
func expertBench(
  configPath: String, ffGateWidth: Int, batch: Int, size: Int, tokens: Int, profileOnly: String? = nil, profileRuns: Int = 50
) throws {
  let config = try loadConfig(UNet2DConditionConfig.self, from: configPath)
  let g = Generator(seed: 0)
  let unet = try UNet2DConditionModel(config, generator: g)
  unet.eval()
  let structure = try GateStructure(unet: unet, ffGateWidth: ffGateWidth)
  let resources = try ResourceModel(config: config, structure: structure, height: size, width: size, tokens: tokens)
  let width = config.crossAttentionDim.perBlock(config.blockOutChannels.count)[0]
  let x = Tensor.randn([batch, config.inChannels, size, size], generator: g)
  let context = Tensor.randn([batch, tokens, width], generator: g)
  let timesteps = (0..<batch).map { Float(($0 * 97) % 1000) }
  func forward(_ model: UNet2DConditionModel) throws {
    _ = try GradMode.noGrad { try model.forward(x, timesteps: timesteps, context: context) }
  }
  // The kept fraction whose expert has half the full model's MACs (the reference point).
  var low = 0.0, high = 1.0
  for _ in 0..<30 {
    let mid = (low + high) / 2
    if try resources.expertMACs(uniformCode(structure, fraction: mid, dropped: 0)) / resources.opCounterTotal < 0.5 { low = mid } else { high = mid }
  }
  let half = (low + high) / 2
  if let profileOnly {
    let model = profileOnly == "full" ? unet : try Experts.extract(from: unet, structure: structure, code: uniformCode(structure, fraction: half, dropped: 0))
    let seconds = try measure(minRuns: profileRuns, minSeconds: 0) { try forward(model) }
    print("\(profileOnly): \(fmt(seconds * 1000, 1)) ms per forward over \(profileRuns) runs")
    return
  }
  let settings = [(0.75, 0), (0.5, 0), (0.5, 2), (half, 0), (0.25, 0)]
  var models = [unet]
  var macs = [1.0]
  for (fraction, dropped) in settings {
    let code = uniformCode(structure, fraction: fraction, dropped: min(dropped, structure.depthCount))
    models.append(try Experts.extract(from: unet, structure: structure, code: code))
    macs.append(try resources.expertMACs(code) / resources.opCounterTotal)
  }
  // Rounds that run every model once, so a slow spell of this shared machine hits all of them alike.
  let seconds = try interleavedMedians(models.count, rounds: 15) { try forward(models[$0]) }
  print("expert speed: \(configPath), batch \(batch), \(size)x\(size), \(tokens) tokens, \(Parallel.threads) threads; full model \(fmt(seconds[0] * 1000, 1)) ms")
  print(pad("kept width", 12) + pad("dropped", 9) + pad("MACs ratio", 12) + pad("ms", 10) + "time ratio")
  for (i, (fraction, dropped)) in settings.enumerated() {
    print(pad(fmt(fraction, 3), 12) + pad(String(dropped), 9) + pad(fmt(macs[i + 1], 3), 12) + pad(fmt(seconds[i + 1] * 1000, 1), 10) + fmt(seconds[i + 1] / seconds[0], 3))
  }
}
