// Autograd: graph nodes, the grad-mode switch, and reverse-mode backward with freeing of saved tensors.

/// Where a gradient goes: into another node, or into a leaf tensor's `grad`.
enum Edge {
  case node(Node)
  case leaf(Tensor)
  case none
}

/// One recorded operation. `backward` maps the output gradient to one gradient per input edge;
/// it is dropped after use so the tensors it captured (saved activations) are freed.
public final class Node {
  /// The op's name, for error messages and graph inspection.
  public let name: String
  let edges: [Edge]
  var backwardFn: ((Tensor) throws -> [Tensor?])?

  init(name: String, edges: [Edge], backward: @escaping (Tensor) throws -> [Tensor?]) {
    self.name = name
    self.edges = edges
    self.backwardFn = backward
  }
}

/// Whether operations record the autograd graph (per task; default on).
public enum GradMode {
  @TaskLocal public static var isEnabled = true

  /// Runs `body` with graph recording off, like `torch.no_grad()`.
  public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    try $isEnabled.withValue(false) { try body() }
  }
}

extension Tensor {
  /// Attaches a backward node to `self` (a fresh result) when any input requires grad.
  /// `backward` receives the output gradient and returns one gradient (or nil) per input.
  @discardableResult
  func record(
    _ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
    let edges: [Edge] = inputs.map { t in
      if let fn = t.gradFn { return .node(fn) }
      return t._requiresGrad ? .leaf(t) : .none
    }
    gradFn = Node(name: name, edges: edges, backward: backward)
    return self
  }

  /// Computes gradients of this tensor with respect to every leaf that requires grad.
  /// A non-scalar tensor needs a `gradient` of its own shape (the seed).
  /// Unless `retainGraph`, saved activations are freed and the graph cannot be reused.
  public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
    let seed: Tensor
    if let gradient {
      try gradient.requireFloat("backward")
      guard gradient.shape == shape else {
        throw TensorError.shape("backward", "gradient \(shapeString(gradient.shape)) does not match tensor \(shapeString(shape))")
      }
      seed = gradient
    } else {
      guard count == 1 else {
        throw TensorError.argument("backward", "a gradient is needed for a non-scalar tensor \(shapeString(shape))")
      }
      seed = Tensor.ones(shape)
    }
    guard requiresGrad else {
      throw TensorError(.state, op: "backward", "tensor does not require grad and has no grad_fn")
    }
    try GradMode.noGrad {
      guard let root = gradFn else {
        try accumulate(seed)
        return
      }
      try Self.runBackward(root: root, seed: seed, retainGraph: retainGraph)
    }
  }

  /// Adds `g` into this leaf's `grad`.
  func accumulate(_ g: Tensor) throws {
    let g2 = g.shape == shape ? g : try g.sumTo(shape)
    if let existing = grad {
      grad = try existing + g2
    } else {
      grad = g2.isContiguous && g2.storage !== storage ? g2 : g2.contiguousCopy()
    }
  }

  static func runBackward(root: Node, seed: Tensor, retainGraph: Bool) throws {
    let order = topologicalOrder(root)
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
    for node in order {
      guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
      guard let fn = node.backwardFn else {
        throw TensorError(.state, op: "backward", "the graph through '\(node.name)' was already freed; pass retainGraph to backward twice")
      }
      let inputGrads = try fn(g)
      if !retainGraph { node.backwardFn = nil }
      for (edge, gi) in zip(node.edges, inputGrads) {
        guard let gi else { continue }
        switch edge {
        case .node(let n):
          let key = ObjectIdentifier(n)
          if let prev = grads[key] { grads[key] = try prev + gi } else { grads[key] = gi }
        case .leaf(let t):
          try t.accumulate(gi)
        case .none:
          break
        }
      }
    }
  }

  /// Nodes reachable from `root`, each after every node that feeds gradient into it.
  static func topologicalOrder(_ root: Node) -> [Node] {
    var visited = Set<ObjectIdentifier>()
    var post: [Node] = []
    var stack: [(Node, Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root))
    while let (node, next) = stack.popLast() {
      if next < node.edges.count {
        stack.append((node, next + 1))
        if case .node(let child) = node.edges[next], visited.insert(ObjectIdentifier(child)).inserted {
          stack.append((child, 0))
        }
      } else {
        post.append(node)
      }
    }
    return post.reversed()
  }
}
