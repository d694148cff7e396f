// TrainerTests: short pruning runs on a tiny UNet — both phases train what they should, and a resumed run equals an uninterrupted one.
import Foundation
import XCTest

@testable import Diffusion
@testable import Formats
@testable import NN
@testable import Pruning
@testable import TensorCore

final class TrainerTests: XCTestCase {
  func makeTrainer(seed: UInt64 = 3) throws -> PruningTrainer {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd15_tiny/model")
    var sc = SchedulerConfig()
    sc.className = "DDIMScheduler"
    sc.betaSchedule = "scaled_linear"
    sc.betaStart = 0.00085
    sc.betaEnd = 0.012
    sc.predictionType = "v_prediction"
    var config = PruningConfig()
    config.codes = 2
    config.pretrainSteps = 2
    config.warmupSteps = 1
    config.maxSteps = 4
    config.seed = seed
    config.depthOrder = nil
    return try PruningTrainer(
      unet: unet, scheduler: try DDIMScheduler(sc), promptDim: 16, config: config, sampleSize: (8, 8), tokens: 5, batchSize: 4)
  }

  func batch(_ i: Int) -> PruningBatch {
    let g = Generator(seed: 100 + UInt64(i))
    return PruningBatch(
      samples: Tensor.randn([4, 4, 8, 8], generator: g), promptEmbeddings: Tensor.randn([4, 16], generator: g),
      context: Tensor.randn([4, 5, 48], generator: g))
  }

  func snapshot(_ t: PruningTrainer) -> [Float] { (t.predictor.state() + t.router.state()).flatMap { $0.1.toArray() } }

  func testBothPhasesTrainTheirPartsAndLossesAreFinite() throws {
    let t = try makeTrainer()
    let codesBefore = t.router.codebook.toArray(), predictorBefore = t.predictor.parameters().flatMap { $0.toArray() }
    for i in 0..<2 {
      let terms = try t.train(batch(i))
      for (k, v) in terms { XCTAssertTrue(v.isFinite, "\(k) = \(v)") }
    }
    XCTAssertNotEqual(t.predictor.parameters().flatMap { $0.toArray() }, predictorBefore, "pre-training moves the predictor")
    XCTAssertEqual(t.router.codebook.toArray(), codesBefore, "pre-training leaves the codes")
    XCTAssertFalse(t.pretraining)
    try t.train(batch(2))
    XCTAssertNotEqual(t.router.codebook.toArray(), codesBefore, "the main phase moves the codes")
    XCTAssertTrue(t.router.codebook.toArray().allSatisfy(\.isFinite), "equal ratios (std 0) must not poison the codes")
    let routing = try t.router.route(try t.predictor(Tensor.randn([3, 16], generator: Generator(seed: 9))))
    XCTAssertEqual(routing.experts.count, 3)
    XCTAssertTrue(routing.codes.toArray().allSatisfy { $0 == 0 || $0 == 1 })
    let evaluation = try t.evaluate(batch(5))
    XCTAssertNotNil(evaluation["macs_ratio"])
  }

  func testResumedRunEqualsUninterruptedRun() throws {
    let straight = try makeTrainer()
    for i in 0..<4 { try straight.train(batch(i)) }
    let folder = NSTemporaryDirectory() + "aptp-prune-resume-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let first = try makeTrainer()
    for i in 0..<2 { try first.train(batch(i)) }
    try first.saveCheckpoint(in: folder)
    let resumed = try makeTrainer()
    try resumed.loadCheckpoint(from: folder)
    XCTAssertEqual(resumed.step, 2)
    for i in 2..<4 { try resumed.train(batch(i)) }
    XCTAssertEqual(snapshot(resumed), snapshot(straight))
    XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/router.safetensors"))
    XCTAssertThrowsError(try makeTrainer().loadCheckpoint(from: folder + "/missing")) { XCTAssertTrue("\($0)".contains("checkpoint"), "\($0)") }
  }

  func testBadConfigsAreNamed() throws {
    var c = PruningConfig()
    c.codes = 0
    c.pruningTarget = 1.5
    XCTAssertThrowsError(try c.validate()) { e in
      XCTAssertTrue("\(e)".contains("num_arch_vq_codebook_embeddings"), "\(e)")
      XCTAssertTrue("\(e)".contains("pruning_target"), "\(e)")
    }
  }
}
