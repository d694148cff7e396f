// Parser: tokens -> statements. Recovers after an error at the next statement boundary and reports
// several; tells the REPL when input is merely incomplete (more lines needed).

/// What parsing a chunk produced.
enum ParseResult {
  case complete([Stmt])
  /// The text ends in the middle of a construct: the REPL should read another line
  /// (a file reports these diagnostics instead).
  case incomplete([Diagnostic])
  case failure([Diagnostic])
}

/// Thrown inside the parser to abandon the current statement.
struct ParseAbort: Error {}

/// A recursive-descent parser over one chunk's tokens.
struct Parser {
  var tokens: [Token]
  var pos = 0
  var diagnostics: [Diagnostic] = []
  /// Errors that happened because the input ended.
  var endErrors = 0

  init(tokens: [Token]) { self.tokens = tokens }

  /// Lexes and parses `text` registered as `file`.
  static func parse(_ text: String, file: Int) -> ParseResult {
    var lexer = Lexer(text, file: file)
    let tokens = lexer.tokenize()
    var parser = Parser(tokens: tokens)
    let program = parser.program()
    let all = lexer.diagnostics + parser.diagnostics
    if all.isEmpty { return .complete(program) }
    // Incomplete: every error is "ran out of input" (an open block, bracket or string).
    let openString = { (d: Diagnostic) in d.message.hasPrefix("unterminated") && !d.message.contains("single-quoted") }
    let lexerOpen = lexer.diagnostics.filter(openString).count
    if lexerOpen == lexer.diagnostics.count && parser.endErrors == parser.diagnostics.count {
      return .incomplete(all)
    }
    return .failure(all)
  }

  // MARK: tokens

  var current: Token { tokens[pos] }
  var kind: TokenKind { tokens[pos].kind }

  func peekKind(_ offset: Int = 1) -> TokenKind {
    pos + offset < tokens.count ? tokens[pos + offset].kind : .eof
  }

  @discardableResult
  mutating func advance() -> Token {
    let t = tokens[pos]
    if pos < tokens.count - 1 { pos += 1 }
    return t
  }

  mutating func check(_ k: TokenKind) -> Bool { kind == k }

  mutating func match(_ k: TokenKind) -> Bool {
    guard kind == k else { return false }
    advance()
    return true
  }

  mutating func skipNewlines() { while kind == .newline { advance() } }

  mutating func fail(_ message: String, at token: Token? = nil) -> ParseAbort {
    let t = token ?? current
    if t.kind == .eof { endErrors += 1 }
    let shown = t.kind == .eof ? "end of input" : (t.kind == .newline ? "end of line" : "'\(t.lexeme)'")
    diagnostics.append(Diagnostic(.syntax, "\(message), found \(shown)", at: t.location))
    return ParseAbort()
  }

  mutating func expect(_ k: TokenKind, _ what: String) throws -> Token {
    guard kind == k else { throw fail("expected \(what)") }
    return advance()
  }

  mutating func identifier(_ what: String) throws -> (String, SourceLocation) {
    guard case .identifier(let name) = kind else { throw fail("expected \(what)") }
    let t = advance()
    return (name, t.location)
  }

  // MARK: statements

  mutating func program() -> [Stmt] {
    var out: [Stmt] = []
    skipSeparators()
    while kind != .eof {
      let before = pos
      if let s = statementRecovering() { out.append(s) }
      if pos == before { advance() }  // a stray '}' stops recovery without consuming anything
      skipSeparators()
    }
    return out
  }

  mutating func skipSeparators() { while kind == .newline || kind == .semicolon { advance() } }

  /// Parses one statement; on error skips to the next boundary and returns nil.
  mutating func statementRecovering() -> Stmt? {
    do {
      let s = try statement()
      try endOfStatement()
      return s
    } catch {
      synchronize()
      return nil
    }
  }

  mutating func endOfStatement() throws {
    switch kind {
    case .newline, .semicolon, .eof, .rightBrace: return
    default: throw fail("expected end of statement")
    }
  }

  /// Skips tokens up to the end of the current statement (jlox's panic-mode recovery).
  mutating func synchronize() {
    var depth = 0
    while kind != .eof {
      switch kind {
      case .leftBrace: depth += 1
      case .rightBrace:
        if depth == 0 { return }
        depth -= 1
        if depth == 0 {
          advance()
          return
        }
      case .newline, .semicolon:
        if depth == 0 { return }
      default: break
      }
      advance()
    }
  }

  mutating func statement() throws -> Stmt {
    let start = current.location
    switch kind {
    case .kwLet:
      advance()
      let (name, _) = try identifier("a name after 'let'")
      var value: Expr? = nil
      if match(.equal) {
        skipNewlines()
        value = try expression()
      }
      return LetStmt(name, value, start)
    case .kwFn:
      if case .identifier = peekKind() {
        advance()
        let (name, _) = try identifier("a function name")
        return FnStmt(try functionRest(name: name, start), start)
      }
    case .kwIf: return try ifStatement()
    case .kwWhile:
      advance()
      let cond = try expression()
      return WhileStmt(cond, try block(), start)
    case .kwFor:
      advance()
      var names = [try identifier("a loop variable").0]
      if match(.comma) { names.append(try identifier("a second loop variable").0) }
      _ = try expect(.kwIn, "'in'")
      let iterable = try expression()
      return ForStmt(names, iterable, try block(), start)
    case .kwBreak:
      advance()
      return BreakStmt(start)
    case .kwContinue:
      advance()
      return ContinueStmt(start)
    case .kwReturn:
      advance()
      if [.newline, .semicolon, .rightBrace, .eof].contains(kind) { return ReturnStmt(nil, start) }
      return ReturnStmt(try expression(), start)
    case .kwImport:
      advance()
      var path = [try identifier("a module name").0]
      while match(.dot) { path.append(try identifier("a module name").0) }
      var alias: String? = nil
      if match(.kwAs) { alias = try identifier("a name after 'as'").0 }
      return ImportStmt(path, alias: alias, start)
    case .kwTry:
      advance()
      let body = try block()
      skipNewlinesBefore(.kwCatch)
      _ = try expect(.kwCatch, "'catch' after the try block")
      var name = "error"
      if case .identifier(let n) = kind {
        name = n
        advance()
      }
      return TryStmt(body, name, try block(), start)
    default: break
    }
    return try expressionStatement()
  }

  /// Allows `}` newline `else` / `catch`.
  mutating func skipNewlinesBefore(_ k: TokenKind) {
    var i = pos
    while i < tokens.count && tokens[i].kind == .newline { i += 1 }
    if i < tokens.count && tokens[i].kind == k { pos = i }
  }

  mutating func ifStatement() throws -> Stmt {
    let start = advance().location
    let cond = try expression()
    let then = try block()
    skipNewlinesBefore(.kwElse)
    guard match(.kwElse) else { return IfStmt(cond, then, nil, start) }
    if kind == .kwIf { return IfStmt(cond, then, [try ifStatement()], start) }
    return IfStmt(cond, then, try block(), start)
  }

  mutating func block() throws -> [Stmt] {
    _ = try expect(.leftBrace, "'{'")
    var out: [Stmt] = []
    skipSeparators()
    while kind != .rightBrace {
      if kind == .eof { throw fail("expected '}' to close the block") }
      let before = pos
      if let s = statementRecovering() { out.append(s) }
      if pos == before && kind != .rightBrace { advance() }
      skipSeparators()
    }
    advance()
    return out
  }

  mutating func expressionStatement() throws -> Stmt {
    let start = current.location
    let expr = try expression()
    let op: BinaryOp?? = {
      switch kind {
      case .equal: return .some(nil)
      case .plusEqual: return .add
      case .minusEqual: return .sub
      case .starEqual: return .mul
      case .slashEqual: return .div
      default: return nil
      }
    }()
    if let op {
      let t = advance()
      guard expr is VariableExpr || expr is FieldExpr || expr is IndexExpr else {
        throw fail("cannot assign to this expression", at: t)
      }
      skipNewlines()
      return AssignStmt(expr, op, try expression(), start)
    }
    return ExprStmt(expr, silent: kind == .semicolon, start)
  }

  /// `(params) { body }` or `(params) => expr` after `fn [name]`.
  mutating func functionRest(name: String, _ start: SourceLocation) throws -> FunctionDecl {
    _ = try expect(.leftParen, "'(' to start the parameter list")
    var params: [(String, Expr?)] = []
    while kind != .rightParen {
      let (p, ploc) = try identifier("a parameter name")
      if params.contains(where: { $0.0 == p }) {
        diagnostics.append(Diagnostic(.syntax, "parameter '\(p)' appears twice", at: ploc))
      }
      var def: Expr? = nil
      if match(.equal) || match(.colon) { def = try expression() }
      params.append((p, def))
      if !match(.comma) { break }
    }
    _ = try expect(.rightParen, "')' to close the parameter list")
    if match(.arrow) {
      let e = try expression()
      return FunctionDecl(name: name, parameters: params, body: [ReturnStmt(e, e.location)], location: start)
    }
    return FunctionDecl(name: name, parameters: params, body: try block(), location: start)
  }
}
