// aptp: entry point. Until the language and REPL land, it runs a short demo of the tensor engine.

import NN
import TensorCore

#if canImport(Glibc)
  import Glibc
#endif

/// Wall-clock seconds since an arbitrary origin.
func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Fits y = sin(3x) + noise with a two-layer MLP and AdamW, printing the loss as it falls.
func regressionDemo() throws {
  let g = Generator(seed: 2)
  let x = Tensor.rand([256, 1], low: -1, high: 1, generator: g)
  let y = try (x * 3).sin() + Tensor.randn([256, 1], generator: g).scaled(0.05)
  let model = Sequential([try Linear(1, 64, generator: g), SiLU(), try Linear(64, 1, generator: g)])
  let opt = Adam.adamW(groups: [ParamGroup(params: model.parameters(), lr: 0.01, weightDecay: 1e-4)])
  let schedule = LRSchedule.cosine(warmup: 20, total: 600)
  for step in 0..<600 {
    opt.setLearningRate(0.01 * schedule.factor(step))
    opt.zeroGrad()
    let loss = try (model(x) - y).pow(2).mean()
    try loss.backward()
    try opt.step()
    if step % 100 == 0 || step == 599 { print("  step \(step)  mse \(try loss.item())") }
  }
}

/// Runs one conv -> group_norm -> silu -> attention stack at a small-UNet shape and times it.
func unetShapeDemo() throws {
  let g = Generator(seed: 1)
  let x = Tensor.randn([8, 64, 32, 32], generator: g)
  let conv = try Conv2d(64, 64, kernel: 3, padding: 1, generator: g)
  let norm = try GroupNorm(groups: 32, channels: 64)
  let start = now()
  let h = try norm(conv(x)).silu()
  let tokens = try h.reshape([8, 64, 1024]).transpose(1, 2).reshape([8, 1024, 4, 16]).transpose(1, 2)
  let attended = try Tensor.scaledDotProductAttention(tokens, tokens, tokens)
  let seconds = now() - start
  print("  conv3x3 + group_norm + silu + attention on \(x): \(attended) in \(Int(seconds * 1000)) ms")
}

Runtime.relaunchWithBLASCoreIfNeeded()
do {
  print("aptp tensor engine demo (\(Parallel.threads) threads)")
  print("1. regression with a 2-layer MLP (AdamW, cosine schedule)")
  try regressionDemo()
  print("2. a small UNet-shaped block")
  try unetShapeDemo()
} catch {
  print("error: \(error)")
  exit(70)
}
