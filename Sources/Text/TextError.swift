// TextError: the error type of the Text layer, naming the file or prompt and what was expected.

/// An error raised while loading a tokenizer or text model, or encoding text.
public struct TextError: Error, CustomStringConvertible, Sendable {
  /// The file or folder the error is about, if any.
  public let file: String?
  public let message: String

  public init(file: String? = nil, _ message: String) {
    self.file = file
    self.message = message
  }

  public var description: String { file.map { "\($0): \(message)" } ?? message }
}
