// ShapesScene: the shapes world's vocabulary and scene description — objects, colours, sizes, layouts, relations.

import TensorCore

/// The shapes the world draws.
public enum ShapeKind: String, CaseIterable, Sendable {
  case circle, square, triangle, star, ring, cross, diamond, heart
  var plural: String { rawValue == "cross" ? "crosses" : rawValue + "s" }
}

/// Named colours and their RGB values.
public enum ShapeColor: String, CaseIterable, Sendable {
  case red, green, blue, yellow, orange, purple, pink, cyan, white, brown
  var rgb: (Float, Float, Float) {
    switch self {
    case .red: return (0.86, 0.12, 0.12)
    case .green: return (0.15, 0.70, 0.20)
    case .blue: return (0.15, 0.30, 0.90)
    case .yellow: return (0.95, 0.85, 0.10)
    case .orange: return (0.98, 0.55, 0.08)
    case .purple: return (0.55, 0.20, 0.75)
    case .pink: return (0.98, 0.50, 0.72)
    case .cyan: return (0.10, 0.82, 0.88)
    case .white: return (0.97, 0.97, 0.97)
    case .brown: return (0.50, 0.30, 0.12)
    }
  }
}

/// Backgrounds, named in captions when not plain black.
public enum ShapeBackground: String, CaseIterable, Sendable {
  case black, dark, gray, light
  var rgb: (Float, Float, Float) {
    switch self {
    case .black: return (0.02, 0.02, 0.02)
    case .dark: return (0.16, 0.17, 0.22)
    case .gray: return (0.48, 0.48, 0.50)
    case .light: return (0.88, 0.87, 0.82)
    }
  }
}

public enum ShapeSize: String, Sendable { case small, large }

/// One object: kind, colour, size and its centre and radius in [0, 1] image coordinates.
public struct ShapeObject: Sendable, Equatable {
  public var kind: ShapeKind
  public var color: ShapeColor
  public var size: ShapeSize
  public var x: Float, y: Float, radius: Float
  public var rotation: Float
}

/// How two objects are placed relative to each other (captions say so).
public enum ShapeRelation: String, Sendable {
  case above, below
  case leftOf = "to the left of"
  case rightOf = "to the right of"
}

/// A generated scene: objects, background, an optional relation between the first two
/// described groups, and the caption.
public struct ShapesScene: Sendable {
  public var objects: [ShapeObject]
  public var background: ShapeBackground
  public var relation: ShapeRelation?
  public var caption: String
  /// Objects + attributes mentioned + relations: how much the prompt asks of a model.
  public var complexity: Int
}
