// EncoderTests: MiniLM, MPNet and CLIP text encoder outputs against the transformers / sentence-transformers goldens.
import XCTest

@testable import Formats
@testable import NN
@testable import TensorCore
@testable import Text

final class EncoderTests: XCTestCase {
  func testMiniLMEmbeddingsMatchSentenceTransformers() throws {
    let encoder = try SentenceEncoder.load(folder: try miniLMFolder())
    XCTAssertTrue(encoder.normalizes)
    XCTAssertEqual(encoder.dimension, 384)
    XCTAssertEqual(encoder.tokenizer.maxLength, 256)
    let prompts = try XCTUnwrap(goldenJSON("minilm/meta.json")["prompts"]?.listValue).map {
      try XCTUnwrap($0.mapValue?["text"]?.stringValue)
    }
    let golden = try goldenTensors("minilm/outputs.safetensors")
    encoder.batchSize = 5  // several padded batches, sorted by length
    let embeddings = try encoder.encode(prompts)
    assertClose(embeddings, try XCTUnwrap(golden["embeddings"]), relative: 1e-5, "embeddings")
    let pooled = try encoder.encode(prompts, normalize: false)
    assertClose(pooled, try XCTUnwrap(golden["pooled_unnormalized"]), "pooled_unnormalized")
    let (states, mask) = try encoder.hidden([prompts[0], prompts[7], prompts[10]])
    for (row, i) in [0, 7, 10].enumerated() {
      let want = try XCTUnwrap(golden["last_hidden_state_\(i)"])
      let n = want.shape[0]
      XCTAssertEqual(ints(try mask.narrow(0, start: row, length: 1)).filter { $0 == 1 }.count, n)
      let got = try states.narrow(0, start: row, length: 1).narrow(1, start: 0, length: n).reshape([n, 384])
      assertClose(got, want, "last_hidden_state_\(i)")
    }
  }

  func testMPNetMatchesTransformers() throws {
    let folder = goldenFixtures + "/mpnet_tiny/model"
    let model = try MPNetModel.load(folder: folder)
    let io = try goldenTensors("mpnet_tiny/io.safetensors")
    let ids = try XCTUnwrap(io["input_ids"]), mask = try XCTUnwrap(io["attention_mask"])
    let states = try GradMode.noGrad { try model.lastHiddenState(ids: ids, mask: mask) }
    let want = try XCTUnwrap(io["last_hidden_state"])
    // Padding positions are unspecified; compare the real tokens only.
    let m = ints(mask), d = 32, l = ids.shape[1]
    let got = states.toArray(), ref = want.toArray()
    var diff: Float = 0
    for i in 0..<m.count where m[i] == 1 {
      for j in 0..<d { diff = max(diff, abs(got[i * d + j] - ref[i * d + j])) }
    }
    XCTAssertLessThanOrEqual(diff, 1e-4 * max(1, ref.map(abs).max() ?? 0), "last_hidden_state (L = \(l))")

    let encoder = SentenceEncoder(
      folder: folder, tokenizer: try WordPieceTokenizer.load(folder: folder), model: model,
      pooling: PoolingConfig(wordEmbeddingDimension: d), normalizes: true)
    let prompts = try XCTUnwrap(goldenJSON("mpnet_tiny/meta.json")["prompts"]?.listValue?.compactMap(\.stringValue))
    encoder.batchSize = 3
    assertClose(try encoder.encode(prompts, normalize: false), try XCTUnwrap(io["mean_pooled"]), "mean_pooled")
    assertClose(try encoder.encode(prompts), try XCTUnwrap(io["mean_pooled_normalized"]), "mean_pooled_normalized")
  }

  func testMPNetRelativeBucketsFollowTransformers() {
    // relative_position_bucket(j - i) for 32 buckets, max distance 128, as torch computes transformers' formula.
    let expected: [(Int, Int)] = [(0, 0), (1, 17), (-1, 1), (7, 23), (-7, 7), (8, 24), (-8, 8), (15, 25), (16, 26), (31, 27), (64, 30), (127, 31), (500, 31), (-500, 15)]
    for (relative, bucket) in expected {
      XCTAssertEqual(MPNetModel.bucket(relative, buckets: 32), bucket, "distance \(relative)")
    }
  }

  func testCLIPTextEncodersMatchTransformers() throws {
    for variant in ["gelu", "quick_gelu"] {
      let model = try CLIPTextModel.load(folder: goldenFixtures + "/clip_text_tiny/\(variant)")
      let io = try goldenTensors("clip_text_tiny/io_\(variant).safetensors")
      let ids = try XCTUnwrap(io["input_ids"]), mask = try XCTUnwrap(io["attention_mask"])
      let out = try GradMode.noGrad { try model.forward(ids: ids, hiddenStates: true) }
      assertClose(out.lastHiddenState, try XCTUnwrap(io["last_hidden_state"]), "\(variant) last_hidden_state")
      assertClose(out.pooled, try XCTUnwrap(io["pooler_output"]), "\(variant) pooler_output")
      XCTAssertEqual(out.pooledIndex, ints(try XCTUnwrap(io["pooled_index"])), "\(variant) pooled_index")
      XCTAssertEqual(out.hiddenStates.count, 3)
      for (k, h) in out.hiddenStates.enumerated() {
        assertClose(h, try XCTUnwrap(io["hidden_states_\(k)"]), "\(variant) hidden_states_\(k)")
      }
      assertClose(out.hiddenStates[1], try XCTUnwrap(io["hidden_states_penultimate"]), "\(variant) penultimate")
      let skipped = try GradMode.noGrad { try model.promptEmbeddings(ids: ids, clipSkip: 1) }
      assertClose(skipped, try XCTUnwrap(io["penultimate_final_layer_norm"]), "\(variant) clip_skip 1")
      let masked = try GradMode.noGrad { try model.forward(ids: ids, mask: mask) }
      assertClose(masked.lastHiddenState, try XCTUnwrap(io["last_hidden_state_with_attention_mask"]), "\(variant) masked")
      assertClose(masked.pooled, try XCTUnwrap(io["pooler_output_with_attention_mask"]), "\(variant) masked pooled")
    }
  }

  func testCLIPTextLoadsTransformers4PrefixedNames() throws {
    let folder = goldenFixtures + "/clip_text_tiny/gelu"
    let tmp = NSTemporaryDirectory() + "aptp-clip-prefix-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    try FileManager.default.copyItem(atPath: folder + "/config.json", toPath: tmp + "/config.json")
    let ckpt = try SafetensorsCheckpoint.open(folder)
    let payloads = try ckpt.records.map { r in
      try TensorPayload(name: "text_model." + r.name, shape: r.shape, floats: Tensor.reading(r).toArray())
    } + [try TensorPayload(name: "text_model.embeddings.position_ids", shape: [1, 77], int64s: (0..<77).map { Int64($0) })]
    try Safetensors.save(payloads, to: tmp + "/model.safetensors")
    let a = try CLIPTextModel.load(folder: folder), b = try CLIPTextModel.load(folder: tmp)
    let ids = Tensor(ints: [0, 5, 7, 2], shape: [1, 4])
    assertClose(try b.lastHiddenState(ids: ids, mask: nil), try a.lastHiddenState(ids: ids, mask: nil), relative: 0, "prefixed")
  }
}

final class TrainingPathTests: XCTestCase {
  /// The fused-projection inference path and the autograd path agree, and gradients reach every parameter.
  func testGradientsReachEveryParameterThroughFusedProjections() throws {
    let model = try CLIPTextModel.load(folder: goldenFixtures + "/clip_text_tiny/gelu")
    let ids = Tensor(ints: [0, 17, 300, 999, 5, 6], shape: [2, 3])
    let mask = Tensor(ints: [1, 1, 1, 1, 1, 0], shape: [2, 3])
    let inference = try GradMode.noGrad { try model.forward(ids: ids, mask: mask).lastHiddenState }
    let trained = try model.forward(ids: ids, mask: mask).lastHiddenState
    assertClose(trained, inference, relative: 1e-6, "autograd path vs fused inference path")
    try trained.pow(2).sum().backward()
    for (name, p) in model.namedParameters() where !name.hasPrefix("embeddings") {
      XCTAssertNotNil(p.grad, "\(name) has no gradient")
    }
  }
}
