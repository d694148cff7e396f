// RouterTests: Gumbel-sigmoid relaxation, width-depth normalisation, Sinkhorn and routing against the reference quantizer.
import XCTest

@testable import Formats
@testable import NN
@testable import Pruning
@testable import TensorCore

final class RouterTests: XCTestCase {
  func router(_ name: String) throws -> (ArchitectureRouter, [String: Tensor], NoiseQueue) {
    let meta = try goldenJSON("aptp_quantizer/\(name).json")
    let s = try XCTUnwrap(meta["structure"]?.mapValue)
    let structure = try GateStructure(
      widths: try XCTUnwrap(s["width"]?.listValue).map { try XCTUnwrap($0.listValue?.compactMap(\.intValue)) },
      depth: try XCTUnwrap(s["depth"]?.listValue).map { try XCTUnwrap($0.listValue?.first?.intValue) })
    let relaxation = try GateRelaxation(structure: structure, depthOrder: meta["depth_order_input"]?.listValue?.compactMap(\.intValue))
    XCTAssertEqual(relaxation.depthOrder, meta["depth_order_effective"]?.listValue?.compactMap(\.intValue))
    let router = try ArchitectureRouter(relaxation: relaxation, codes: try XCTUnwrap(meta["K"]?.intValue))
    try router.load(from: try SafetensorsCheckpoint.open(goldenFixtures + "/aptp_quantizer/\(name)_weights.safetensors"))
    let io = try goldenTensors("aptp_quantizer/\(name).safetensors")
    let noise = io.keys.filter { $0.hasPrefix("noise_") }.sorted().compactMap { io[$0] }
    assertClose(try router.sqrtTemplate.pow(2).reshape([structure.length]), try io.golden("template"), relative: 1e-6, "template")
    return (router, io, NoiseQueue(noise))
  }

  func testTrainingForwardMatchesReference() throws {
    let (router, io, noise) = try router("train_K4_B8")
    let z = try io.golden("z")
    let sampled = try router.relaxation.sample(router.codebook, noise: .replay(noise))
    assertClose(sampled, try io.golden("codebook_gumbel_sigmoid"), relative: 1e-5, "codebook gumbel-sigmoid")
    let relaxedZ = try router.relaxation.sample(z, noise: .replay(noise))
    assertClose(relaxedZ, try io.golden("z_gumbel_sigmoid"), relative: 1e-5, "z gumbel-sigmoid")
    assertClose(try router.widthDepthNormalize(relaxedZ), try io.golden("z_width_depth_normalized"), relative: 1e-5, "z normalised")
    // The whole training forward with the same noise replayed.
    let (fresh, _, replay) = try self.router("train_K4_B8")
    let r = try fresh.train(z, noise: .replay(replay))
    XCTAssertEqual(r.experts, try io.golden("indices").toInts().map(Int.init))
    assertClose(r.scores, try io.golden("scores"), relative: 1e-5, "scores")
    assertClose(r.codes, try io.golden("z_q"), relative: 1e-5, "z_q")
    assertClose(fresh.sampledCodes, try io.golden("embedding_gs_after"), relative: 1e-5, "stored codes")
    let q = sinkhorn(r.scores.toArray(), batch: 8, codes: 4)
    assertClose(try Tensor.from(q, shape: [8, 4]), try io.golden("sinkhorn_Q"), relative: 1e-4, "sinkhorn Q")
    // Gradients reach the codebook through the soft codes.
    try r.codes.sum().backward()
    XCTAssertGreaterThan(try XCTUnwrap(fresh.codebook.grad).toArray().filter { $0 != 0 }.count, 0)
  }

  func testEvalRoutingMatchesReferenceWithItsNoiseAndIsDeterministicWithout() throws {
    for name in ["eval_K4_B8", "eval_resource_aware_K4_B8"] {
      let (router, io, noise) = try router(name)
      router.prunableMacsTemplate = try io["prunable_macs_template"].map { try $0.reshape([1, $0.count]) }
      let z = try io.golden("z")
      let r = try router.route(z, noise: .replay(noise))
      XCTAssertEqual(r.experts, try io.golden("indices").toInts().map(Int.init), name)
      assertClose(r.codes, try io.golden("z_q"), relative: 1e-5, "\(name) z_q")
      assertClose(r.scores, try io.golden("scores"), relative: 1e-5, "\(name) scores")
      // Without noise, a prompt's expert does not depend on the rest of the batch.
      let all = try router.route(z).experts
      for i in 0..<z.shape[0] {
        XCTAssertEqual(try router.route(try z.narrow(0, start: i, length: 1)).experts, [all[i]])
      }
    }
  }

  func testSinkhornMatchesReferenceAndBalances() throws {
    let io = try goldenTensors("aptp_quantizer/sinkhorn_raw.safetensors")
    for name in ["uniform_cos", "tanh_dup_rows", "very_uneven"] {
      let scores = try io.golden("scores_\(name)")
      let (b, k) = (scores.shape[0], scores.shape[1])
      let q = try Tensor.from(sinkhorn(scores.toArray(), batch: b, codes: k), shape: [b, k])
      let want = try io.golden("Q_\(name)")
      let diff = zip(q.toArray(), want.toArray()).map { abs($0 - $1) }.max() ?? 1
      XCTAssertLessThanOrEqual(diff, 1e-4 * max(1, want.toArray().map(abs).max() ?? 0), name)
    }
    // Uniform-cost inputs: each of K experts gets B/K prompts.
    let b = 12, k = 4
    let flat = [Float](repeating: 0.5, count: b * k)
    var perturbed = flat
    for i in 0..<b { perturbed[i * k + i % k] += 1e-3 }
    let q = sinkhorn(perturbed, batch: b, codes: k)
    var counts = [Int](repeating: 0, count: k)
    for i in 0..<b { counts[(0..<k).max { q[i * k + $0] < q[i * k + $1] } ?? 0] += 1 }
    XCTAssertEqual(counts, [3, 3, 3, 3])
  }

  func testBadRouterInputsAreNamed() throws {
    let s = try GateStructure(widths: [[4], [2, 2, 4]], depth: [1, 0])
    let relaxation = try GateRelaxation(structure: s)
    XCTAssertThrowsError(try ArchitectureRouter(relaxation: relaxation, codes: 0)) { XCTAssertTrue("\($0)".contains("at least 1"), "\($0)") }
    let router = try ArchitectureRouter(relaxation: relaxation, codes: 2)
    XCTAssertThrowsError(try router.route(Tensor(shape: [1, 5]))) { XCTAssertTrue("\($0)".contains("[batch, 13]"), "\($0)") }
  }
}
