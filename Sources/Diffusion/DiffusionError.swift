// DiffusionError: the error type of the Diffusion layer, naming the file, block or tensor and what was expected.

/// An error raised while building, loading or running a diffusion model, scheduler or pipeline.
public struct DiffusionError: Error, CustomStringConvertible, Sendable {
  /// The file or folder the error is about, if any.
  public let file: String?
  public let message: String

  public init(file: String? = nil, _ message: String) {
    self.file = file
    self.message = message
  }

  public var description: String { file.map { "\($0): \(message)" } ?? message }
}
