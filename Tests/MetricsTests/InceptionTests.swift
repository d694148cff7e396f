// InceptionTests: the FID InceptionV3 against pytorch-fid (resize, normalisation, block means, 2048-d features).
import Foundation
import XCTest

@testable import Formats
@testable import Metrics
@testable import NN
@testable import TensorCore

/// The shared goldens beside this checkout (the 44 MB Inception weights are not copied into Tests/Fixtures).
let sharedGoldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/goldens").path

final class InceptionTests: XCTestCase {
  func testFIDInceptionMatchesPytorchFid() throws {
    let folder = sharedGoldens + "/inception_fid"
    guard FileManager.default.fileExists(atPath: folder + "/inception_fid_random_fp16.safetensors") else {
      throw XCTSkip("the Inception golden weights (44 MB) live in ../shared/goldens/inception_fid, not in this checkout")
    }
    let model = try InceptionV3.load(folder + "/inception_fid_random_fp16.safetensors")
    for name in ["io_small", "io_downscale", "io_299"] {
      let ckpt = try SafetensorsCheckpoint.open(folder + "/\(name).safetensors")
      let io = Dictionary(uniqueKeysWithValues: try ckpt.records.map { ($0.name, try Tensor.reading($0)) })
      var means: [Int: Tensor] = [:]
      let features = try GradMode.noGrad { try model.features(try io.golden("images")) { means[$0] = $1 } }
      for k in 0..<3 { assertClose(try XCTUnwrap(means[k]), try io.golden("block\(k)_channel_mean"), "\(name) block \(k)") }
      assertClose(features, try io.golden("features"), relative: 1e-4, "\(name) features")
    }
  }
}
