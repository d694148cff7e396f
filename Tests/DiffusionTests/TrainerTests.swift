// TrainerTests: the diffusion trainer lowers the loss, saves diffusers folders, keeps a weight EMA, and resumes bit-identically.
import Foundation
import XCTest

@testable import Diffusion
@testable import Formats
@testable import NN
@testable import TensorCore

final class DiffusionTrainerTests: XCTestCase {
  func make(ema: Float? = nil) throws -> DiffusionTrainer {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd15_tiny/model")
    var sc = SchedulerConfig()
    sc.className = "DDPMScheduler"
    sc.predictionType = "v_prediction"
    var config = DiffusionTrainingConfig()
    config.warmupSteps = 1
    config.learningRate = 1e-3
    config.emaDecay = ema
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

  func testEMAFollowsTheWeightsWithWarmUpAndSurvivesResume() throws {
    let folder = NSTemporaryDirectory() + "aptp-diffusion-ema-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let t = try make(ema: 0.9)
    let (x0, c0) = batch(0)
    try t.train(samples: x0, context: c0)
    // The first update copies the weights.
    let name = t.unet.namedParameters()[0].0
    let after1 = t.unet.namedParameters()[0].1.toArray()
    XCTAssertEqual(t.emaWeights[name]?.toArray(), after1)
    let (x1, c1) = batch(1)
    try t.train(samples: x1, context: c1)
    // Second update: decay min(0.9, 2/11).
    let d: Float = 2.0 / 11.0
    let after2 = t.unet.namedParameters()[0].1.toArray()
    let expected = zip(after1, after2).map { d * $0 + (1 - d) * $1 }
    let got = try XCTUnwrap(t.emaWeights[name]).toArray()
    for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-6) }
    XCTAssertEqual(t.emaUpdates, 2)
    try t.save(in: folder)
    let averaged = try UNet2DConditionModel.load(folder: folder + "/unet_ema")
    XCTAssertEqual(averaged.namedParameters().first { $0.0 == name }?.1.toArray(), got)
    let resumed = try make(ema: 0.9)
    try resumed.resume(from: folder)
    XCTAssertEqual(resumed.emaUpdates, 2)
    XCTAssertEqual(resumed.emaWeights[name]?.toArray(), got)
  }
}
