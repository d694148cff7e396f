// TextBench: sentence embeddings per second for 1,000 mixed-length prompts, beside sentence-transformers.

import Foundation
import TensorCore
import Text

/// 1,000 prompts of 3-40 words drawn from a fixed word list with a fixed LCG, so both sides see the same text.
func benchPrompts(count: Int = 1000) -> [String] {
  let words = [
    "a", "red", "circle", "two", "small", "blue", "squares", "above", "large", "yellow", "star", "on", "dark",
    "background", "photo", "of", "cat", "sitting", "next", "to", "wooden", "table", "in", "sunny", "kitchen", "with",
    "green", "plants", "and", "bright", "light", "painting", "mountain", "lake", "at", "sunset", "highly", "detailed",
    "triangle", "ring", "cross", "purple", "orange", "beside", "below", "the", "city", "street", "night", "rain",
  ]
  var state: UInt64 = 0x2545_F491_4F6C_DD1D
  func next(_ n: Int) -> Int {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Int((state >> 33) % UInt64(n))
  }
  return (0..<count).map { _ in (0..<(3 + next(38))).map { _ in words[next(words.count)] }.joined(separator: " ") }
}

/// Times `SentenceEncoder.encode` (batch 64) and the sentence-transformers peer on the same prompts.
func sentenceEncoderBench(peer withPeer: Bool = true) throws {
  let folder: String
  do { folder = try ModelLocator.sentenceEncoderFolder() } catch {
    print("sentence encoder: skipped (\(error))")
    return
  }
  let prompts = benchPrompts()
  let encoder = try SentenceEncoder.load(folder: folder)
  encoder.batchSize = 64
  let seconds = try measure(minRuns: 3, minSeconds: 0) { _ = try encoder.encode(prompts) }
  let tokens = prompts.map { encoder.tokenizer.encode($0).count }.reduce(0, +)
  let ours = Double(prompts.count) / seconds
  var line = "sentence encoder (all-MiniLM-L6-v2, \(prompts.count) prompts of 3-40 words, \(tokens) tokens, batch 64): "
    + "\(fmt(ours, 0)) prompts/s (\(fmt(seconds, 2)) s)"
  if withPeer, let peer = runSentencePeer(prompts, folder: folder) {
    line += "; sentence-transformers \(fmt(Double(prompts.count) / peer, 0)) prompts/s (\(fmt(peer, 2)) s); time ratio \(fmt(seconds / peer))"
  } else if withPeer {
    line += "; sentence-transformers peer unavailable (pip install sentence-transformers to compare)"
  }
  print(line)
}

/// Seconds the sentence-transformers library needs for the same prompts (median of 3), or nil.
func runSentencePeer(_ prompts: [String], folder: String) -> Double? {
  withJSONFile(["folder": folder, "prompts": prompts]) { runPeerScript("tools/bench/sentence_peer.py", $0)["sentence_encoder"] } ?? nil
}
