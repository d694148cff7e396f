// CLIPTokenizer: CLIP's byte-level BPE tokenizer as Stable Diffusion ships it (HF behaviour), plus an open_clip mode.

import Formats

/// The CLIP tokenizer of a Stable Diffusion `tokenizer/` folder. In `.huggingFace` cleanup (what
/// diffusers pipelines see) added special tokens — including the pad token, which SD2 sets to
/// `!` — are split out of the raw text first; the rest is NFC-normalised, whitespace runs become
/// one space, it is lower-cased scalar by scalar, split by CLIP's pattern and BPE-encoded.
/// `.openCLIP` cleanup follows open_clip instead: HTML entities unescaped (twice), whitespace
/// folded and trimmed, Python-style lower-casing (final sigma), no special `!`.
public struct CLIPTokenizer: TextTokenizer {
  /// Which library's text cleanup to reproduce.
  public enum Cleanup: String, Sendable { case huggingFace, openCLIP }

  public let vocab: [String: Int]
  public let idToToken: [String]
  public let bosId: Int, eosId: Int, padId: Int, unkId: Int
  public var maxLength: Int
  public var cleanup: Cleanup
  public let lowercase: Bool
  let bpe: ByteLevelBPE
  let addedTokens: AddedTokenMatcher

  /// A tokenizer from its vocabulary and merges; the special tokens must be in the vocabulary.
  public init(
    vocab: [String: Int], merges: [(String, String)], bos: String = "<|startoftext|>", eos: String = "<|endoftext|>",
    pad: String = "<|endoftext|>", unk: String = "<|endoftext|>", maxLength: Int = 77, lowercase: Bool = true,
    cleanup: Cleanup = .huggingFace, extraAddedTokens: [AddedToken] = []
  ) throws {
    var ids: [Int] = []
    for token in [bos, eos, pad, unk] {
      guard let id = vocab[token] else { throw TextError("special token \"\(token)\" is not in the vocabulary") }
      ids.append(id)
    }
    guard maxLength >= 2 else { throw TextError("max length \(maxLength) leaves no room for the bos and eos tokens") }
    self.vocab = vocab
    var names = [String](repeating: "", count: (vocab.values.max() ?? -1) + 1)
    for (token, id) in vocab { names[id] = token }
    self.idToToken = names
    (bosId, eosId, padId, unkId) = (ids[0], ids[1], ids[2], ids[3])
    self.maxLength = maxLength
    self.lowercase = lowercase
    self.cleanup = cleanup
    self.bpe = ByteLevelBPE(merges: merges)
    var added = zip([bos, eos, pad, unk], ids).map { AddedToken(content: $0, id: $1) }
    added += extraAddedTokens
    self.addedTokens = AddedTokenMatcher(added)
  }

  public func encode(_ text: String) -> [Int] {
    [bosId] + Array(pieceIds(text).prefix(maxLength - 2)) + [eosId]
  }

  public func tokenStrings(_ text: String) -> [String] { encode(text).map(token(for:)) }

  /// The token string of `id` (or `"<id N>"` for ids outside the vocabulary).
  public func token(for id: Int) -> String {
    id >= 0 && id < idToToken.count && !idToToken[id].isEmpty ? idToToken[id] : "<id \(id)>"
  }

  /// Ids of the text's tokens without bos/eos, padding or truncation.
  public func pieceIds(_ text: String) -> [Int] {
    switch cleanup {
    case .huggingFace:
      var ids: [Int] = []
      for segment in addedTokens.split(Array(text.unicodeScalars)) {
        switch segment {
        case .token(let id): ids.append(id)
        case .text(let scalars): ids += bpeIds(huggingFaceNormalized(scalars))
        }
      }
      return ids
    case .openCLIP:
      return bpeIds(OpenCLIPCleanup.clean(text, lowercase: lowercase))
    }
  }

  /// NFC, whitespace runs to one space, scalar-wise lower-case (HF's CLIP normaliser).
  func huggingFaceNormalized(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var out: [Unicode.Scalar] = []
    var inSpace = false
    for c in UnicodeClasses.composed(scalars) {
      if c.properties.isWhitespace {
        if !inSpace { out.append(" ") }
        inSpace = true
      } else {
        out.append(c)
        inSpace = false
      }
    }
    return lowercase ? UnicodeClasses.lowercased(out) : out
  }

  private func bpeIds(_ scalars: [Unicode.Scalar]) -> [Int] {
    var ids: [Int] = []
    for pretoken in CLIPPattern.split(scalars) {
      if let special = vocab[pretoken], pretoken == "<|startoftext|>" || pretoken == "<|endoftext|>" {
        ids.append(special)
        continue
      }
      for symbol in bpe.symbols(pretoken) { ids.append(vocab[symbol] ?? unkId) }
    }
    return ids
  }
}

/// CLIP's pre-tokenization pattern, applied left to right with the alternatives in order:
/// `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`;
/// anything matching none of them (whitespace) is dropped.
enum CLIPPattern {
  static let literals: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
    .map { Array($0.unicodeScalars) }

  static func split(_ s: [Unicode.Scalar]) -> [String] {
    var out: [String] = []
    var i = 0
    while i < s.count {
      let end = matchEnd(s, at: i)
      if end > i {
        out.append(UnicodeClasses.string(s[i..<end]))
        i = end
      } else {
        i += 1
      }
    }
    return out
  }

  /// The end of the first alternative matching at `i`, or `i` if none does.
  private static func matchEnd(_ s: [Unicode.Scalar], at i: Int) -> Int {
    for lit in literals where i + lit.count <= s.count && Array(s[i..<(i + lit.count)]) == lit { return i + lit.count }
    let c = s[i]
    if UnicodeClasses.isLetter(c) {
      var j = i + 1
      while j < s.count && UnicodeClasses.isLetter(s[j]) { j += 1 }
      return j
    }
    if UnicodeClasses.isNumber(c) { return i + 1 }
    var j = i
    while j < s.count && !isOther(s[j]) { j += 1 }
    return j
  }

  /// Whitespace, letters and numbers end a `[^\s\p{L}\p{N}]+` run.
  private static func isOther(_ c: Unicode.Scalar) -> Bool {
    c.properties.isWhitespace || UnicodeClasses.isLetter(c) || UnicodeClasses.isNumber(c)
  }
}

extension CLIPTokenizer {
  /// Loads a `tokenizer/` folder: `vocab.json`, `merges.txt`, and the special tokens, length and
  /// case from `tokenizer_config.json` / `special_tokens_map.json` (SD1: pad `<|endoftext|>`, SD2: pad `!`).
  public static func load(folder: String, cleanup: Cleanup = .huggingFace) throws -> CLIPTokenizer {
    try TokenizerFiles.requireFolder(folder)
    let vocabPath = folder + "/vocab.json", mergesPath = folder + "/merges.txt"
    for path in [vocabPath, mergesPath] where !fileExists(path) {
      throw TextError(file: folder, "missing \(path.split(separator: "/").last ?? "") (a CLIP tokenizer folder holds vocab.json and merges.txt)")
    }
    let vocab = try TokenizerFiles.vocabMap(try TokenizerFiles.json(vocabPath), file: vocabPath)
    let merges = try TokenizerFiles.merges(mergesPath)
    let config = try TokenizerFiles.optionalJSON(folder, "tokenizer_config.json") ?? ConfigMap()
    let specials = try TokenizerFiles.optionalJSON(folder, "special_tokens_map.json") ?? ConfigMap()
    func special(_ key: String, _ fallback: String) -> String {
      TokenizerFiles.tokenString(config[key]) ?? TokenizerFiles.tokenString(specials[key]) ?? fallback
    }
    var extra: [AddedToken] = []
    for (key, entry) in config["added_tokens_decoder"]?.mapValue ?? ConfigMap() {
      if let id = Int(key), let content = TokenizerFiles.tokenString(entry) { extra.append(AddedToken(content: content, id: id)) }
    }
    do {
      return try CLIPTokenizer(
        vocab: vocab, merges: merges, bos: special("bos_token", "<|startoftext|>"), eos: special("eos_token", "<|endoftext|>"),
        pad: special("pad_token", "<|endoftext|>"), unk: special("unk_token", "<|endoftext|>"),
        maxLength: TokenizerFiles.modelMaxLength(config) ?? 77, lowercase: config["do_lower_case"]?.boolValue ?? true,
        cleanup: cleanup, extraAddedTokens: extra)
    } catch let e as TextError {
      throw TextError(file: folder, e.message)
    }
  }
}
