// Storage: the reference-counted, 64-byte aligned buffer that tensors view.

/// Element type of a tensor. The engine computes in Float32; Int64 holds ids and indices.
public enum DType: String, Sendable, CustomStringConvertible {
  case float32, int64
  /// Bytes per element.
  public var size: Int { self == .float32 ? 4 : 8 }
  public var description: String { self == .float32 ? "f32" : "i64" }
}

/// A flat buffer of elements shared by a tensor and its views.
public final class Storage: @unchecked Sendable {
  public let dtype: DType
  public let count: Int
  /// Raw bytes; typed access through `floats` / `ints`.
  public let raw: UnsafeMutableRawPointer

  /// Allocates `count` zero-filled elements.
  public init(count: Int, dtype: DType, zeroed: Bool = true) {
    _ = Runtime.allocatorConfigured
    self.dtype = dtype
    self.count = count
    let bytes = Swift.max(count * dtype.size, 64)
    raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    if zeroed { raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
  }

  deinit { raw.deallocate() }

  public var floats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
  public var ints: UnsafeMutablePointer<Int64> { raw.assumingMemoryBound(to: Int64.self) }
}

/// `count` uninitialised floats on a 64-byte boundary, so that the vector kernels' scratch planes
/// start on cache lines (an unaligned plane splits every 64-byte load and store in two); free with
/// `deallocate()`.
func alignedFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
  let n = Swift.max(count, 16)
  return UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
}
