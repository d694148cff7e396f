// ByteLevelBPE: GPT-2's byte-to-character map and rank-ordered BPE merging with an end-of-word suffix.

/// Byte-level BPE as CLIP uses it: a pre-token's UTF-8 bytes become printable characters (GPT-2's
/// `bytes_to_unicode`), `</w>` is appended to the last one, and the pair of adjacent symbols with
/// the lowest merge rank is merged until no ranked pair remains.
struct ByteLevelBPE: Sendable {
  /// The character each byte value stands for.
  static let byteCharacters: [String] = {
    var printable = Array(33...126) + Array(161...172) + Array(174...255)
    var codes = printable
    var next = 0
    for b in 0..<256 where !printable.contains(b) {
      printable.append(b)
      codes.append(256 + next)
      next += 1
    }
    var table = [String](repeating: "", count: 256)
    for (b, c) in zip(printable, codes) { table[b] = String(Character(Unicode.Scalar(UInt32(c))!)) }
    return table
  }()

  let ranks: [String: Int]
  let suffix: String

  init(merges: [(String, String)], suffix: String = "</w>") {
    var ranks: [String: Int] = [:]
    ranks.reserveCapacity(merges.count)
    for (i, (a, b)) in merges.enumerated() where ranks[a + " " + b] == nil { ranks[a + " " + b] = i }
    self.ranks = ranks
    self.suffix = suffix
  }

  /// The BPE symbols of one pre-token.
  func symbols(_ pretoken: String) -> [String] {
    var word = pretoken.utf8.map { Self.byteCharacters[Int($0)] }
    guard !word.isEmpty else { return [] }
    word[word.count - 1] += suffix
    while word.count > 1 {
      var best: (rank: Int, index: Int)? = nil
      for i in 0..<(word.count - 1) {
        if let r = ranks[word[i] + " " + word[i + 1]], r < (best?.rank ?? Int.max) { best = (r, i) }
      }
      guard let b = best else { break }
      word = merged(word, word[b.index], word[b.index + 1])
    }
    return word
  }

  /// Merges every non-overlapping occurrence of the pair (a, b), left to right.
  private func merged(_ word: [String], _ a: String, _ b: String) -> [String] {
    var out: [String] = []
    out.reserveCapacity(word.count - 1)
    var i = 0
    while i < word.count {
      if i + 1 < word.count && word[i] == a && word[i + 1] == b {
        out.append(a + b)
        i += 2
      } else {
        out.append(word[i])
        i += 1
      }
    }
    return out
  }
}
