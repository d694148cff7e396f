// Chart: small line and bar charts as images — axes, ticks, labels, legend — for run logs and ablation tables.

/// Draws charts with the built-in bitmap font; no external plotting library.
public enum Chart {
  public static let palette: [[UInt8]] = [
    [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194],
    [127, 127, 127], [188, 189, 34], [23, 190, 207],
  ]

  /// A line chart of named series over x (one x value per point; series may differ in length).
  /// Each series can be drawn in its own panel (`panels: true`), useful when scales differ;
  /// `markers` draws a square at every point (a scatter plot when each series has one point).
  public static func lines(
    _ series: [(name: String, x: [Double], y: [Double])], title: String, width: Int = 640, panelHeight: Int = 160, panels: Bool = true,
    markers: Bool = false
  ) throws -> Image {
    guard !series.isEmpty else { throw FormatError(.image, file: "<chart>", "a line chart needs at least one series") }
    let groups: [[(name: String, x: [Double], y: [Double])]] = panels ? series.map { [$0] } : [series]
    let top = 14, gap = 10
    let height = top + groups.count * (panelHeight + gap)
    var canvas = Canvas(width: width, height: height)
    BitmapFont.draw(title, into: &canvas.image, x: 6, y: 3, color: [0, 0, 0])
    for (g, group) in groups.enumerated() {
      let frame = (x: 56, y: top + g * (panelHeight + gap) + 4, w: width - 66, h: panelHeight - 22)
      let xs = group.flatMap(\.x), ys = group.flatMap { $0.y.filter(\.isFinite) }
      let (x0, x1) = range(xs), (y0, y1) = range(ys)
      canvas.axes(frame, xRange: (x0, x1), yRange: (y0, y1))
      for (k, s) in group.enumerated() {
        let color = palette[(panels ? g : k) % palette.count]
        var previous: (Int, Int)? = nil
        for (xv, yv) in zip(s.x, s.y) where yv.isFinite {
          let px = frame.x + Int(Double(frame.w) * (xv - x0) / max(x1 - x0, 1e-12))
          let py = frame.y + frame.h - Int(Double(frame.h) * (yv - y0) / max(y1 - y0, 1e-12))
          if let p = previous { canvas.line(p.0, p.1, px, py, color) } else { canvas.dot(px, py, color) }
          if markers { canvas.rect(px - 2, py - 2, 5, 5, color) }
          previous = (px, py)
        }
        BitmapFont.draw(s.name, into: &canvas.image, x: frame.x + 4, y: frame.y + 2 + k * BitmapFont.lineHeight, color: color)
      }
    }
    return canvas.image
  }

  /// A bar chart: one bar per label.
  public static func bars(_ labels: [String], _ values: [Double], title: String, width: Int = 480, height: Int = 220) throws -> Image {
    guard !labels.isEmpty, labels.count == values.count else {
      throw FormatError(.image, file: "<chart>", "a bar chart needs one value per label (\(labels.count) labels, \(values.count) values)")
    }
    var canvas = Canvas(width: width, height: height)
    BitmapFont.draw(title, into: &canvas.image, x: 6, y: 3, color: [0, 0, 0])
    let frame = (x: 56, y: 18, w: width - 66, h: height - 44)
    let top = max(values.filter(\.isFinite).max() ?? 1, 1e-12)
    canvas.axes(frame, xRange: nil, yRange: (0, top))
    let slot = frame.w / labels.count
    for (i, (label, v)) in zip(labels, values).enumerated() {
      let barHeight = v.isFinite ? Int(Double(frame.h) * max(v, 0) / top) : 0
      let x = frame.x + i * slot + slot / 6
      canvas.rect(x, frame.y + frame.h - barHeight, max(slot * 2 / 3, 1), barHeight, palette[i % palette.count])
      let text = String(label.prefix(max(1, slot / BitmapFont.advance)))
      BitmapFont.draw(text, into: &canvas.image, x: frame.x + i * slot + max(0, (slot - BitmapFont.width(of: text)) / 2), y: frame.y + frame.h + 4, color: [0, 0, 0])
    }
    return canvas.image
  }

  static func range(_ v: [Double]) -> (Double, Double) {
    let finite = v.filter(\.isFinite)
    guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
    return lo == hi ? (lo - 0.5, hi + 0.5) : (lo, hi)
  }

  /// A compact number for tick labels.
  static func label(_ v: Double) -> String {
    let a = abs(v)
    if a != 0 && (a >= 1e5 || a < 1e-2) {
      let e = Int((log10Approx(a)).rounded(.down))
      let m = v / pow10(e)
      return "\((m * 10).rounded() / 10)e\(e)"
    }
    let r = (v * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : String(r)
  }

  static func pow10(_ e: Int) -> Double { e >= 0 ? (0..<e).reduce(1) { r, _ in r * 10 } : 1 / pow10(-e) }
  static func log10Approx(_ a: Double) -> Double {
    var e = 0.0, x = a
    while x >= 10 { x /= 10; e += 1 }
    while x < 1 { x *= 10; e -= 1 }
    return e
  }
}

/// An RGB drawing surface with lines, rectangles and axes.
struct Canvas {
  var image: Image

  init(width: Int, height: Int) {
    image = Image(unchecked: width, height, 3, [UInt8](repeating: 255, count: width * height * 3))
  }

  mutating func dot(_ x: Int, _ y: Int, _ c: [UInt8]) {
    guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
    let i = (y * image.width + x) * 3
    image.pixels[i] = c[0]
    image.pixels[i + 1] = c[1]
    image.pixels[i + 2] = c[2]
  }

  mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: [UInt8]) {
    let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    for s in 0...steps {
      dot(x0 + (x1 - x0) * s / steps, y0 + (y1 - y0) * s / steps, c)
    }
  }

  mutating func rect(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: [UInt8]) {
    guard w > 0, h > 0 else { return }
    for yy in y..<(y + h) { for xx in x..<(x + w) { dot(xx, yy, c) } }
  }

  /// The frame's left and bottom axes with 5 y ticks (and 5 x ticks when a range is given).
  mutating func axes(_ f: (x: Int, y: Int, w: Int, h: Int), xRange: (Double, Double)?, yRange: (Double, Double)) {
    let black: [UInt8] = [0, 0, 0], grid: [UInt8] = [225, 225, 225]
    for k in 0...4 {
      let y = f.y + f.h - f.h * k / 4
      line(f.x, y, f.x + f.w, y, grid)
      let v = yRange.0 + (yRange.1 - yRange.0) * Double(k) / 4
      let text = Chart.label(v)
      BitmapFont.draw(text, into: &image, x: max(0, f.x - 4 - BitmapFont.width(of: text)), y: y - 3, color: black)
    }
    if let xr = xRange {
      for k in 0...4 {
        let x = f.x + f.w * k / 4
        line(x, f.y + f.h, x, f.y + f.h + 3, black)
        let text = Chart.label(xr.0 + (xr.1 - xr.0) * Double(k) / 4)
        BitmapFont.draw(text, into: &image, x: max(0, x - BitmapFont.width(of: text) / 2), y: f.y + f.h + 5, color: black)
      }
    }
    line(f.x, f.y, f.x, f.y + f.h, black)
    line(f.x, f.y + f.h, f.x + f.w, f.y + f.h, black)
  }
}
