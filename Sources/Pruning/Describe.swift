// Describe: a compact terminal chart of what an architecture code keeps, block by block.

import Foundation

extension GateStructure {
  /// One line per gated sub-block: kept channel groups / heads / feed-forward groups as bars and
  /// counts, and whether its depth gate keeps it (values ≥ 0.5 count as kept).
  public func describe(_ code: [Float], barWidth: Int = 12) throws -> String {
    guard code.count == length else { throw PruningError("an architecture code has \(length) values, got \(code.count)") }
    func kept(_ start: Int, _ width: Int) -> Int { (start..<(start + width)).filter { code[$0] >= 0.5 }.count }
    func bar(_ k: Int, _ n: Int) -> String {
      let filled = n == 0 ? 0 : Int((Double(k) / Double(n) * Double(barWidth)).rounded())
      return String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
    }
    let nameWidth = entries.map(\.module.count).max() ?? 0
    var lines: [String] = []
    var totalKept = 0
    for e in entries {
      var parts: [String] = []
      var column = e.widthOffset
      let labels = e.kind == .resnet ? ["groups"] : ["heads", "xheads", "ff"]
      for (label, w) in zip(labels, e.widths) {
        let k = kept(column, w)
        totalKept += k
        parts.append("\(label) \(bar(k, w)) \(k)/\(w)")
        column += w
      }
      if let d = e.depthColumn { parts.append(code[d] >= 0.5 ? "kept" : "SKIPPED") }
      lines.append(e.module.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  " + parts.joined(separator: "  "))
    }
    lines.append("width groups kept: \(totalKept)/\(sumWidth); depth gates on: \((sumWidth..<length).filter { code[$0] >= 0.5 }.count)/\(depthCount)")
    return lines.joined(separator: "\n")
  }
}
