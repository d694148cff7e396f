// ShapesRenderer: anti-aliased drawing of shapes scenes (4x4 supersampled coverage per pixel).

import Foundation
import Formats

/// Rasterises scenes: a flat background, then each object blended by its pixel coverage.
struct ShapesRenderer {
  let resolution: Int
  static let subsamples = 4

  func render(_ scene: ShapesScene) throws -> Image {
    let r = resolution
    var rgb = [Float](repeating: 0, count: r * r * 3)
    let bg = scene.background.rgb
    for p in 0..<(r * r) { (rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]) = bg }
    for o in scene.objects { draw(o, into: &rgb) }
    let pixels = rgb.map { UInt8(Swift.max(0, Swift.min(255, ($0 * 255).rounded()))) }
    return try Image(width: r, height: r, channels: 3, pixels: pixels)
  }

  func draw(_ o: ShapeObject, into rgb: inout [Float]) {
    let r = Float(resolution), n = Self.subsamples
    let x0 = Swift.max(0, Int(((o.x - o.radius) * r).rounded(.down)) - 1), x1 = Swift.min(resolution - 1, Int(((o.x + o.radius) * r).rounded(.up)) + 1)
    let y0 = Swift.max(0, Int(((o.y - o.radius) * r).rounded(.down)) - 1), y1 = Swift.min(resolution - 1, Int(((o.y + o.radius) * r).rounded(.up)) + 1)
    guard x0 <= x1, y0 <= y1 else { return }
    let color = o.color.rgb
    let (c, s) = (cosf(o.rotation), sinf(o.rotation))
    for py in y0...y1 {
      for px in x0...x1 {
        var inside = 0
        for sy in 0..<n {
          for sx in 0..<n {
            let u = (Float(px) + (Float(sx) + 0.5) / Float(n)) / r - o.x
            let v = (Float(py) + (Float(sy) + 0.5) / Float(n)) / r - o.y
            // Rotate into the shape's frame and scale to its unit radius (y grows downwards).
            let lx = (c * u + s * v) / o.radius, ly = (-s * u + c * v) / o.radius
            if Self.contains(o.kind, lx, ly) { inside += 1 }
          }
        }
        guard inside > 0 else { continue }
        let a = Float(inside) / Float(n * n), i = (py * resolution + px) * 3
        rgb[i] += (color.0 - rgb[i]) * a
        rgb[i + 1] += (color.1 - rgb[i + 1]) * a
        rgb[i + 2] += (color.2 - rgb[i + 2]) * a
      }
    }
  }

  /// Whether the point (x, y) in unit-radius coordinates lies inside the shape.
  static func contains(_ kind: ShapeKind, _ x: Float, _ y: Float) -> Bool {
    let d = (x * x + y * y).squareRoot()
    switch kind {
    case .circle: return d <= 0.95
    case .ring: return d <= 0.95 && d >= 0.55
    case .square: return abs(x) <= 0.75 && abs(y) <= 0.75
    case .diamond: return abs(x) + abs(y) <= 0.98
    case .cross: return (abs(x) <= 0.28 && abs(y) <= 0.92) || (abs(y) <= 0.28 && abs(x) <= 0.92)
    case .triangle:
      // Apex up: y from -0.9 (top) to 0.7 (base); half-width grows linearly with depth.
      guard y >= -0.9, y <= 0.7 else { return false }
      return abs(x) <= (y + 0.9) / 1.6 * 0.95
    case .star:
      let angle = atan2f(x, -y)
      let sector = Float.pi * 2 / 5
      let t = abs(angle.truncatingRemainder(dividingBy: sector)) / sector  // 0 at a point, 0.5 between points
      let local = t > 0.5 ? 1 - t : t
      let limit = 0.97 - (0.97 - 0.42) * (local / 0.5)
      return d <= limit
    case .heart:
      let hx = x * 1.15, hy = -y * 1.15 + 0.25
      let a = hx * hx + hy * hy - 1
      return a * a * a - hx * hx * hy * hy * hy <= 0
    }
  }
}
