// PNG: reading (8/16-bit gray, gray+alpha, RGB, RGBA, palette, interlaced) and writing through libpng.
// All setjmp/longjmp handling lives in C (Sources/CPNG/shim.h); Swift only sees return codes.
import CPNG

/// An image as decoded: 8-bit or 16-bit samples.
public enum DecodedImage: Sendable, Equatable {
  case uint8(Image)
  case uint16(Image16)

  /// The 8-bit image (16-bit samples keep their high byte).
  public var image8: Image {
    switch self {
    case .uint8(let image): return image
    case .uint16(let image): return image.image8
    }
  }

  /// The 16-bit image (8-bit samples widened by `v * 257`, so 255 maps to 65535).
  public var image16: Image16 {
    switch self {
    case .uint16(let image): return image
    case .uint8(let image):
      return Image16(unchecked: image.width, image.height, image.channels, image.pixels.map { UInt16($0) * 257 })
    }
  }

  /// 8 or 16.
  public var bitDepth: Int {
    if case .uint16 = self { return 16 }
    return 8
  }
}

extension Image16 {
  /// Internal: geometry already checked.
  init(unchecked width: Int, _ height: Int, _ channels: Int, _ samples: [UInt16]) {
    self.width = width
    self.height = height
    self.channels = channels
    self.samples = samples
  }
}

/// PNG files through libpng.
public enum PNG {
  /// Largest decoded image accepted, in bytes.
  public static let maxDecodedBytes = 1 << 30

  /// Reads a PNG as 8-bit samples (16-bit files keep each sample's high byte).
  public static func read(_ path: String) throws -> Image {
    try decode(readFileBytes(path, limit: 1 << 30), file: path).image8
  }

  /// Reads a PNG keeping 16-bit samples when the file has them.
  public static func readAny(_ path: String) throws -> DecodedImage {
    try decode(readFileBytes(path, limit: 1 << 30), file: path)
  }

  /// Decodes PNG bytes. Palette images become RGB (RGBA with tRNS), low-bit gray becomes 8-bit,
  /// interlacing is undone; no gamma or colour-space conversion is applied. Images whose decoded size would
  /// exceed `maxBytes` are rejected before any pixel memory is allocated.
  public static func decode(_ bytes: [UInt8], file: String = "<memory>", maxBytes: Int = maxDecodedBytes) throws
    -> DecodedImage
  {
    var result = aptp_png_image()
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        aptp_png_decode(buffer.baseAddress, buffer.count, max(0, maxBytes), &result, text.baseAddress, text.count)
      }
    }
    guard status == 0, let pixels = result.pixels else {
      throw FormatError(.image, file: file, "cannot decode PNG: " + decodeCString(message))
    }
    defer { aptp_png_free(pixels) }
    let width = Int(result.width), height = Int(result.height), channels = Int(result.channels)
    let raw = UnsafeRawBufferPointer(start: pixels, count: result.byte_count)
    if result.bit_depth == 16 {
      let samples = [UInt16](unsafeUninitializedCapacity: raw.count / 2) { out, count in
        for i in 0..<(raw.count / 2) { out[i] = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) }
        count = raw.count / 2
      }
      return .uint16(try Image16(width: width, height: height, channels: channels, samples: samples))
    }
    return .uint8(try Image(width: width, height: height, channels: channels, pixels: Array(raw)))
  }

  /// Encodes an 8-bit image (1-4 channels) as PNG bytes.
  public static func encode(_ image: Image, compressionLevel: Int = 6) throws -> [UInt8] {
    try image.pixels.withUnsafeBytes { raw in
      try encode(raw, width: image.width, height: image.height, channels: image.channels, bitDepth: 8, level: compressionLevel)
    }
  }

  /// Encodes a 16-bit image (1-4 channels) as PNG bytes.
  public static func encode(_ image: Image16, compressionLevel: Int = 6) throws -> [UInt8] {
    try image.samples.withUnsafeBytes { raw in
      try encode(raw, width: image.width, height: image.height, channels: image.channels, bitDepth: 16, level: compressionLevel)
    }
  }

  /// Writes an 8-bit image (gray, gray+alpha, RGB, RGBA) as PNG, atomically.
  public static func write(_ image: Image, to path: String, compressionLevel: Int = 6) throws {
    do {
      try AtomicFile.write(to: path, bytes: encode(image, compressionLevel: compressionLevel))
    } catch let error as FormatError where error.file == "<memory>" {
      throw FormatError(error.kind, file: path, subject: error.subject, error.message)
    }
  }

  /// Writes a 16-bit image as PNG, atomically.
  public static func write(_ image: Image16, to path: String, compressionLevel: Int = 6) throws {
    try AtomicFile.write(to: path, bytes: encode(image, compressionLevel: compressionLevel))
  }

  private static func encode(
    _ raw: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int, bitDepth: Int, level: Int
  ) throws -> [UInt8] {
    guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24, let base = raw.baseAddress else {
      throw FormatError(.image, file: "<memory>", "cannot write a \(width)x\(height) PNG; both sides must be 1...16777216")
    }
    var buffer = aptp_png_buffer()
    var message = [CChar](repeating: 0, count: 256)
    let status = message.withUnsafeMutableBufferPointer { text in
      aptp_png_encode(
        base.assumingMemoryBound(to: UInt8.self), UInt32(width), UInt32(height), Int32(channels), Int32(bitDepth),
        Int32(max(0, min(9, level))), &buffer, text.baseAddress, text.count)
    }
    guard status == 0, let data = buffer.data else {
      throw FormatError(.image, file: "<memory>", "cannot encode PNG: " + decodeCString(message))
    }
    defer { aptp_png_free(data) }
    return Array(UnsafeRawBufferPointer(start: data, count: buffer.size))
  }
}

/// A NUL-terminated C message buffer as a String.
func decodeCString(_ buffer: [CChar]) -> String {
  let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
