// NPY: reading NumPy .npy images (the original's generated images are uint8 [H, W, 3] arrays).

import Foundation

/// A minimal `.npy` reader for C-ordered uint8 and float32 arrays of rank 2 or 3 (images).
public enum NPY {
  /// The array as an 8-bit image: uint8 [H, W, C] as is; float32 in [0, 1] scaled to 0-255.
  public static func readImage(_ path: String) throws -> Image {
    let bytes = try readFileBytes(path, limit: 1 << 30)
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
      throw FormatError(.image, file: path, "not a .npy file (bad magic)")
    }
    let major = bytes[6]
    let headerLength: Int, start: Int
    if major == 1 {
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      start = 10
    } else {
      guard bytes.count >= 12 else { throw FormatError(.image, file: path, "truncated .npy header") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      start = 12
    }
    guard start + headerLength <= bytes.count else { throw FormatError(.image, file: path, "truncated .npy header") }
    let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
    guard !header.contains("'fortran_order': True") else { throw FormatError(.image, file: path, "Fortran-ordered arrays are not supported") }
    let shape = try parseShape(header, path)
    guard shape.count == 2 || shape.count == 3, let h = shape.first, h > 0, shape[1] > 0 else {
      throw FormatError(.image, file: path, "expected an image array [H, W] or [H, W, C], found shape \(shape)")
    }
    let (w, c) = (shape[1], shape.count == 3 ? shape[2] : 1)
    guard [1, 3, 4].contains(c) else { throw FormatError(.image, file: path, "expected 1, 3 or 4 channels, found \(c)") }
    let count = h * w * c, data = start + headerLength
    if header.contains("'|u1'") || header.contains("'u1'") {
      guard data + count <= bytes.count else { throw FormatError(.image, file: path, "data is shorter than the shape \(shape)") }
      return try Image(width: w, height: h, channels: c, pixels: Array(bytes[data..<(data + count)]))
    }
    if header.contains("'<f4'") {
      guard data + count * 4 <= bytes.count else { throw FormatError(.image, file: path, "data is shorter than the shape \(shape)") }
      var pixels = [UInt8](repeating: 0, count: count)
      for i in 0..<count {
        let o = data + i * 4
        let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
        let v = Float(bitPattern: bits)
        pixels[i] = UInt8(max(0, min(255, (v.isFinite ? v : 0) * 255 + 0.5)))
      }
      return try Image(width: w, height: h, channels: c, pixels: pixels)
    }
    throw FormatError(.image, file: path, "unsupported dtype in \(header.prefix(80)) (uint8 or little-endian float32)")
  }

  static func parseShape(_ header: String, _ path: String) throws -> [Int] {
    guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
      throw FormatError(.image, file: path, "the .npy header has no shape")
    }
    return try header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
      guard let v = Int($0), v >= 0 else { throw FormatError(.image, file: path, "bad shape entry '\($0)'") }
      return v
    }
  }
}
