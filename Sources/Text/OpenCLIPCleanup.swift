// OpenCLIPCleanup: open_clip's text cleanup — HTML unescaping, whitespace folding, Python-style lower-casing.

/// The cleanup `open_clip.tokenizer.SimpleTokenizer` applies before BPE, without ftfy's mojibake
/// repair: `html.unescape` twice, whitespace runs to one space, trimmed, then `str.lower()`
/// (which, unlike HF's normaliser, applies the Final_Sigma rule).
enum OpenCLIPCleanup {
  static func clean(_ text: String, lowercase: Bool) -> [Unicode.Scalar] {
    let unescaped = HTMLEntities.unescape(HTMLEntities.unescape(text))
    var out: [Unicode.Scalar] = []
    var pendingSpace = false
    for c in UnicodeClasses.composed(Array(unescaped.unicodeScalars)) {
      if c.properties.isWhitespace {
        pendingSpace = !out.isEmpty
        continue
      }
      if pendingSpace { out.append(" ") }
      pendingSpace = false
      out.append(c)
    }
    return lowercase ? pythonLowercased(out) : out
  }

  /// `str.lower()`: full lower-case mappings, and capital sigma becomes final sigma after a cased
  /// letter (skipping case-ignorables) when no cased letter follows.
  static func pythonLowercased(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var out: [Unicode.Scalar] = []
    for (i, c) in s.enumerated() {
      if c == "\u{03A3}" && isFinalSigma(s, i) {
        out.append("\u{03C2}")
      } else {
        out += UnicodeClasses.lowercased([c])
      }
    }
    return out
  }

  private static func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
    var j = i - 1
    while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
    guard j >= 0 && s[j].properties.isCased else { return false }
    var k = i + 1
    while k < s.count && s[k].properties.isCaseIgnorable { k += 1 }
    return !(k < s.count && s[k].properties.isCased)
  }
}

/// Python's `html.unescape` for numeric references and the named entities prompts actually contain.
enum HTMLEntities {
  static let named: [String: String] = [
    "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©", "reg": "®",
    "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“",
    "rdquo": "”", "laquo": "«", "raquo": "»", "deg": "°", "times": "×", "divide": "÷", "euro": "€",
    "pound": "£", "yen": "¥", "cent": "¢", "sect": "§", "para": "¶", "middot": "·", "bull": "•",
  ]

  static func unescape(_ text: String) -> String {
    guard text.contains("&") else { return text }
    let s = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    var i = 0
    while i < s.count {
      if s[i] == "&", let (replacement, next) = reference(s, at: i) {
        out.append(contentsOf: replacement.unicodeScalars)
        i = next
      } else {
        out.append(s[i])
        i += 1
      }
    }
    return String(out)
  }

  /// The replacement of a reference starting at `&` and the index after its `;`.
  private static func reference(_ s: [Unicode.Scalar], at start: Int) -> (String, Int)? {
    var j = start + 1
    while j < s.count && j - start <= 32 && s[j] != ";" && (s[j].properties.isAlphabetic || s[j].properties.numericType != nil || s[j] == "#") {
      j += 1
    }
    guard j < s.count && s[j] == ";" && j > start + 1 else { return nil }
    let body = UnicodeClasses.string(s[(start + 1)..<j])
    if body.hasPrefix("#") {
      let digits = body.dropFirst()
      let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
      guard let v = value, v != 0, let scalar = Unicode.Scalar(v) else { return ("\u{FFFD}", j + 1) }
      return (String(Character(scalar)), j + 1)
    }
    return named[body].map { ($0, j + 1) }
  }
}
