// TrainerTests: the diffusion trainer lowers the loss, saves diffusers folders, and resumes bit-identically.
import Foundation
import XCTest

@testable import Diffusion
@testable import Formats
@testable import NN
@testable import TensorCore

final class DiffusionTrainerTests: XCTestCase {
  func make() throws -> DiffusionTrainer {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd15_tiny/model")
    var sc = SchedulerConfig()
    sc.className = "DDPMScheduler"
    sc.predictionType = "v_prediction"
    var config = DiffusionTrainingConfig()
    config.warmupSteps = 1
    config.learningRate = 1e-3
    return DiffusionTrainer(unet: unet, scheduler: try DDPMScheduler(sc), config: config)
  }

  func batch(_ i: Int) -> (Tensor, Tensor) {
    let g = Generator(seed: UInt64(i % 2))
    return (Tensor.randn([4, 4, 8, 8], generator: g), Tensor.randn([4, 3, 48], generator: g))
  }

  func testTrainingLowersTheLossOnAFixedBatch() throws {
    let t = try make()
    var losses: [Float] = []
    for i in 0..<12 {
      let (x, c) = batch(0)
      _ = i
      losses.append(try t.train(samples: x, context: c))
    }
    XCTAssertTrue(losses.allSatisfy(\.isFinite))
    XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +))
  }

  func testSavedFolderReloadsAndResumeEqualsUninterrupted() throws {
    let folder = NSTemporaryDirectory() + "aptp-diffusion-train-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let straight = try make()
    for i in 0..<3 { let (x, c) = batch(i); try straight.train(samples: x, context: c) }
    let first = try make()
    for i in 0..<2 { let (x, c) = batch(i); try first.train(samples: x, context: c) }
    try first.save(in: folder)
    let reloaded = try UNet2DConditionModel.load(folder: folder + "/unet")
    XCTAssertEqual(reloaded.state().map { $0.1.toArray() }, first.unet.state().map { $0.1.toArray() })
    XCTAssertEqual(reloaded.config, first.unet.config)
    let resumed = try make()
    try resumed.resume(from: folder)
    XCTAssertEqual(resumed.step, 2)
    let (x, c) = batch(2)
    try resumed.train(samples: x, context: c)
    XCTAssertEqual(resumed.unet.state().map { $0.1.toArray() }, straight.unet.state().map { $0.1.toArray() })
  }
}
