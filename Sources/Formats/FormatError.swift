// FormatError: the one error type of the Formats layer, naming the file, the tensor or key, and what was expected.

/// An error raised while reading, validating or writing a file.
///
/// The description reads `file: tensor 'name': message` (or `key 'a.b'`, `shard 'x'`, ...),
/// where the message says what was found and what was expected.
public struct FormatError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What went wrong, broadly.
  public enum Kind: String, Sendable {
    /// The file could not be opened, read, mapped or written.
    case io
    /// The safetensors header is malformed (length, JSON, structure).
    case header
    /// A dtype is unknown or unsupported for the requested operation.
    case dtype
    /// A shape is invalid or does not match the data.
    case shape
    /// Byte offsets are out of range, overlapping or leave holes.
    case offsets
    /// A name appears twice.
    case duplicate
    /// `__metadata__` or index metadata is malformed.
    case metadata
    /// A sharded checkpoint is inconsistent (missing shard, missing name).
    case shard
    /// JSON text is malformed.
    case json
    /// YAML text is malformed.
    case yaml
    /// A configuration value has the wrong type or an invalid value.
    case config
    /// An image is malformed or has an unsupported layout.
    case image
    /// A folder does not have a recognised layout.
    case layout
  }

  /// The category, for callers that branch on it.
  public let kind: Kind
  /// The file the error is about (as given by the caller), or `"<memory>"` for in-memory data.
  public let file: String
  /// The item within the file, already labelled: `tensor 'a.weight'`, `key 'training.lr'`, ...
  public let subject: String?
  /// What was found and what was expected.
  public let message: String

  /// An error about `file` (and `subject` within it).
  public init(_ kind: Kind, file: String, subject: String? = nil, _ message: String) {
    self.kind = kind
    self.file = file
    self.subject = subject
    self.message = message
  }

  /// An error about one tensor of a safetensors file.
  public static func tensor(_ kind: Kind, file: String, _ name: String, _ message: String) -> FormatError {
    FormatError(kind, file: file, subject: "tensor '\(name)'", message)
  }

  /// An error about one key of a config or JSON document.
  public static func key(_ kind: Kind, file: String, _ path: String, _ message: String) -> FormatError {
    FormatError(kind, file: file, subject: "key '\(path)'", message)
  }

  public var description: String {
    if let subject { return "\(file): \(subject): \(message)" }
    return "\(file): \(message)"
  }
}

/// Formats a shape the way error messages show it: `[2,5]`.
func shapeText(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ",") + "]"
}
