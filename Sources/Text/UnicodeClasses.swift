// UnicodeClasses: the character classes and normalisations the HF tokenizers apply, per Unicode scalar.

import Foundation

/// Character tests and normalisations shared by the WordPiece and CLIP tokenizers. They follow the
/// HF `tokenizers` definitions (Rust `char` semantics), which work scalar by scalar.
enum UnicodeClasses {
  /// Rust's `char::is_whitespace` (the White_Space property) plus tab, newline and return.
  static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
    c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
  }

  /// BERT's control characters: every "other" category (Cc, Cf, Cs, Co, Cn) except tab, newline, return.
  static func isControl(_ c: Unicode.Scalar) -> Bool {
    if c == "\t" || c == "\n" || c == "\r" { return false }
    switch c.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned: return true
    default: return false
    }
  }

  /// BERT's punctuation: ASCII punctuation (including symbols such as `$` and `^`) or any P* category.
  static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
    if c.isASCII {
      let v = c.value
      return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
    }
    switch c.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// The CJK Unified Ideograph blocks BERT surrounds with spaces (not kana or hangul).
  static func isCJK(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }

  /// `\p{L}`: any letter category.
  static func isLetter(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
  }

  /// `\p{N}`: any number category.
  static func isNumber(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
  }

  /// Lower-cases scalar by scalar with the full mapping (no context rules such as final sigma),
  /// as the `Lowercase` normalizer does.
  static func lowercased(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(scalars.count)
    for c in scalars {
      if c.isASCII {
        out.append(c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c)
      } else {
        out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
      }
    }
    return out
  }

  /// Canonical decomposition (NFD) with the non-spacing marks (Mn) removed: BERT's accent stripping.
  static func strippingAccents(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    if scalars.allSatisfy(\.isASCII) { return scalars }
    let decomposed = string(scalars).decomposedStringWithCanonicalMapping.unicodeScalars
    return decomposed.filter { $0.properties.generalCategory != .nonspacingMark }
  }

  /// Canonical composition (NFC).
  static func composed(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    if scalars.allSatisfy(\.isASCII) { return scalars }
    return Array(string(scalars).precomposedStringWithCanonicalMapping.unicodeScalars)
  }

  static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
    var s = String.UnicodeScalarView()
    s.append(contentsOf: scalars)
    return String(s)
  }
}
