// CaptionGrammar: varied English captions for shapes scenes, and the parser tests use to read them back.

import TensorCore

/// Phrases a scene: "a red circle", "two small blue squares above a large yellow star on a dark background".
struct CaptionGrammar {
  let generator: Generator

  static let numbers = ["a", "two", "three", "four"]

  func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }

  func phrase(_ g: (kind: ShapeKind, color: ShapeColor, size: ShapeSize, count: Int)) -> String {
    let noun = g.count == 1 ? g.kind.rawValue : g.kind.plural
    return [Self.numbers[g.count - 1], g.size.rawValue, g.color.rawValue, noun].joined(separator: " ")
  }

  func caption(
    groups: [(kind: ShapeKind, color: ShapeColor, size: ShapeSize, count: Int)], relation: ShapeRelation?, background: ShapeBackground
  ) -> String {
    var text = phrase(groups[0])
    if groups.count == 2 {
      text += " " + (relation?.rawValue ?? pick(["and", "with"])) + " " + phrase(groups[1])
    }
    if background != .black { text += " on a \(background.rawValue) background" }
    return pick(["", "", "a picture of ", "an image of "]) + text
  }
}

/// What a caption says, for checking captions against scenes.
public struct CaptionContent: Equatable, Sendable {
  public var groups: [Group]
  public var relation: String?
  public var background: String?

  public struct Group: Equatable, Sendable {
    public var count: Int, size: String, color: String, kind: String
  }

  /// Reads a caption the grammar produced.
  public init(parsing caption: String) throws {
    var words = caption.split(separator: " ").map(String.init)
    if words.starts(with: ["a", "picture", "of"]) || words.starts(with: ["an", "image", "of"]) { words.removeFirst(3) }
    groups = []
    relation = nil
    background = nil
    if let on = words.firstIndex(of: "on"), on + 2 < words.count, words.last == "background" {
      background = words[on + 2]
      words = Array(words[..<on])
    }
    var i = 0
    func group() throws -> Group {
      guard i + 3 < words.count, let n = CaptionGrammar.numbers.firstIndex(of: words[i]) else {
        throw DatasetError("cannot read a group at word \(i) of \"\(caption)\"")
      }
      let g = Group(count: n + 1, size: words[i + 1], color: words[i + 2], kind: Self.singular(words[i + 3]))
      i += 4
      return g
    }
    groups.append(try group())
    if i < words.count {
      let rest = words[i...].joined(separator: " ")
      for r in ["above", "below", "to the left of", "to the right of", "and", "with"] where rest.hasPrefix(r + " ") {
        relation = ["and", "with"].contains(r) ? nil : r
        i += r.split(separator: " ").count
        break
      }
      groups.append(try group())
    }
  }

  static func singular(_ noun: String) -> String {
    if noun == "crosses" { return "cross" }
    return noun.hasSuffix("s") && noun != "cross" ? String(noun.dropLast()) : noun
  }
}
