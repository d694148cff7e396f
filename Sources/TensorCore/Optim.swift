// Optim: SGD (momentum, Nesterov), Adam and AdamW with parameter groups, grad clipping, LR schedules.

#if canImport(Glibc)
  import Glibc
#endif

/// Parameters sharing one learning rate and weight decay.
public struct ParamGroup {
  public var params: [Tensor]
  public var lr: Float
  public var weightDecay: Float
  public init(params: [Tensor], lr: Float, weightDecay: Float = 0) {
    self.params = params
    self.lr = lr
    self.weightDecay = weightDecay
  }
}

/// An optimizer: updates parameters in place from their `.grad`.
public protocol Optimizer: AnyObject {
  var groups: [ParamGroup] { get set }
  /// Number of completed `step()` calls.
  var stepCount: Int { get }
  /// Applies one update to every parameter that has a gradient.
  func step() throws
  /// Named state tensors (moments, momentum buffers) for checkpoints.
  func stateTensors() -> [String: Tensor]
  /// Restores state saved by `stateTensors()`.
  func loadStateTensors(_ state: [String: Tensor], stepCount: Int) throws
}

extension Optimizer {
  /// Clears every parameter's gradient.
  public func zeroGrad() {
    for g in groups { for p in g.params { p.grad = nil } }
  }

  /// Sets the learning rate of every group.
  public func setLearningRate(_ lr: Float) {
    for i in groups.indices { groups[i].lr = lr }
  }

  /// Calls `body(groupIndex, paramIndex, param, grad)` for each parameter with a usable gradient.
  func forEachParam(_ body: (Int, Int, Tensor, Tensor) throws -> Void) throws {
    for (gi, group) in groups.enumerated() {
      for (pi, p) in group.params.enumerated() {
        guard let g = p.grad else { continue }
        guard p.isContiguous, p.dtype == .float32, g.dtype == .float32, g.shape == p.shape else {
          throw TensorError(.state, op: "optimizer", "parameter \(gi).\(pi) \(shapeString(p.shape)) must be a contiguous float tensor with a matching gradient")
        }
        try body(gi, pi, p, g.isContiguous ? g : g.contiguousCopy())
      }
    }
  }
}

/// Per-parameter buffers keyed by "group.param.name".
final class OptimizerState {
  var buffers: [String: Tensor] = [:]

  func has(_ gi: Int, _ pi: Int, _ name: String) -> Bool { buffers["\(gi).\(pi).\(name)"] != nil }

  /// Advances and returns this parameter's own step count (PyTorch keeps one per parameter, so a
  /// parameter whose first gradient arrives late still gets the step-1 bias correction).
  func nextStep(_ gi: Int, _ pi: Int) -> Int {
    let key = "\(gi).\(pi).step"
    let counter = buffers[key] ?? Tensor(shape: [1])
    buffers[key] = counter
    counter.data[0] += 1
    return Int(counter.data[0])
  }

  func buffer(_ gi: Int, _ pi: Int, _ name: String, like p: Tensor) -> Tensor {
    let key = "\(gi).\(pi).\(name)"
    if let b = buffers[key] { return b }
    let b = Tensor(shape: p.shape)
    buffers[key] = b
    return b
  }

  func load(_ state: [String: Tensor], groups: [ParamGroup]) throws {
    for (key, t) in state {
      let parts = key.split(separator: ".")
      guard parts.count == 3, let gi = Int(parts[0]), let pi = Int(parts[1]), gi < groups.count, pi < groups[gi].params.count,
        groups[gi].params[pi].shape == t.shape || (parts[2] == "step" && t.shape == [1])
      else {
        throw TensorError(.state, op: "optimizer", "state entry '\(key)' \(shapeString(t.shape)) does not match any parameter")
      }
    }
    buffers = state.mapValues { $0.contiguousCopy() }
  }
}

/// Stochastic gradient descent with optional momentum, dampening and Nesterov, like `torch.optim.SGD`.
public final class SGD: Optimizer {
  public var groups: [ParamGroup]
  public let momentum: Float, dampening: Float, nesterov: Bool
  public private(set) var stepCount = 0
  let state = OptimizerState()

  public init(groups: [ParamGroup], momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false) {
    self.groups = groups
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
  }

  public func step() throws {
    try forEachParam { gi, pi, p, g in
      let lr = groups[gi].lr, wd = groups[gi].weightDecay
      let first = !state.has(gi, pi, "momentum")
      let buf = momentum != 0 ? state.buffer(gi, pi, "momentum", like: p) : nil
      let x = p.data, gr = g.data
      for i in 0..<p.count {
        var d = gr[i] + wd * x[i]
        if let b = buf?.data {
          b[i] = first ? d : momentum * b[i] + (1 - dampening) * d
          d = nesterov ? d + momentum * b[i] : b[i]
        }
        x[i] -= lr * d
      }
    }
    stepCount += 1
  }

  public func stateTensors() -> [String: Tensor] { state.buffers }
  public func loadStateTensors(_ s: [String: Tensor], stepCount: Int) throws {
    try state.load(s, groups: groups)
    self.stepCount = stepCount
  }
}

/// Adam (`decoupled: false`, L2 added to the gradient) or AdamW (`decoupled: true`,
/// weight decay applied to the weights), with bias correction, like `torch.optim.Adam[W]`.
public final class Adam: Optimizer {
  public var groups: [ParamGroup]
  public let beta1: Float, beta2: Float, eps: Float
  public let decoupled: Bool
  public private(set) var stepCount = 0
  let state = OptimizerState()

  public init(groups: [ParamGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8, decoupled: Bool) {
    self.groups = groups
    (beta1, beta2) = betas
    self.eps = eps
    self.decoupled = decoupled
  }

  /// AdamW with PyTorch's default weight decay of 0.01 unless the groups say otherwise.
  public static func adamW(groups: [ParamGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8) -> Adam {
    Adam(groups: groups, betas: betas, eps: eps, decoupled: true)
  }

  /// Updates every parameter with a gradient. All parameters' elements form one parallel loop, so
  /// the many small tensors (biases, norms, 32-channel kernels) neither run serially nor pay a
  /// thread hand-off each.
  public func step() throws {
    stepCount += 1
    var updates: [AdamUpdate] = []
    var keep: [Tensor] = []
    try forEachParam { gi, pi, p, g in
      let t = Float(state.nextStep(gi, pi))
      let c1 = 1 - Glibc.powf(beta1, t), c2 = 1 - Glibc.powf(beta2, t)
      let m = state.buffer(gi, pi, "exp_avg", like: p), v = state.buffer(gi, pi, "exp_avg_sq", like: p)
      keep += [p, g, m, v]
      updates.append(
        AdamUpdate(
          x: p.data, g: g.data, m: m.data, v: v.data, first: (updates.last?.end ?? 0), count: p.count,
          lr: groups[gi].lr, weightDecay: groups[gi].weightDecay, stepSize: groups[gi].lr / c1,
          rc2: 1 / c2.squareRoot()))
    }
    let total = updates.last?.end ?? 0
    let (b1, b2, eps, decoupled) = (beta1, beta2, self.eps, self.decoupled)
    withExtendedLifetime(keep) {
      // A tensor listed twice (in two groups) is updated twice, one update after the other.
      guard Set(updates.map { UnsafeRawPointer($0.x) }).count == updates.count else {
        for u in updates {
          Parallel.forRange(u.count, grain: 16384) { b, e in
            u.apply((u.first + b)..<(u.first + e), b1, b2, eps, decoupled)
          }
        }
        return
      }
      Parallel.forRange(total, grain: 16384) { begin, end in
        // The first update overlapping [begin, end) (binary search), then the following ones.
        var low = 0, high = updates.count - 1
        while low < high {
          let mid = (low + high) / 2
          if updates[mid].end <= begin { low = mid + 1 } else { high = mid }
        }
        var u = low
        while u < updates.count && updates[u].first < end {
          updates[u].apply(Swift.max(begin, updates[u].first)..<Swift.min(end, updates[u].end), b1, b2, eps, decoupled)
          u += 1
        }
      }
    }
  }

  public func stateTensors() -> [String: Tensor] { state.buffers }
  public func loadStateTensors(_ s: [String: Tensor], stepCount: Int) throws {
    try state.load(s, groups: groups)
    self.stepCount = stepCount
  }
}

/// Rescales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Float) -> Float {
  var total: Double = 0
  for p in params {
    guard let g = p.grad else { continue }
    for v in g.toArray() { total += Double(v) * Double(v) }
  }
  let norm = Float(total.squareRoot())
  let coef = maxNorm / (norm + 1e-6)
  if coef < 1 {
    for p in params {
      guard let g = p.grad else { continue }
      let c = g.isContiguous ? g : g.contiguousCopy()
      for i in 0..<c.count { c.data[i] *= coef }
      p.grad = c
    }
  }
  return norm
}

/// A learning-rate multiplier as a function of the step (0-based), like diffusers' `get_scheduler`.
public enum LRSchedule: Sendable, Equatable {
  case constant
  /// Linear ramp from 0 over `warmup` steps, then constant.
  case constantWithWarmup(warmup: Int)
  /// Linear ramp over `warmup`, then linear decay to 0 at `total`.
  case linear(warmup: Int, total: Int)
  /// Linear ramp over `warmup`, then half a cosine down to 0 at `total`.
  case cosine(warmup: Int, total: Int)

  /// The multiplier for `step`.
  public func factor(_ step: Int) -> Float {
    switch self {
    case .constant:
      return 1
    case .constantWithWarmup(let w):
      return step < w ? Float(step) / Float(Swift.max(1, w)) : 1
    case .linear(let w, let total):
      if step < w { return Float(step) / Float(Swift.max(1, w)) }
      return Swift.max(0, Float(total - step) / Float(Swift.max(1, total - w)))
    case .cosine(let w, let total):
      if step < w { return Float(step) / Float(Swift.max(1, w)) }
      let progress = Float(step - w) / Float(Swift.max(1, total - w))
      return Swift.max(0, 0.5 * (1 + Glibc.cosf(Float.pi * progress)))
    }
  }
}

/// One parameter's Adam update: its tensors' storage, its place in the step's combined element
/// range, and the step's constants for it.
struct AdamUpdate {
  let x: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
  let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
  /// Position of element 0 in the combined range.
  let first: Int
  let count: Int
  let lr: Float, weightDecay: Float, stepSize: Float, rc2: Float
  var end: Int { first + count }

  /// Updates the elements whose combined positions are in `range`.
  @inline(__always)
  func apply(_ range: Range<Int>, _ b1: Float, _ b2: Float, _ eps: Float, _ decoupled: Bool) {
    for j in range {
      let i = j - first
      var d = g[i]
      if decoupled { x[i] *= 1 - lr * weightDecay } else { d += weightDecay * x[i] }
      m[i] = b1 * m[i] + (1 - b1) * d
      v[i] = b2 * v[i] + (1 - b2) * d * d
      x[i] -= stepSize * m[i] / (v[i].squareRoot() * rc2 + eps)
    }
  }
}
