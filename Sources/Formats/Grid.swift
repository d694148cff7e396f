// Grid: lays images out in a labelled grid (labels drawn with the built-in bitmap font) and writes it as PNG.

/// Builds image grids such as a prompt x expert sample sheet.
public enum ImageGrid {
  /// Spacing, colours and label layout.
  public struct Style: Sendable {
    /// Pixels between tiles and around the grid.
    public var padding = 4
    /// RGB colour behind and between tiles.
    public var background: [UInt8] = [255, 255, 255]
    /// RGB colour of label text.
    public var textColor: [UInt8] = [0, 0, 0]
    /// Font scale (1 = 5x7 pixel glyphs).
    public var labelScale = 1
    /// Labels wrap at word boundaries onto at most this many lines; longer text ends with "..".
    public var maxLabelLines = 2

    /// The default style: 4 px padding, white background, black 5x7 labels on up to two lines.
    public init() {}
  }

  /// Places `images` row by row, `columns` per row, in cells as large as the largest image (each image centred),
  /// with its label (if any) under it. The result is RGB; gray is expanded and alpha is composited over the background.
  public static func make(_ images: [Image], columns: Int, labels: [String]? = nil, style: Style = Style()) throws
    -> Image
  {
    guard !images.isEmpty else { throw FormatError(.image, file: "<grid>", "a grid needs at least one image") }
    guard columns > 0 else { throw FormatError(.image, file: "<grid>", "columns must be positive, not \(columns)") }
    if let labels, labels.count != images.count {
      throw FormatError(.image, file: "<grid>", "\(labels.count) labels for \(images.count) images; give one label per image")
    }
    let cellWidth = images.map(\.width).max() ?? 0
    let cellHeight = images.map(\.height).max() ?? 0
    let scale = max(1, style.labelScale)
    let maxChars = max(1, (cellWidth + scale) / (BitmapFont.advance * scale))
    let wrapped = labels?.map { wrap($0, width: maxChars, lines: max(1, style.maxLabelLines)) }
    let lineCount = wrapped?.map(\.count).max() ?? 0
    let labelHeight = lineCount == 0 ? 0 : lineCount * BitmapFont.lineHeight * scale + scale
    let rows = (images.count + columns - 1) / columns
    let usedColumns = min(columns, images.count)
    let pad = max(0, style.padding)
    let width = pad + usedColumns * (cellWidth + pad)
    let height = pad + rows * (cellHeight + labelHeight + pad)
    var grid = try Image(width: width, height: height, channels: 3)
    let background = (0..<3).map { style.background.isEmpty ? 255 : style.background[min($0, style.background.count - 1)] }
    for i in 0..<(width * height) { for c in 0..<3 { grid.pixels[i * 3 + c] = background[c] } }
    for (index, image) in images.enumerated() {
      let cellX = pad + (index % columns) * (cellWidth + pad)
      let cellY = pad + (index / columns) * (cellHeight + labelHeight + pad)
      paste(image, into: &grid, x: cellX + (cellWidth - image.width) / 2, y: cellY + (cellHeight - image.height) / 2,
            background: background)
      for (line, text) in (wrapped?[index] ?? []).enumerated() {
        let textX = cellX + max(0, (cellWidth - BitmapFont.width(of: text, scale: scale)) / 2)
        let textY = cellY + cellHeight + scale + line * BitmapFont.lineHeight * scale
        BitmapFont.draw(text, into: &grid, x: textX, y: textY, color: style.textColor, scale: scale)
      }
    }
    return grid
  }

  /// Builds the grid and writes it as PNG, atomically.
  public static func write(
    _ images: [Image], columns: Int, labels: [String]? = nil, style: Style = Style(), to path: String
  ) throws {
    try PNG.write(make(images, columns: columns, labels: labels, style: style), to: path)
  }

  private static func paste(_ image: Image, into grid: inout Image, x: Int, y: Int, background: [UInt8]) {
    for row in 0..<image.height {
      for col in 0..<image.width {
        let src = (row * image.width + col) * image.channels
        let dst = ((y + row) * grid.width + x + col) * 3
        let alpha = image.hasAlpha ? Int(image.pixels[src + image.channels - 1]) : 255
        for c in 0..<3 {
          let v = Int(image.channels >= 3 ? image.pixels[src + c] : image.pixels[src])
          grid.pixels[dst + c] = UInt8((v * alpha + Int(background[c]) * (255 - alpha) + 127) / 255)
        }
      }
    }
  }

  /// Word-wraps `text` into at most `lines` lines of at most `width` characters.
  static func wrap(_ text: String, width: Int, lines: Int) -> [String] {
    var out: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
      var word = word
      while word.count > width {
        if !current.isEmpty {
          out.append(current)
          current = ""
        }
        out.append(String(word.prefix(width)))
        word = String(word.dropFirst(width))
      }
      if current.isEmpty {
        current = word
      } else if current.count + 1 + word.count <= width {
        current += " " + word
      } else {
        out.append(current)
        current = word
      }
    }
    if !current.isEmpty { out.append(current) }
    guard out.count > lines else { return out }
    var kept = Array(out.prefix(lines))
    let last = kept[lines - 1]
    kept[lines - 1] = (last.count + 2 <= width ? last : String(last.prefix(max(0, width - 2)))) + ".."
    return kept
  }
}
