// PredictorTests: the architecture predictor (HyperStructure) against the reference, plain and weight-normalised.
import XCTest

@testable import Formats
@testable import NN
@testable import Pruning
@testable import TensorCore

final class PredictorTests: XCTestCase {
  func structure(_ meta: ConfigMap) throws -> GateStructure {
    let s = try XCTUnwrap(meta["structure"]?.mapValue)
    let widths = try XCTUnwrap(s["width"]?.listValue).map { try XCTUnwrap($0.listValue?.compactMap(\.intValue)) }
    let depth = try XCTUnwrap(s["depth"]?.listValue).map { try XCTUnwrap($0.listValue?.first?.intValue) }
    return try GateStructure(widths: widths, depth: depth)
  }

  func testPredictorMatchesHyperStructure() throws {
    for (name, weightNorm, bias) in [("config_small", false, true), ("weightnorm_small", true, false)] {
      let meta = try goldenJSON("aptp_hypernet/\(name).json")
      let s = try structure(meta)
      XCTAssertEqual(s.length, meta["D"]?.intValue)
      XCTAssertEqual(s.entries.map(\.widthOffset).count, s.entries.count)
      let predictor = try ArchitecturePredictor(structure: s, inputDim: 384, bias: bias, weightNorm: weightNorm)
      try predictor.load(from: try SafetensorsCheckpoint.open(goldenFixtures + "/aptp_hypernet/\(name)_weights.safetensors"))
      let io = try goldenTensors("aptp_hypernet/\(name).safetensors")
      assertClose(try predictor(try io.golden("prompt_embeddings")), try io.golden("arch_logits"), relative: 1e-5, "\(name) logits")
      XCTAssertEqual(meta["depth_columns"]?.listValue?.compactMap(\.intValue), s.entries.compactMap(\.depthColumn))
    }
  }

  func testOrthogonalInitAndSingleArchitecture() throws {
    let w = orthogonalMatrix(5, 40, generator: Generator(seed: 1))
    let gram = try w.matmul(w.transpose(0, 1)).toArray()
    for i in 0..<5 { for j in 0..<5 { XCTAssertEqual(gram[i * 5 + j], i == j ? 1 : 0, accuracy: 1e-5) } }
    let s = try GateStructure(widths: [[4], [2, 2, 4]], depth: [1, 0])
    let single = try ArchitecturePredictor(structure: s, inputDim: 3, single: true)
    XCTAssertEqual(try single(Tensor(shape: [4, 3])).shape, [4, 13])
    let p = try ArchitecturePredictor(structure: s, inputDim: 3)
    XCTAssertThrowsError(try p(Tensor(shape: [2, 4]))) { XCTAssertTrue("\($0)".contains("[batch, 3]"), "\($0)") }
  }
}
