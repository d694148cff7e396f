// TokenizerTests: WordPiece (MiniLM, MPNet) and CLIP BPE ids against the transformers goldens.
import XCTest

@testable import Formats
@testable import TensorCore
@testable import Text

final class TokenizerTests: XCTestCase {
  func testMiniLMTokenIdsMatchTransformers() throws {
    let tokenizer = try WordPieceTokenizer.load(folder: try miniLMFolder(), maxLength: 256)
    let meta = try goldenJSON("minilm/meta.json")
    let golden = try goldenTensors("minilm/tokens.safetensors")
    let prompts = try XCTUnwrap(meta["prompts"]?.listValue)
    for (i, p) in prompts.enumerated() {
      let text = try XCTUnwrap(p.mapValue?["text"]?.stringValue)
      let want = ints(try XCTUnwrap(golden["ids_\(i)"]))
      XCTAssertEqual(tokenizer.encode(text), want, "prompt \(i): \(text.prefix(60))")
      let strings = p.mapValue?["tokens"]?.listValue?.compactMap(\.stringValue)
      XCTAssertEqual(tokenizer.tokenStrings(text), strings, "token strings of prompt \(i)")
      let batch = TokenBatch([tokenizer.encode(text)], padId: tokenizer.padId)
      XCTAssertEqual(ints(batch.mask).count, ints(try XCTUnwrap(golden["mask_\(i)"])).count)
    }
  }

  func testMiniLMSlowRouteFromVocabTxtAgreesWithTokenizerJSON() throws {
    let folder = try miniLMFolder()
    let fast = try WordPieceTokenizer.load(folder: folder, maxLength: 256)
    let slow = try WordPieceTokenizer.fromVocabulary(
      folder: folder, config: try TokenizerFiles.json(folder + "/tokenizer_config.json"), specials: ConfigMap(), maxLength: 256)
    for text in ["Café naïve — Zürich's [MASK] façade!", "東京は日本の首都です", "", "x" + String(repeating: "y", count: 120)] {
      XCTAssertEqual(fast.encode(text), slow.encode(text), text)
    }
  }

  func testMPNetTokenIdsMatchTransformers() throws {
    let tokenizer = try WordPieceTokenizer.load(folder: goldenFixtures + "/mpnet_tiny/model")
    let io = try goldenTensors("mpnet_tiny/io.safetensors")
    let prompts = try XCTUnwrap(goldenJSON("mpnet_tiny/meta.json")["prompts"]?.listValue?.compactMap(\.stringValue))
    for (i, text) in prompts.enumerated() {
      XCTAssertEqual(tokenizer.encode(text), ints(try XCTUnwrap(io["ids_\(i)"])), "prompt \(i): \(text)")
    }
    let batch = tokenizer.batch(prompts)
    XCTAssertEqual(ints(batch.ids), ints(try XCTUnwrap(io["input_ids"])))
    XCTAssertEqual(ints(batch.mask), ints(try XCTUnwrap(io["attention_mask"])))
  }

  func testCLIPTokenIdsMatchTransformers() throws {
    let tokenizer = try CLIPTokenizer.load(folder: goldenFixtures + "/clip_tokenizer/tokenizer")
    XCTAssertEqual([tokenizer.bosId, tokenizer.eosId, tokenizer.padId], [49406, 49407, 0])
    let ids = try goldenTensors("clip_tokenizer/ids.safetensors")
    let prompts = try clipPrompts()
    let batch = tokenizer.batch(prompts, length: 77)
    XCTAssertEqual(ints(batch.ids), ints(try XCTUnwrap(ids["input_ids"])))
    XCTAssertEqual(ints(batch.mask), ints(try XCTUnwrap(ids["attention_mask"])))
    var raw = tokenizer
    raw.maxLength = 10_000
    for (i, text) in prompts.enumerated() {
      XCTAssertEqual(raw.encode(text), ints(try XCTUnwrap(ids["raw_\(i)"])), "prompt \(i): \(text.prefix(60))")
    }
  }

  /// open_clip cleanup reproduces open_clip's ids wherever ftfy leaves the text unchanged.
  func testCLIPOpenCLIPModeMatchesOpenCLIP() throws {
    let tokenizer = try CLIPTokenizer.load(folder: goldenFixtures + "/clip_tokenizer/tokenizer", cleanup: .openCLIP)
    let ids = try goldenTensors("clip_tokenizer/ids.safetensors")
    let meta = try XCTUnwrap(goldenJSON("clip_tokenizer/prompts.json")["prompts"]?.listValue)
    var checked = 0
    for (i, entry) in meta.enumerated() {
      let reasons = entry.mapValue?["difference_reasons"]?.listValue?.compactMap(\.stringValue) ?? []
      if reasons.contains("ftfy_html_cleaning") && !(entry.mapValue?["text"]?.stringValue?.contains("&") ?? false) { continue }
      let text = try XCTUnwrap(entry.mapValue?["text"]?.stringValue)
      var raw = tokenizer
      raw.maxLength = 10_000
      XCTAssertEqual(raw.encode(text), ints(try XCTUnwrap(ids["raw_openclip_\(i)"])), "prompt \(i): \(text.prefix(60))")
      checked += 1
    }
    XCTAssertGreaterThanOrEqual(checked, 18)
  }

  func testCLIPTruncationKeepsBosSeventyFiveTokensEos() throws {
    let tokenizer = try CLIPTokenizer.load(folder: goldenFixtures + "/clip_tokenizer/tokenizer")
    let ids = tokenizer.encode(String(repeating: "cat ", count: 200))
    XCTAssertEqual(ids.count, 77)
    XCTAssertEqual(ids.first, 49406)
    XCTAssertEqual(ids.last, 49407)
  }

  func clipPrompts() throws -> [String] {
    try XCTUnwrap(goldenJSON("clip_tokenizer/prompts.json")["prompts"]?.listValue).map {
      try XCTUnwrap($0.mapValue?["text"]?.stringValue)
    }
  }
}
