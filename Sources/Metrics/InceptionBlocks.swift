// InceptionBlocks: the layers of pytorch-fid's FID InceptionV3 — conv + BatchNorm + ReLU units and the mixed blocks.

import NN
import TensorCore

/// Conv2d (no bias) → BatchNorm2d (eval, eps 1e-3) → ReLU, with torchvision's `conv`/`bn` names.
final class BasicConv: Module {
  let conv: Conv2d
  let gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor

  init(_ cin: Int, _ cout: Int, kernel: (Int, Int) = (1, 1), stride: Int = 1, padding: (Int, Int) = (0, 0), generator: Generator) throws {
    conv = try Conv2d(cin, cout, kernel: kernel, stride: (stride, stride), padding: padding, bias: false, generator: generator)
    gamma = Tensor.ones([cout])
    beta = Tensor(shape: [cout])
    runningMean = Tensor(shape: [cout])
    runningVar = Tensor.ones([cout])
    super.init()
    registerModule("conv", conv)
    let bn = ModuleGroup([])
    bn.registerParameter("weight", gamma)
    bn.registerParameter("bias", beta)
    bn.registerBuffer("running_mean", runningMean)
    bn.registerBuffer("running_var", runningVar)
    registerModule("bn", bn)
  }

  convenience init(_ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, padding: Int = 0, generator: Generator) throws {
    try self.init(cin, cout, kernel: (k, k), stride: stride, padding: (padding, padding), generator: generator)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let c = runningVar.count
    let scale = try gamma / (runningVar + 1e-3).sqrt()
    let shift = try beta - runningMean * scale
    return try (conv(x) * scale.reshape([1, c, 1, 1]) + shift.reshape([1, c, 1, 1])).relu()
  }
}

/// FID Inception A (Mixed_5b-5d): 1x1, 5x5, double 3x3 and an average-pool branch (padding not counted).
final class InceptionA: Module {
  let b1: BasicConv, b5a: BasicConv, b5b: BasicConv, d1: BasicConv, d2: BasicConv, d3: BasicConv, pool: BasicConv

  init(_ cin: Int, poolFeatures: Int, generator g: Generator) throws {
    b1 = try BasicConv(cin, 64, 1, generator: g)
    b5a = try BasicConv(cin, 48, 1, generator: g)
    b5b = try BasicConv(48, 64, 5, padding: 2, generator: g)
    d1 = try BasicConv(cin, 64, 1, generator: g)
    d2 = try BasicConv(64, 96, 3, padding: 1, generator: g)
    d3 = try BasicConv(96, 96, 3, padding: 1, generator: g)
    pool = try BasicConv(cin, poolFeatures, 1, generator: g)
    super.init()
    for (n, m) in [("branch1x1", b1), ("branch5x5_1", b5a), ("branch5x5_2", b5b), ("branch3x3dbl_1", d1), ("branch3x3dbl_2", d2), ("branch3x3dbl_3", d3), ("branch_pool", pool)] {
      registerModule(n, m)
    }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let p = try x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1), countIncludePad: false)
    return try Tensor.cat([b1(x), b5b(b5a(x)), d3(d2(d1(x))), pool(p)], axis: 1)
  }
}

/// torchvision Inception B (Mixed_6a): strided 3x3, strided double 3x3 and max pool.
final class InceptionB: Module {
  let b3: BasicConv, d1: BasicConv, d2: BasicConv, d3: BasicConv

  init(_ cin: Int, generator g: Generator) throws {
    b3 = try BasicConv(cin, 384, 3, stride: 2, generator: g)
    d1 = try BasicConv(cin, 64, 1, generator: g)
    d2 = try BasicConv(64, 96, 3, padding: 1, generator: g)
    d3 = try BasicConv(96, 96, 3, stride: 2, generator: g)
    super.init()
    for (n, m) in [("branch3x3", b3), ("branch3x3dbl_1", d1), ("branch3x3dbl_2", d2), ("branch3x3dbl_3", d3)] { registerModule(n, m) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    try Tensor.cat([b3(x), d3(d2(d1(x))), x.maxPool2d(kernel: (3, 3), stride: (2, 2))], axis: 1)
  }
}

/// FID Inception C (Mixed_6b-6e): factorised 7x7 branches and an average-pool branch.
final class InceptionC: Module {
  let b1: BasicConv, s: [BasicConv], d: [BasicConv], pool: BasicConv

  init(_ cin: Int, c7: Int, generator g: Generator) throws {
    b1 = try BasicConv(cin, 192, 1, generator: g)
    s = [
      try BasicConv(cin, c7, 1, generator: g), try BasicConv(c7, c7, kernel: (1, 7), padding: (0, 3), generator: g),
      try BasicConv(c7, 192, kernel: (7, 1), padding: (3, 0), generator: g),
    ]
    d = [
      try BasicConv(cin, c7, 1, generator: g), try BasicConv(c7, c7, kernel: (7, 1), padding: (3, 0), generator: g),
      try BasicConv(c7, c7, kernel: (1, 7), padding: (0, 3), generator: g), try BasicConv(c7, c7, kernel: (7, 1), padding: (3, 0), generator: g),
      try BasicConv(c7, 192, kernel: (1, 7), padding: (0, 3), generator: g),
    ]
    pool = try BasicConv(cin, 192, 1, generator: g)
    super.init()
    registerModule("branch1x1", b1)
    for (i, m) in s.enumerated() { registerModule("branch7x7_\(i + 1)", m) }
    for (i, m) in d.enumerated() { registerModule("branch7x7dbl_\(i + 1)", m) }
    registerModule("branch_pool", pool)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let seven = try s.reduce(x) { try $1($0) }, double = try d.reduce(x) { try $1($0) }
    let p = try x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1), countIncludePad: false)
    return try Tensor.cat([b1(x), seven, double, pool(p)], axis: 1)
  }
}

/// torchvision Inception D (Mixed_7a): strided 3x3, strided 7x7x3 and max pool.
final class InceptionD: Module {
  let a: [BasicConv], b: [BasicConv]

  init(_ cin: Int, generator g: Generator) throws {
    a = [try BasicConv(cin, 192, 1, generator: g), try BasicConv(192, 320, 3, stride: 2, generator: g)]
    b = [
      try BasicConv(cin, 192, 1, generator: g), try BasicConv(192, 192, kernel: (1, 7), padding: (0, 3), generator: g),
      try BasicConv(192, 192, kernel: (7, 1), padding: (3, 0), generator: g), try BasicConv(192, 192, 3, stride: 2, generator: g),
    ]
    super.init()
    for (i, m) in a.enumerated() { registerModule("branch3x3_\(i + 1)", m) }
    for (i, m) in b.enumerated() { registerModule("branch7x7x3_\(i + 1)", m) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    try Tensor.cat([a.reduce(x) { try $1($0) }, b.reduce(x) { try $1($0) }, x.maxPool2d(kernel: (3, 3), stride: (2, 2))], axis: 1)
  }
}

/// FID Inception E (Mixed_7b with an average pool, Mixed_7c with a max pool): split 1x3/3x1 branches.
final class InceptionE: Module {
  let b1: BasicConv, s1: BasicConv, s2a: BasicConv, s2b: BasicConv
  let d1: BasicConv, d2: BasicConv, d3a: BasicConv, d3b: BasicConv, pool: BasicConv
  let maxPool: Bool

  init(_ cin: Int, maxPool: Bool, generator g: Generator) throws {
    self.maxPool = maxPool
    b1 = try BasicConv(cin, 320, 1, generator: g)
    s1 = try BasicConv(cin, 384, 1, generator: g)
    s2a = try BasicConv(384, 384, kernel: (1, 3), padding: (0, 1), generator: g)
    s2b = try BasicConv(384, 384, kernel: (3, 1), padding: (1, 0), generator: g)
    d1 = try BasicConv(cin, 448, 1, generator: g)
    d2 = try BasicConv(448, 384, 3, padding: 1, generator: g)
    d3a = try BasicConv(384, 384, kernel: (1, 3), padding: (0, 1), generator: g)
    d3b = try BasicConv(384, 384, kernel: (3, 1), padding: (1, 0), generator: g)
    pool = try BasicConv(cin, 192, 1, generator: g)
    super.init()
    for (n, m) in [
      ("branch1x1", b1), ("branch3x3_1", s1), ("branch3x3_2a", s2a), ("branch3x3_2b", s2b), ("branch3x3dbl_1", d1),
      ("branch3x3dbl_2", d2), ("branch3x3dbl_3a", d3a), ("branch3x3dbl_3b", d3b), ("branch_pool", pool),
    ] { registerModule(n, m) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let s = try s1(x), d = try d2(d1(x))
    let p = maxPool
      ? try x.maxPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1))
      : try x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1), countIncludePad: false)
    return try Tensor.cat([b1(x), s2a(s), s2b(s), d3a(d), d3b(d), pool(p)], axis: 1)
  }
}
