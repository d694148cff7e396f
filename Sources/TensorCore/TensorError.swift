// TensorError: the one error type every tensor op throws, naming the op, the shapes and what was expected.

/// An error raised by a tensor operation. It never carries a script position: callers add that.
public struct TensorError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What went wrong, broadly.
  public enum Kind: String, Sendable {
    case shape, dtype, argument, index, state
  }
  public let kind: Kind
  /// The operation that failed (`matmul`, `conv2d`, ...).
  public let op: String
  /// A sentence naming the shapes or values involved and what was expected.
  public let message: String

  public init(_ kind: Kind, op: String, _ message: String) {
    self.kind = kind
    self.op = op
    self.message = message
  }

  public var description: String { "\(op): \(message)" }

  static func shape(_ op: String, _ message: String) -> TensorError { .init(.shape, op: op, message) }
  static func argument(_ op: String, _ message: String) -> TensorError { .init(.argument, op: op, message) }
  static func dtype(_ op: String, _ message: String) -> TensorError { .init(.dtype, op: op, message) }
}

/// Formats a shape the way error messages and summaries show it: `[2,5]`.
@inlinable
public func shapeString(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ",") + "]"
}
