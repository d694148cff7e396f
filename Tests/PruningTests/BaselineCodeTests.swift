// BaselineCodeTests: magnitude, random and uniform codes meet the MACs target and keep what they claim to keep.
import XCTest

@testable import Diffusion
@testable import NN
@testable import Pruning
@testable import TensorCore

final class BaselineCodeTests: XCTestCase {
  func setting() throws -> (UNet2DConditionModel, GateStructure, ResourceModel) {
    let unet = try UNet2DConditionModel.load(folder: goldenFixtures + "/unet_sd2_tiny/model")
    let structure = try GateStructure(unet: unet, ffGateWidth: 16)
    return (unet, structure, try ResourceModel(config: unet.config, structure: structure, height: 16, width: 16, tokens: 7))
  }

  func testEveryMethodMeetsTheTargetAndKeepsOneGroupPerGate() throws {
    let (unet, s, r) = try setting()
    for target in [0.5, 0.7] {
      let codes = [
        ("magnitude", try BaselineCodes.magnitude(unet, structure: s, resources: r, target: target)),
        ("random", try BaselineCodes.random(structure: s, resources: r, target: target, seed: 3)),
        ("uniform", try BaselineCodes.uniform(unet, structure: s, resources: r, target: target)),
      ]
      for (name, code) in codes {
        let ratio = try BaselineCodes.ratio(code, r)
        XCTAssertEqual(ratio, target, accuracy: 0.03 * target, "\(name) at \(target)")
        XCTAssertLessThanOrEqual(ratio, target, name)
        for (start, width) in BaselineCodes.segments(s) { XCTAssertGreaterThan(code[start..<(start + width)].reduce(0, +), 0, name) }
        XCTAssertTrue(code[s.sumWidth...].allSatisfy { $0 == 1 }, "\(name): depth gates stay on")
        // The extracted expert's measured MACs are the code's.
        let expert = try Experts.extract(from: unet, structure: s, code: code)
        let (_, macs) = try OpCounter.measure {
          try GradMode.noGrad {
            try expert.forward(Tensor.randn([1, 4, 16, 16], generator: Generator(seed: 1)), timesteps: [5], context: Tensor.randn([1, 7, 32], generator: Generator(seed: 2)))
          }
        }
        XCTAssertEqual(macs / r.opCounterTotal, ratio, accuracy: 1e-9, name)
      }
      XCTAssertNotEqual(codes[0].1, codes[1].1)
    }
    XCTAssertNotEqual(
      try BaselineCodes.random(structure: s, resources: r, target: 0.6, seed: 1), try BaselineCodes.random(structure: s, resources: r, target: 0.6, seed: 2))
  }

  func testMagnitudeRemovesTheSmallestGroupsFirst() throws {
    let (unet, s, r) = try setting()
    let score = try BaselineCodes.importance(unet, structure: s)
    let code = try BaselineCodes.magnitude(unet, structure: s, resources: r, target: 0.6)
    // Within every gate, no removed group scores above a kept one that could have been removed instead.
    for (start, width) in BaselineCodes.segments(s) {
      let kept = (start..<(start + width)).filter { code[$0] == 1 }.map { score[$0] }
      let removed = (start..<(start + width)).filter { code[$0] == 0 }.map { score[$0] }
      if let maxRemoved = removed.max(), let minKept = kept.min() { XCTAssertLessThanOrEqual(maxRemoved, minKept) }
    }
    XCTAssertThrowsError(try BaselineCodes.magnitude(unet, structure: s, resources: r, target: 0)) { e in
      XCTAssertTrue("\(e)".contains("(0, 1]"), "\(e)")
    }
    XCTAssertThrowsError(try BaselineCodes.random(structure: s, resources: r, target: 0.01, seed: 0)) { e in
      XCTAssertTrue("\(e)".contains("one group per gate"), "\(e)")
    }
  }
}
