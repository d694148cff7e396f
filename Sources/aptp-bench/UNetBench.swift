// UNetBench: UNet forward and training-step times for the small pixel model and the SD 2.1 shape, beside diffusers.

import Diffusion
import Formats
import Foundation
import NN
import TensorCore

/// One UNet benchmark row, run the same way by tools/bench/unet_peer.py.
struct UNetCase {
  let name: String, configPath: String, batch: Int, size: Int, tokens: Int, train: Bool
}

let unetCases = [
  UNetCase(name: "pixel_tiny fwd b8", configPath: "Tests/Fixtures/goldens/unet_pixel_tiny/model/config.json", batch: 8, size: 32, tokens: 16, train: false),
  UNetCase(name: "pixel_tiny fwd b32", configPath: "Tests/Fixtures/goldens/unet_pixel_tiny/model/config.json", batch: 32, size: 32, tokens: 16, train: false),
  UNetCase(name: "pixel_tiny train b8", configPath: "Tests/Fixtures/goldens/unet_pixel_tiny/model/config.json", batch: 8, size: 32, tokens: 16, train: true),
  UNetCase(name: "pixel_tiny train b32", configPath: "Tests/Fixtures/goldens/unet_pixel_tiny/model/config.json", batch: 32, size: 32, tokens: 16, train: true),
  UNetCase(name: "teacher train b32", configPath: "configs/teacher/unet.json", batch: 32, size: 32, tokens: 16, train: true),
  UNetCase(name: "sd21 fwd b2 32x32", configPath: "configs/sd21_unet.json", batch: 2, size: 32, tokens: 77, train: false),
]

/// Seconds per call (median) of one case.
func runUNetCase(_ c: UNetCase, runs: Int = 3) throws -> Double {
  let config = try loadConfig(UNet2DConditionConfig.self, from: c.configPath)
  let g = Generator(seed: 0)
  let unet = try UNet2DConditionModel(config, generator: g)
  let width = config.crossAttentionDim.perBlock(config.blockOutChannels.count)[0]
  let x = Tensor.randn([c.batch, config.inChannels, c.size, c.size], generator: g)
  let context = Tensor.randn([c.batch, c.tokens, width], generator: g)
  let target = Tensor.randn(x.shape, generator: g)
  let timesteps = (0..<c.batch).map { Float(($0 * 97) % 1000) }
  if !c.train {
    unet.eval()
    return try measure(minRuns: runs, minSeconds: 0) {
      _ = try GradMode.noGrad { try unet.forward(x, timesteps: timesteps, context: context) }
    }
  }
  let opt = Adam.adamW(groups: [ParamGroup(params: unet.parameters(), lr: 1e-4, weightDecay: 0.01)])
  return try measure(minRuns: runs, minSeconds: 0) {
    opt.zeroGrad()
    let loss = try (unet.forward(x, timesteps: timesteps, context: context).sample - target).pow(2).mean()
    try loss.backward()
    try opt.step()
  }
}

/// Runs every case, the diffusers peer, and the SD 2.1 memory check.
/// `runs` timed calls per case (more for `perf record`).
func unetBench(peer withPeer: Bool, only filter: String? = nil, runs: Int = 3) throws {
  print("UNet (random weights, \(Parallel.threads) threads):")
  let peer = withPeer ? runUNetPeer() : [:]
  if withPeer && peer.isEmpty { print("(diffusers peer unavailable: pip install torch diffusers to compare)") }
  print(pad("case", 26) + pad("ms", 12) + pad("diffusers ms", 14) + "ratio")
  for c in unetCases where filter.map({ c.name.contains($0) }) ?? true {
    let s = try runUNetCase(c, runs: runs)
    let p = peer[c.name]
    print(pad(c.name, 26) + pad(fmt(s * 1000, 1), 12) + pad(p.map { fmt($0 * 1000, 1) } ?? "-", 14) + (p.map { fmt(s / $0) } ?? "-"))
  }
}

/// Peak resident memory of this process in MB.
func peakResidentMB() -> Double {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_maxrss) / 1024
}

/// SD 2.1-shaped forward passes at 32x32 and 64x64 latents, batch 2, reporting peak memory.
func sd21MemoryCheck() throws {
  let config = try loadConfig(UNet2DConditionConfig.self, from: "configs/sd21_unet.json")
  let unet = try UNet2DConditionModel(config, generator: Generator(seed: 0))
  unet.eval()
  print("SD 2.1 UNet: \(unet.parameterCount) parameters; peak RSS after building: \(fmt(peakResidentMB(), 0)) MB")
  for size in [32, 64] {
    let g = Generator(seed: 1)
    let x = Tensor.randn([2, 4, size, size], generator: g), context = Tensor.randn([2, 77, 1024], generator: g)
    let t0 = Date()
    _ = try GradMode.noGrad { try unet.forward(x, timesteps: [500], context: context) }
    print("  forward b2 \(size)x\(size): \(fmt(Date().timeIntervalSince(t0), 2)) s, peak RSS \(fmt(peakResidentMB(), 0)) MB")
  }
}

func runUNetPeer() -> [String: Double] {
  let spec = unetCases.map {
    ["name": $0.name, "config": $0.configPath, "batch": $0.batch, "size": $0.size, "tokens": $0.tokens, "train": $0.train] as [String: Any]
  }
  return withJSONFile(spec) { runPeerScript("tools/bench/unet_peer.py", $0) } ?? [:]
}
