// ParserExpressions: precedence climbing from `or` down to calls, indexing, literals and interpolation.

import Foundation

extension Parser {
  mutating func expression() throws -> Expr { try orExpr() }

  mutating func orExpr() throws -> Expr {
    var e = try andExpr()
    while kind == .kwOr {
      let t = advance()
      skipNewlines()
      e = LogicalExpr(isAnd: false, e, try andExpr(), t.location)
    }
    return e
  }

  mutating func andExpr() throws -> Expr {
    var e = try notExpr()
    while kind == .kwAnd {
      let t = advance()
      skipNewlines()
      e = LogicalExpr(isAnd: true, e, try notExpr(), t.location)
    }
    return e
  }

  mutating func notExpr() throws -> Expr {
    if kind == .kwNot {
      let t = advance()
      return UnaryExpr(.not, try notExpr(), t.location)
    }
    return try comparison()
  }

  mutating func comparison() throws -> Expr {
    var e = try rangeExpr()
    while true {
      let op: BinaryOp
      switch kind {
      case .equalEqual: op = .eq
      case .bangEqual: op = .ne
      case .less: op = .lt
      case .lessEqual: op = .le
      case .greater: op = .gt
      case .greaterEqual: op = .ge
      case .kwIn: op = .in
      case .kwNot where peekKind() == .kwIn:
        advance()
        op = .notIn
      default: return e
      }
      let t = advance()
      skipNewlines()
      e = BinaryExpr(op, e, try rangeExpr(), t.location)
    }
  }

  mutating func rangeExpr() throws -> Expr {
    let e = try additive()
    if kind == .dotDot || kind == .dotDotEqual {
      let t = advance()
      return RangeExpr(e, try additive(), inclusive: t.kind == .dotDotEqual, t.location)
    }
    return e
  }

  mutating func additive() throws -> Expr {
    var e = try multiplicative()
    while kind == .plus || kind == .minus {
      let t = advance()
      skipNewlines()
      e = BinaryExpr(t.kind == .plus ? .add : .sub, e, try multiplicative(), t.location)
    }
    return e
  }

  mutating func multiplicative() throws -> Expr {
    var e = try unary()
    while true {
      let op: BinaryOp
      switch kind {
      case .star: op = .mul
      case .slash: op = .div
      case .percent: op = .mod
      case .at: op = .matmul
      default: return e
      }
      let t = advance()
      skipNewlines()
      e = BinaryExpr(op, e, try unary(), t.location)
    }
  }

  mutating func unary() throws -> Expr {
    if kind == .minus {
      let t = advance()
      let operand = try unary()
      if let lit = operand as? LiteralExpr, case .number(let n) = lit.value { return LiteralExpr(.number(-n), t.location) }
      return UnaryExpr(.negate, operand, t.location)
    }
    if kind == .plus {
      advance()
      return try unary()
    }
    return try power()
  }

  mutating func power() throws -> Expr {
    let base = try postfix()
    if kind == .starStar {
      let t = advance()
      skipNewlines()
      return BinaryExpr(.pow, base, try unary(), t.location)
    }
    return base
  }

  mutating func postfix() throws -> Expr {
    var e = try primary()
    while true {
      // A line starting with `.name` continues the previous expression (method chains).
      if kind == .newline {
        var i = pos
        while i < tokens.count && tokens[i].kind == .newline { i += 1 }
        if i < tokens.count && tokens[i].kind == .dot { pos = i } else { return e }
      }
      switch kind {
      case .leftParen:
        let t = advance()
        _ = t
        e = CallExpr(e, try arguments(), e.location)
      case .leftBracket:
        let t = advance()
        e = IndexExpr(e, try indexParts(), t.location)
      case .dot:
        advance()
        let (name, loc) = try identifier("a member name after '.'")
        e = FieldExpr(e, name, loc)
      default:
        return e
      }
    }
  }

  mutating func arguments() throws -> [Argument] {
    var args: [Argument] = []
    var sawName = false
    while kind != .rightParen {
      if case .identifier(let n) = kind, peekKind() == .colon {
        advance()
        advance()
        args.append(Argument(name: n, value: try expression()))
        sawName = true
      } else {
        if sawName { throw fail("positional argument after a keyword argument") }
        args.append(Argument(name: nil, value: try expression()))
      }
      if !match(.comma) { break }
    }
    _ = try expect(.rightParen, "')' to close the argument list")
    return args
  }

  mutating func indexParts() throws -> [IndexExprPart] {
    var parts: [IndexExprPart] = []
    while kind != .rightBracket {
      var start: Expr? = nil
      if kind != .colon { start = try expression() }
      if match(.colon) {
        var end: Expr? = nil, step: Expr? = nil
        if kind != .colon && kind != .comma && kind != .rightBracket { end = try expression() }
        if match(.colon), kind != .comma && kind != .rightBracket { step = try expression() }
        parts.append(.slice(start, end, step))
      } else if let start {
        parts.append(.value(start))
      }
      if !match(.comma) { break }
    }
    _ = try expect(.rightBracket, "']' to close the index")
    if parts.isEmpty { throw fail("expected an index") }
    return parts
  }

  mutating func primary() throws -> Expr {
    let t = current
    switch t.kind {
    case .number(let n):
      advance()
      return LiteralExpr(.number(n), t.location)
    case .string(let parts):
      advance()
      return try stringExpr(parts, t.location)
    case .kwTrue:
      advance()
      return LiteralExpr(.bool(true), t.location)
    case .kwFalse:
      advance()
      return LiteralExpr(.bool(false), t.location)
    case .kwNil:
      advance()
      return LiteralExpr(.null, t.location)
    case .identifier(let name):
      advance()
      return VariableExpr(name, t.location)
    case .leftParen:
      advance()
      let e = try expression()
      _ = try expect(.rightParen, "')'")
      return e
    case .leftBracket:
      advance()
      var items: [Expr] = []
      while kind != .rightBracket {
        items.append(try expression())
        if !match(.comma) { break }
      }
      _ = try expect(.rightBracket, "']' to close the list")
      return ListExpr(items, t.location)
    case .leftBrace:
      return try mapLiteral()
    case .kwFn:
      advance()
      return FunctionExpr(try functionRest(name: "<fn>", t.location), t.location)
    default:
      throw fail("expected an expression")
    }
  }

  mutating func mapLiteral() throws -> Expr {
    let start = advance().location
    var entries: [(Expr, Expr)] = []
    skipNewlines()
    while kind != .rightBrace {
      let key: Expr
      switch kind {
      case .identifier(let n):
        key = LiteralExpr(.string(n), advance().location)
      case .string, .number:
        key = try primary()
      case .leftBracket:
        advance()
        key = try expression()
        _ = try expect(.rightBracket, "']' after a computed key")
      default:
        throw fail("expected a map key (a name, a string, a number or [expr])")
      }
      _ = try expect(.colon, "':' after the map key")
      skipNewlines()
      entries.append((key, try expression()))
      skipNewlines()
      if !match(.comma) { break }
      skipNewlines()
    }
    skipNewlines()
    _ = try expect(.rightBrace, "'}' to close the map")
    return MapExpr(entries, start)
  }

  /// Parses `{expr}` parts of a string with their own lexer at their source position.
  mutating func stringExpr(_ parts: [StringPart], _ loc: SourceLocation) throws -> Expr {
    if parts.count == 1, case .text(let s) = parts[0] { return LiteralExpr(.string(s), loc) }
    var out: [InterpolationExpr.Part] = []
    for p in parts {
      switch p {
      case .text(let s): out.append(.text(s))
      case .code(let code, let at):
        var lexer = Lexer(code, file: at.file, line: at.line, column: at.column)
        var sub = Parser(tokens: lexer.tokenize())
        diagnostics += lexer.diagnostics
        do {
          sub.skipNewlines()
          let e = try sub.expression()
          sub.skipNewlines()
          if sub.kind != .eof { throw sub.fail("expected '}' after the interpolated expression") }
          out.append(.expr(e))
        } catch {
          if sub.diagnostics.isEmpty {
            sub.diagnostics.append(Diagnostic(.syntax, "invalid interpolation", at: at))
          }
        }
        diagnostics += sub.diagnostics.map { d in
          var d = d
          d.message = d.message.replacingOccurrences(of: "end of input", with: "'}'")
          return d
        }
      }
    }
    return InterpolationExpr(out, loc)
  }
}
