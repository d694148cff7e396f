// WordPieceTokenizer: BERT-family tokenization — BERT normaliser, whitespace/punctuation split, greedy word pieces.

/// The WordPiece tokenizer of BERT, MiniLM and MPNet, following HF `tokenizers`: added tokens are
/// split out of the raw text first; the rest is cleaned (control characters dropped, whitespace
/// unified), CJK ideographs isolated, accents stripped and lower-cased as configured, split on
/// whitespace and punctuation, and each word cut into the longest vocabulary pieces (`##` marks a
/// continuation; a word with no cut, or longer than `maxInputCharsPerWord`, becomes the unknown token).
public struct WordPieceTokenizer: TextTokenizer {
  /// How text is normalised before it is split (HF `BertNormalizer`).
  public struct Normalization: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseChars = true
    /// nil: strip accents exactly when lower-casing (BERT's rule).
    public var stripAccents: Bool? = nil
    public var lowercase = true
    public init() {}
  }

  public let vocab: [String: Int]
  /// Token strings by id (ids missing from the vocabulary are empty strings).
  public let idToToken: [String]
  public let normalization: Normalization
  public let unkId: Int
  public let continuingPrefix: String
  public let maxInputCharsPerWord: Int
  /// Ids placed before and after the text of a single sequence (`[CLS]`/`[SEP]` or `<s>`/`</s>`).
  public let prefixIds: [Int], suffixIds: [Int]
  public let padId: Int
  public var maxLength: Int
  let addedTokens: AddedTokenMatcher

  /// A tokenizer over `vocab`; `unkToken` must be in it.
  public init(
    vocab: [String: Int], normalization: Normalization = .init(), unkToken: String = "[UNK]",
    continuingPrefix: String = "##", maxInputCharsPerWord: Int = 100, prefixIds: [Int], suffixIds: [Int],
    padId: Int, maxLength: Int, addedTokens: [AddedToken]
  ) throws {
    guard let unk = vocab[unkToken] else { throw TextError("the unknown token \"\(unkToken)\" is not in the vocabulary") }
    guard maxLength > prefixIds.count + suffixIds.count else {
      throw TextError("max length \(maxLength) leaves no room for text between the special tokens")
    }
    self.vocab = vocab
    var names = [String](repeating: "", count: (vocab.values.max() ?? -1) + 1)
    for (token, id) in vocab { names[id] = token }
    for t in addedTokens where t.id >= 0 {
      if t.id >= names.count { names += [String](repeating: "", count: t.id - names.count + 1) }
      names[t.id] = t.content
    }
    self.idToToken = names
    self.normalization = normalization
    self.unkId = unk
    self.continuingPrefix = continuingPrefix
    self.maxInputCharsPerWord = maxInputCharsPerWord
    self.prefixIds = prefixIds
    self.suffixIds = suffixIds
    self.padId = padId
    self.maxLength = maxLength
    self.addedTokens = AddedTokenMatcher(addedTokens)
  }

  public func encode(_ text: String) -> [Int] {
    let room = maxLength - prefixIds.count - suffixIds.count
    return prefixIds + Array(pieceIds(text).prefix(room)) + suffixIds
  }

  public func tokenStrings(_ text: String) -> [String] { encode(text).map(token(for:)) }

  /// The token string of `id` (or `"<id N>"` for ids outside the vocabulary).
  public func token(for id: Int) -> String {
    id >= 0 && id < idToToken.count && !idToToken[id].isEmpty ? idToToken[id] : "<id \(id)>"
  }

  /// Ids of the text's pieces, without special tokens or truncation.
  public func pieceIds(_ text: String) -> [Int] {
    var ids: [Int] = []
    for segment in addedTokens.split(Array(text.unicodeScalars)) {
      switch segment {
      case .token(let id): ids.append(id)
      case .text(let scalars):
        for word in words(normalized(scalars)) { appendPieces(of: word, to: &ids) }
      }
    }
    return ids
  }

  /// BertNormalizer: clean text, isolate CJK, strip accents, lower-case — in that order.
  func normalized(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var s: [Unicode.Scalar] = []
    s.reserveCapacity(input.count)
    for c in input {
      if normalization.cleanText {
        if c.value == 0 || c.value == 0xFFFD || UnicodeClasses.isControl(c) { continue }
        if UnicodeClasses.isWhitespace(c) {
          s.append(" ")
          continue
        }
      }
      if normalization.handleChineseChars && UnicodeClasses.isCJK(c) {
        s.append(contentsOf: [" ", c, " "])
      } else {
        s.append(c)
      }
    }
    if normalization.stripAccents ?? normalization.lowercase { s = UnicodeClasses.strippingAccents(s) }
    if normalization.lowercase { s = UnicodeClasses.lowercased(s) }
    return s
  }

  /// BertPreTokenizer: split on whitespace, and every punctuation character is a word of its own.
  func words(_ s: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
    var words: [ArraySlice<Unicode.Scalar>] = []
    var start = 0
    for (i, c) in s.enumerated() {
      if UnicodeClasses.isWhitespace(c) {
        if start < i { words.append(s[start..<i]) }
        start = i + 1
      } else if UnicodeClasses.isPunctuation(c) {
        if start < i { words.append(s[start..<i]) }
        words.append(s[i...i])
        start = i + 1
      }
    }
    if start < s.count { words.append(s[start...]) }
    return words
  }

  /// Greedy longest-match-first word pieces; the whole word becomes the unknown token if any part fails.
  func appendPieces(of word: ArraySlice<Unicode.Scalar>, to ids: inout [Int]) {
    let chars = Array(word)
    if chars.count > maxInputCharsPerWord {
      ids.append(unkId)
      return
    }
    var pieces: [Int] = []
    var start = 0
    while start < chars.count {
      var end = chars.count
      var found: Int? = nil
      while start < end {
        let piece = (start > 0 ? continuingPrefix : "") + UnicodeClasses.string(chars[start..<end])
        if let id = vocab[piece] {
          found = id
          break
        }
        end -= 1
      }
      guard let id = found else {
        ids.append(unkId)
        return
      }
      pieces.append(id)
      start = end
    }
    ids.append(contentsOf: pieces)
  }
}
