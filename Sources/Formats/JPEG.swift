// JPEG: reading baseline/progressive 8-bit gray and RGB JPEGs through libjpeg(-turbo).
// libjpeg's error exits longjmp only inside the C shim (Sources/CJPEG/shim.h); Swift sees an error string.
import CJPEG

/// JPEG files through libjpeg.
public enum JPEG {
  /// Reads a JPEG file as 8-bit gray (1 channel) or RGB (3 channels). CMYK/YCCK files are rejected.
  public static func read(_ path: String) throws -> Image {
    try decode(readFileBytes(path, limit: 1 << 30), file: path)
  }

  /// Decodes JPEG bytes. Recoverable corruption (libjpeg warnings, e.g. a truncated scan) still yields an image.
  /// Images whose decoded size would exceed `maxBytes` are rejected before decoding.
  public static func decode(_ bytes: [UInt8], file: String = "<memory>", maxBytes: Int = PNG.maxDecodedBytes) throws
    -> Image
  {
    var result = aptp_jpeg_image()
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        aptp_jpeg_decode(buffer.baseAddress, buffer.count, max(0, maxBytes), &result, text.baseAddress, text.count)
      }
    }
    guard status == 0, let pixels = result.pixels else {
      throw FormatError(.image, file: file, "cannot decode JPEG: " + decodeCString(message))
    }
    defer { aptp_jpeg_free(pixels) }
    let data = Array(UnsafeRawBufferPointer(start: pixels, count: result.byte_count))
    return try Image(width: Int(result.width), height: Int(result.height), channels: Int(result.channels), pixels: data)
  }
}
