// Lexer: source text -> tokens. Newlines are tokens except inside ( ) and [ ]; errors are collected, not fatal.

/// Turns one source text into tokens, collecting lexical errors instead of stopping.
public struct Lexer {
  private let chars: [Unicode.Scalar]
  private let file: Int
  private var index = 0
  private var line = 1
  private var column = 1
  /// Open brackets: true for ( and [ (newlines ignored inside), false for {.
  private var nesting: [Bool] = []
  public private(set) var diagnostics: [Diagnostic] = []

  public init(_ text: String, file: Int, line: Int = 1, column: Int = 1) {
    chars = Array(text.unicodeScalars)
    self.file = file
    self.line = line
    self.column = column
  }

  /// All tokens, ending with `.eof`. Consecutive newlines are merged.
  public mutating func tokenize() -> [Token] {
    var tokens: [Token] = []
    while true {
      skipSpaceAndComments()
      let start = (line, column, index)
      guard let c = peek() else {
        tokens.append(Token(kind: .eof, location: loc(start), lexeme: ""))
        return tokens
      }
      if c == "\n" {
        advance()
        if nesting.last != true, let last = tokens.last, last.kind != .newline {
          tokens.append(Token(kind: .newline, location: loc(start), lexeme: "\\n"))
        }
        continue
      }
      if let kind = scanToken(c) {
        let lexeme = String(String.UnicodeScalarView(chars[start.2..<index]))
        tokens.append(Token(kind: kind, location: loc(start, length: index - start.2), lexeme: lexeme))
      }
    }
  }

  private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
    index + offset < chars.count ? chars[index + offset] : nil
  }

  private mutating func advance() {
    if chars[index] == "\n" {
      line += 1
      column = 1
    } else {
      column += 1
    }
    index += 1
  }

  private func loc(_ start: (Int, Int, Int), length: Int = 1) -> SourceLocation {
    SourceLocation(file: file, line: start.0, column: start.1, length: length)
  }

  private mutating func error(_ message: String, _ start: (Int, Int, Int)) {
    diagnostics.append(Diagnostic(.lexical, message, at: loc(start, length: Swift.max(1, index - start.2))))
  }

  private mutating func skipSpaceAndComments() {
    while let c = peek() {
      if c == " " || c == "\t" || c == "\r" {
        advance()
      } else if c == "#" {
        while let d = peek(), d != "\n" { advance() }
      } else if c == "\\", peek(1) == "\n" {
        advance()
        advance()
      } else {
        return
      }
    }
  }

  private mutating func scanToken(_ c: Unicode.Scalar) -> TokenKind? {
    let start = (line, column, index)
    if c.properties.isAlphabetic || c == "_" { return scanIdentifier() }
    if ("0"..."9").contains(c) || (c == "." && peek(1).map { ("0"..."9").contains($0) } == true && !previousAllowsDot()) {
      return scanNumber(start)
    }
    if c == "\"" || c == "'" { return scanString(quote: c, start) }
    advance()
    switch c {
    case "(": nesting.append(true); return .leftParen
    case "[": nesting.append(true); return .leftBracket
    case "{": nesting.append(false); return .leftBrace
    case ")", "]", "}":
      if !nesting.isEmpty { nesting.removeLast() }
      return c == ")" ? .rightParen : (c == "]" ? .rightBracket : .rightBrace)
    case ",": return .comma
    case ":": return .colon
    case ";": return .semicolon
    case "@": return .at
    case "%": return .percent
    case ".":
      if match(".") { return match("=") ? .dotDotEqual : .dotDot }
      return .dot
    case "+": return match("=") ? .plusEqual : .plus
    case "-":
      if match(">") { return .arrow }
      return match("=") ? .minusEqual : .minus
    case "*":
      if match("*") { return .starStar }
      return match("=") ? .starEqual : .star
    case "/": return match("=") ? .slashEqual : .slash
    case "=":
      if match("=") { return .equalEqual }
      if match(">") { return .arrow }
      return .equal
    case "!":
      if match("=") { return .bangEqual }
      error("unexpected '!' (use 'not' for negation)", start)
      return nil
    case "<": return match("=") ? .lessEqual : .less
    case ">": return match("=") ? .greaterEqual : .greater
    default:
      error("unexpected character '\(c)'", start)
      return nil
    }
  }

  /// A '.' right after a number or name is member access / range, not the start of `.5`.
  private func previousAllowsDot() -> Bool {
    guard index > 0 else { return false }
    let p = chars[index - 1]
    return p.properties.isAlphabetic || ("0"..."9").contains(p) || p == "_" || p == ")" || p == "]"
  }

  private mutating func match(_ c: Unicode.Scalar) -> Bool {
    guard peek() == c else { return false }
    advance()
    return true
  }

  private mutating func scanIdentifier() -> TokenKind {
    let begin = index
    while let c = peek(), c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) { advance() }
    let word = String(String.UnicodeScalarView(chars[begin..<index]))
    return keywords[word] ?? .identifier(word)
  }

  private mutating func scanNumber(_ start: (Int, Int, Int)) -> TokenKind? {
    var text = ""
    if peek() == "0", let x = peek(1), x == "x" || x == "X" {
      advance()
      advance()
      while let c = peek(), c.properties.isASCIIHexDigit || c == "_" {
        if c != "_" { text.unicodeScalars.append(c) }
        advance()
      }
      guard let v = UInt64(text, radix: 16) else {
        error("invalid hexadecimal number", start)
        return nil
      }
      return .number(Double(v))
    }
    func digits() {
      while let c = peek(), ("0"..."9").contains(c) || c == "_" {
        if c != "_" { text.unicodeScalars.append(c) }
        advance()
      }
    }
    digits()
    // A fraction needs a digit after '.', so `0..n` stays a range.
    if peek() == ".", let d = peek(1), ("0"..."9").contains(d) {
      text += "."
      advance()
      digits()
    }
    if let e = peek(), e == "e" || e == "E" {
      let sign = peek(1)
      let hasSign = sign == "+" || sign == "-"
      if let d = peek(hasSign ? 2 : 1), ("0"..."9").contains(d) {
        text += "e"
        advance()
        if hasSign, let s = peek() {
          text.unicodeScalars.append(s)
          advance()
        }
        digits()
      }
    }
    guard let v = Double(text) else {
      error("invalid number '\(text)'", start)
      return nil
    }
    return .number(v)
  }

  private mutating func scanString(quote: Unicode.Scalar, _ start: (Int, Int, Int)) -> TokenKind? {
    advance()
    var parts: [StringPart] = []
    var text = ""
    while true {
      guard let c = peek() else {
        error("unterminated string", start)
        return nil
      }
      if c == quote {
        advance()
        break
      }
      if c == "\n" && quote == "'" {
        error("unterminated string (single-quoted strings end at the line's end)", start)
        return nil
      }
      if c == "\\" {
        advance()
        guard let e = scanEscape(start) else { continue }
        text.unicodeScalars.append(e)
        continue
      }
      if c == "{" && quote == "\"" {
        if !text.isEmpty { parts.append(.text(text)) }
        text = ""
        guard let part = scanInterpolation(start) else { return nil }
        parts.append(part)
        continue
      }
      text.unicodeScalars.append(c)
      advance()
    }
    if !text.isEmpty || parts.isEmpty { parts.append(.text(text)) }
    return .string(parts)
  }

  private mutating func scanEscape(_ start: (Int, Int, Int)) -> Unicode.Scalar? {
    guard let e = peek() else { return nil }
    advance()
    switch e {
    case "n": return "\n"
    case "t": return "\t"
    case "r": return "\r"
    case "0": return "\0"
    case "\\", "\"", "'", "{", "}": return e
    case "u":
      guard peek() == "{" else {
        error("expected '{' after \\u", start)
        return nil
      }
      advance()
      var hex = ""
      while let h = peek(), h != "}" {
        hex.unicodeScalars.append(h)
        advance()
      }
      if peek() == "}" { advance() }
      guard let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) else {
        error("invalid unicode escape \\u{\(hex)}", start)
        return nil
      }
      return s
    default:
      error("unknown escape '\\\(e)'", start)
      return nil
    }
  }

  /// Reads `{ ... }` inside a string, balancing braces and skipping nested string literals.
  private mutating func scanInterpolation(_ start: (Int, Int, Int)) -> StringPart? {
    advance()
    let codeLoc = SourceLocation(file: file, line: line, column: column)
    var depth = 0
    var code = ""
    while let c = peek() {
      if c == "}" && depth == 0 {
        advance()
        return .code(code, codeLoc)
      }
      if c == "{" { depth += 1 }
      if c == "}" { depth -= 1 }
      if c == "\"" || c == "'" {
        let q = c
        code.unicodeScalars.append(c)
        advance()
        while let d = peek(), d != q, d != "\n" {
          code.unicodeScalars.append(d)
          advance()
          if d == "\\", let n = peek() {
            code.unicodeScalars.append(n)
            advance()
          }
        }
        if let d = peek(), d == q {
          code.unicodeScalars.append(d)
          advance()
        }
        continue
      }
      code.unicodeScalars.append(c)
      advance()
    }
    error("unterminated '{' in string interpolation", start)
    return nil
  }
}
