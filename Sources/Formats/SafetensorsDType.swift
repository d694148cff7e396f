// SafetensorsDType: the element types of safetensors files and the scalar conversions to Float and Int64.

/// An element type as spelled in a safetensors header.
public enum SafetensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
  case f64 = "F64"
  case f32 = "F32"
  case f16 = "F16"
  case bf16 = "BF16"
  case i64 = "I64"
  case i32 = "I32"
  case i16 = "I16"
  case i8 = "I8"
  case u8 = "U8"
  case bool = "BOOL"

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .f64, .i64: return 8
    case .f32, .i32: return 4
    case .f16, .bf16, .i16: return 2
    case .i8, .u8, .bool: return 1
    }
  }

  /// True for floating-point types.
  public var isFloatingPoint: Bool { self == .f64 || self == .f32 || self == .f16 || self == .bf16 }

  /// The engine element type values of this dtype convert to: Float32 for floats, Int64 for integers and bools.
  public var engineType: EngineElementType { isFloatingPoint ? .float32 : .int64 }

  public var description: String { rawValue }

  /// The header spellings, for error messages.
  static let spellings = allCases.map(\.rawValue).joined(separator: ", ")
}

/// The two element types the tensor engine computes with.
public enum EngineElementType: String, Sendable {
  case float32, int64
}

/// Scalar conversions between float formats.
public enum FloatBits {
  /// The Float whose upper 16 bits are `bits` (bfloat16 is a truncated Float32).
  @inline(__always)
  public static func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

  /// Rounds a Float to bfloat16 with round-to-nearest-even, as PyTorch does; NaN becomes 0x7FC0 like PyTorch's.
  @inline(__always)
  public static func floatToBFloat16(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return 0x7FC0 }
    let rounding = UInt32(0x7FFF) &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
  }

  /// The Float value of IEEE half-precision bits (table lookup: exact, and much faster than converting in software).
  @inline(__always)
  public static func halfToFloat(_ bits: UInt16) -> Float { halfTable[Int(bits)] }

  /// Every half-precision value as a Float, built once on first use (256 KB).
  static let halfTable: [Float] = (0...0xFFFF).map { Float(Float16(bitPattern: UInt16($0))) }

  /// Rounds a Float to IEEE half precision (round-to-nearest-even; overflow becomes infinity).
  @inline(__always)
  public static func floatToHalf(_ value: Float) -> UInt16 { Float16(value).bitPattern }
}

extension SafetensorsDType {
  /// Converts `count` little-endian elements at `source` (any alignment) to Float, writing to `out`.
  func convertToFloat(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
    switch self {
    case .f32:
      UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4)
    case .f16:
      FloatBits.halfTable.withUnsafeBufferPointer { table in
        for i in 0..<count { out[i] = table[Int(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))] }
      }
    case .bf16:
      for i in 0..<count { out[i] = FloatBits.bfloat16ToFloat(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    case .f64:
      for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
    case .i64:
      for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
    case .i32:
      for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
    case .i16:
      for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
    case .i8:
      for i in 0..<count { out[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
    case .u8:
      for i in 0..<count { out[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
    case .bool:
      for i in 0..<count { out[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
    }
  }

  /// Converts `count` little-endian integer or bool elements at `source` to Int64. Float dtypes are not handled here.
  func convertToInt64(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Int64>) {
    switch self {
    case .i64:
      UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 8)
    case .i32:
      for i in 0..<count { out[i] = Int64(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
    case .i16:
      for i in 0..<count { out[i] = Int64(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
    case .i8:
      for i in 0..<count { out[i] = Int64(source.load(fromByteOffset: i, as: Int8.self)) }
    case .u8:
      for i in 0..<count { out[i] = Int64(source.load(fromByteOffset: i, as: UInt8.self)) }
    case .bool:
      for i in 0..<count { out[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
    case .f64, .f32, .f16, .bf16:
      break
    }
  }
}
