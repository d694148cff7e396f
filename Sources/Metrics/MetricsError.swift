// MetricsError: the error type of the Metrics layer, naming what was wrong with the features or settings.

/// An error raised by a metric: mismatched feature widths, too few samples, a failed decomposition.
public struct MetricsError: Error, CustomStringConvertible, Sendable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
