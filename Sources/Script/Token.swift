// Token: the lexer's output — kinds, literal payloads, interpolated string parts, positions.

/// A piece of a double-quoted string: literal text, or the source of an embedded `{expr}`.
public enum StringPart: Sendable, Equatable {
  case text(String)
  case code(String, SourceLocation)
}

/// Token kinds; keywords are their own kinds.
public enum TokenKind: Sendable, Equatable {
  case number(Double)
  case string([StringPart])
  case identifier(String)
  // keywords
  case kwLet, kwFn, kwIf, kwElse, kwWhile, kwFor, kwIn, kwBreak, kwContinue, kwReturn, kwImport, kwAs
  case kwTry, kwCatch, kwTrue, kwFalse, kwNil, kwAnd, kwOr, kwNot
  // punctuation and operators
  case leftParen, rightParen, leftBracket, rightBracket, leftBrace, rightBrace
  case comma, dot, colon, semicolon, arrow
  case plus, minus, star, slash, percent, starStar, at
  case equal, equalEqual, bangEqual, less, lessEqual, greater, greaterEqual
  case plusEqual, minusEqual, starEqual, slashEqual
  case dotDot, dotDotEqual
  case newline, eof
}

/// One token with its source position.
public struct Token: Sendable {
  public var kind: TokenKind
  public var location: SourceLocation
  /// The exact source text of the token (for messages).
  public var lexeme: String
}

let keywords: [String: TokenKind] = [
  "let": .kwLet, "fn": .kwFn, "if": .kwIf, "else": .kwElse, "while": .kwWhile, "for": .kwFor, "in": .kwIn,
  "break": .kwBreak, "continue": .kwContinue, "return": .kwReturn, "import": .kwImport, "as": .kwAs,
  "try": .kwTry, "catch": .kwCatch, "true": .kwTrue, "false": .kwFalse, "nil": .kwNil,
  "and": .kwAnd, "or": .kwOr, "not": .kwNot,
]

/// Every keyword, for completion and docs.
public let languageKeywords: [String] = keywords.keys.sorted()
