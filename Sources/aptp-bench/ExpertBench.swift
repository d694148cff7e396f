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
func expertBench(configPath: String, ffGateWidth: Int, batch: Int, size: Int, tokens: Int) throws {
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
  func time(_ model: UNet2DConditionModel) throws -> Double {
    try measure(minRuns: 11, minSeconds: 0) { _ = try GradMode.noGrad { try model.forward(x, timesteps: timesteps, context: context) } }
  }
  // The kept fraction whose expert has half the full model's MACs (the reference point).
  var low = 0.0, high = 1.0
  for _ in 0..<30 {
    let mid = (low + high) / 2
    if try resources.expertMACs(uniformCode(structure, fraction: mid, dropped: 0)) / resources.opCounterTotal < 0.5 { low = mid } else { high = mid }
  }
  let half = (low + high) / 2
  let full = try time(unet)
  print("expert speed: \(configPath), batch \(batch), \(size)x\(size), \(tokens) tokens, \(Parallel.threads) threads; full model \(fmt(full * 1000, 1)) ms")
  print(pad("kept width", 12) + pad("dropped", 9) + pad("MACs ratio", 12) + pad("ms", 10) + "time ratio")
  for (fraction, dropped) in [(0.75, 0), (0.5, 0), (0.5, 2), (half, 0), (0.25, 0)] {
    let code = uniformCode(structure, fraction: fraction, dropped: min(dropped, structure.depthCount))
    let expert = try Experts.extract(from: unet, structure: structure, code: code)
    let macs = try resources.expertMACs(code) / resources.opCounterTotal
    let seconds = try time(expert)
    print(pad(fmt(fraction, 3), 12) + pad(String(dropped), 9) + pad(fmt(macs, 3), 12) + pad(fmt(seconds * 1000, 1), 10) + fmt(seconds / full, 3))
  }
}
