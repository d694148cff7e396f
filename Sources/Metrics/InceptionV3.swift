// InceptionV3: pytorch-fid's FID Inception network — bilinear resize to 299, scaling to [-1, 1], 2048-d pool features.

import Formats
import NN
import TensorCore

/// The FID InceptionV3 (TF 2015-12-05 graph) with torchvision's parameter names
/// (`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch_pool.bn.running_mean`, ...). `features` takes
/// images in [0, 1] of any size and returns [N, 2048].
public final class InceptionV3: Module {
  let stem: [(String, BasicConv)]
  let mixed: [(String, Module)]

  public init(generator g: Generator = Generator(seed: 0)) throws {
    stem = [
      ("Conv2d_1a_3x3", try BasicConv(3, 32, 3, stride: 2, generator: g)), ("Conv2d_2a_3x3", try BasicConv(32, 32, 3, generator: g)),
      ("Conv2d_2b_3x3", try BasicConv(32, 64, 3, padding: 1, generator: g)), ("Conv2d_3b_1x1", try BasicConv(64, 80, 1, generator: g)),
      ("Conv2d_4a_3x3", try BasicConv(80, 192, 3, generator: g)),
    ]
    mixed = [
      ("Mixed_5b", try InceptionA(192, poolFeatures: 32, generator: g)), ("Mixed_5c", try InceptionA(256, poolFeatures: 64, generator: g)),
      ("Mixed_5d", try InceptionA(288, poolFeatures: 64, generator: g)), ("Mixed_6a", try InceptionB(288, generator: g)),
      ("Mixed_6b", try InceptionC(768, c7: 128, generator: g)), ("Mixed_6c", try InceptionC(768, c7: 160, generator: g)),
      ("Mixed_6d", try InceptionC(768, c7: 160, generator: g)), ("Mixed_6e", try InceptionC(768, c7: 192, generator: g)),
      ("Mixed_7a", try InceptionD(768, generator: g)), ("Mixed_7b", try InceptionE(1280, maxPool: false, generator: g)),
      ("Mixed_7c", try InceptionE(2048, maxPool: true, generator: g)),
    ]
    super.init()
    for (n, m) in stem { registerModule(n, m) }
    for (n, m) in mixed { registerModule(n, m) }
  }

  /// Loads weights converted from pytorch-fid's `pt_inception-2015-12-05` checkpoint (any float
  /// dtype; `fc.*` and `num_batches_tracked` are ignored).
  public static func load(_ path: String) throws -> InceptionV3 {
    let model = try InceptionV3()
    try model.load(from: try SafetensorsCheckpoint.open(path), key: { $0.hasPrefix("fc.") || $0.hasSuffix("num_batches_tracked") ? nil : $0 })
    model.eval()
    return model
  }

  public override var summary: String { "InceptionV3(FID, 2048-d pool features)" }

  /// Pool features [N, 2048] of images [N, 3, H, W] in [0, 1]; `blockMeans` collects the
  /// channel means after blocks 0-2 (for tests).
  public func features(_ images: Tensor, blockMeans: ((Int, Tensor) -> Void)? = nil) throws -> Tensor {
    guard images.rank == 4, images.shape[1] == 3 else { throw MetricsError("Inception takes images [N, 3, H, W] in [0, 1], got \(images.shape)") }
    var x = try images.interpolate(size: (299, 299), mode: .bilinear, alignCorners: false).scaled(2) - 1
    let pool = { (t: Tensor) in try t.maxPool2d(kernel: (3, 3), stride: (2, 2)) }
    x = try pool(stem[2].1(stem[1].1(stem[0].1(x))))
    blockMeans?(0, try x.mean(axes: [2, 3]))
    x = try pool(stem[4].1(stem[3].1(x)))
    blockMeans?(1, try x.mean(axes: [2, 3]))
    for (i, (_, m)) in mixed.enumerated() {
      x = try m(x)
      if i == 7 { blockMeans?(2, try x.mean(axes: [2, 3])) }
    }
    return try x.mean(axes: [2, 3])
  }

  public override func forward(_ images: Tensor) throws -> Tensor { try features(images) }
}
