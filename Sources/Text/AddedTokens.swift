// AddedTokens: splitting raw text around added (special) tokens before normalisation, as HF does.

/// One token matched literally in the raw text before any normalisation (`[CLS]`, `<|endoftext|>`, `!` when it is SD2's pad token).
public struct AddedToken: Sendable, Equatable {
  public var content: String
  public var id: Int
  /// Whitespace on the left (right) of the match belongs to the token.
  public var lstrip = false, rstrip = false

  public init(content: String, id: Int, lstrip: Bool = false, rstrip: Bool = false) {
    self.content = content
    self.id = id
    self.lstrip = lstrip
    self.rstrip = rstrip
  }
}

/// A piece of raw text: ordinary text for the normaliser, or an added token's id.
enum TextSegment: Equatable {
  case text([Unicode.Scalar])
  case token(Int)
}

/// Finds added tokens leftmost-longest, like the `tokenizers` AddedVocabulary.
struct AddedTokenMatcher: Sendable {
  private let tokens: [(scalars: [Unicode.Scalar], token: AddedToken)]

  init(_ tokens: [AddedToken]) {
    self.tokens = tokens.filter { !$0.content.isEmpty }
      .map { (Array($0.content.unicodeScalars), $0) }
      .sorted { $0.scalars.count > $1.scalars.count }
  }

  func split(_ text: [Unicode.Scalar]) -> [TextSegment] {
    if tokens.isEmpty { return text.isEmpty ? [] : [.text(text)] }
    var segments: [TextSegment] = []
    var textStart = 0, i = 0
    while i < text.count {
      guard let match = longestMatch(text, at: i) else {
        i += 1
        continue
      }
      var end = i
      if match.lstrip { while end > textStart && UnicodeClasses.isWhitespace(text[end - 1]) { end -= 1 } }
      if end > textStart { segments.append(.text(Array(text[textStart..<end]))) }
      segments.append(.token(match.id))
      i += match.content.unicodeScalars.count
      if match.rstrip { while i < text.count && UnicodeClasses.isWhitespace(text[i]) { i += 1 } }
      textStart = i
    }
    if textStart < text.count { segments.append(.text(Array(text[textStart...]))) }
    return segments
  }

  private func longestMatch(_ text: [Unicode.Scalar], at i: Int) -> AddedToken? {
    for (scalars, token) in tokens where i + scalars.count <= text.count {
      var matches = true
      for j in 0..<scalars.count where text[i + j] != scalars[j] {
        matches = false
        break
      }
      if matches { return token }
    }
    return nil
  }
}
