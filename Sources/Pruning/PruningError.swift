// PruningError: the error type of the Pruning layer, naming the file, config key or vector and what was expected.

/// An error raised while deriving gate structures, routing, training or loading pruning runs.
public struct PruningError: Error, CustomStringConvertible, Sendable {
  public let file: String?
  public let message: String

  public init(file: String? = nil, _ message: String) {
    self.file = file
    self.message = message
  }

  public var description: String { file.map { "\($0): \(message)" } ?? message }
}
