// LossTests: diffusion (Min-SNR), distillation, block, std/max and contrastive losses against the reference trainer.
import XCTest

@testable import Diffusion
@testable import Formats
@testable import Pruning
@testable import TensorCore

final class LossTests: XCTestCase {
  func testTrainerLossTermsMatchReference() throws {
    let io = try goldenTensors("aptp_losses/trainer_losses.safetensors")
    let distill = try PruningLosses.distillation(try io.golden("student_pred"), try io.golden("teacher_pred"))
    XCTAssertEqual(try distill.item(), try io.golden("distillation_loss").item(), accuracy: 1e-5 * max(1, abs(try distill.item())))
    let blockNames = io.keys.filter { $0.hasPrefix("block_act_student_") }.sorted()
    let students = try blockNames.map { try io.golden($0) }
    let teachers = try blockNames.map { try io.golden($0.replacingOccurrences(of: "student", with: "teacher")) }
    XCTAssertEqual(try PruningLosses.blocks(students, teachers).item(), try io.golden("block_loss").item(), accuracy: 1e-6)
    let acp = try io.golden("alphas_cumprod").toArray()
    let t = try io.golden("timesteps").toInts().map(Int.init)
    let snr = t.map { acp[$0] / (1 - acp[$0]) }
    assertClose(try Tensor.from(snr, shape: [4]), try io.golden("snr"), relative: 1e-5, "snr")
    let weights = PruningLosses.minSNRWeights(snr: snr, gamma: 5, vPrediction: true)
    assertClose(try Tensor.from(weights, shape: [4]), try io.golden("min_snr_weights"), relative: 1e-5, "min-snr weights")
    let diffusion = try PruningLosses.diffusion(try io.golden("model_pred"), try io.golden("target"), weights: weights)
    XCTAssertEqual(try diffusion.item(), try io.golden("diffusion_loss").item(), accuracy: 1e-5)
    let ratios = try io.golden("resource_ratios").reshape([4])
    XCTAssertEqual(try ResourceLoss.log.value(ratios.mean(), target: 0.6).item(), try io.golden("resource_loss").item(), accuracy: 1e-6)
    XCTAssertEqual(try PruningLosses.std(ratios).item(), try io.golden("std_loss").item(), accuracy: 1e-6)
    XCTAssertEqual(try PruningLosses.max(ratios).item(), try io.golden("max_loss").item(), accuracy: 1e-6)
  }

  func testContrastiveLossMatchesReference() throws {
    let io = try goldenTensors("aptp_losses/contrastive.safetensors")
    let prompts = try io.golden("prompt_embeddings")
    for kind in ["pipeline", "random"] {
      for (ta, tp) in [("0.03", "0.03"), ("1.0", "1.0"), ("0.1", "0.5")] {
        let a = try io.golden("arch_vectors_\(kind)").contiguousCopy()  // a fresh leaf per case: gradients accumulate
        a.requiresGrad = true
        let loss = try PruningLosses.contrastive(architectures: a, prompts: prompts, tauA: Float(ta)!, tauP: Float(tp)!)
        let want = try io.golden("loss_\(kind)_ta\(ta)_tp\(tp)").item()
        XCTAssertEqual(try loss.item(), want, accuracy: 1e-4 * max(1, abs(want)), "\(kind) \(ta)/\(tp)")
        try loss.backward()
        assertClose(try XCTUnwrap(a.grad), try io.golden("grad_arch_\(kind)_ta\(ta)_tp\(tp)"), relative: 1e-4, "\(kind) \(ta)/\(tp) grad")
      }
    }
  }

  func testResourceLossTable() throws {
    let table = try XCTUnwrap(try ConfigLoader.load(goldenFixtures + "/aptp_losses/resource_loss_table.json").mapValue)
    let rows = try XCTUnwrap(table["cases"]?.listValue)
    XCTAssertFalse(rows.isEmpty)
    for row in rows {
      let m = try XCTUnwrap(row.mapValue)
      guard let r = m["resource_ratio"]?.doubleValue, let p = m["p"]?.doubleValue, let type = m["type"]?.stringValue, let want = m["loss"]?.doubleValue else { continue }
      let got = try ResourceLoss(name: type).value(Tensor.scalar(Float(r)), target: Float(p)).item()
      XCTAssertEqual(Double(got), want, accuracy: 1e-5 * max(1, abs(want)), "\(type) r=\(r) p=\(p)")
    }
    XCTAssertThrowsError(try ResourceLoss(name: "huber"))
  }
}
