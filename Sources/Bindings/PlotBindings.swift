// PlotBindings: the `plot` module — line and bar charts as PNG files, and text sparklines.

import Foundation
import Formats
import Script

/// ▁▂▃▄▅▆▇█ for the values (scaled between their minimum and maximum), at most `width` characters.
func sparkline(_ values: [Double], width: Int = 60) -> String {
  let finite = values.filter(\.isFinite)
  guard let lo = finite.min(), let hi = finite.max() else { return "" }
  let bars = Array("▁▂▃▄▅▆▇█")
  let step = max(1, (values.count + width - 1) / width)
  var out = ""
  for start in stride(from: 0, to: values.count, by: step) {
    let chunk = values[start..<min(start + step, values.count)].filter(\.isFinite)
    guard !chunk.isEmpty else {
      out.append(" ")
      continue
    }
    let v = chunk.reduce(0, +) / Double(chunk.count)
    out.append(bars[hi > lo ? min(bars.count - 1, Int((v - lo) / (hi - lo) * Double(bars.count - 1) + 0.5)) : 0])
  }
  return out
}

extension Arguments {
  func numbers(_ i: Int) throws -> [Double] {
    try list(i).map { v in
      guard case .number(let n) = v else { throw bad(i, "list of numbers") }
      return n
    }
  }
}

func plotModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "lines", [p("path"), p("series"), p("title", .string("")), p("panels", .bool(true)), p("markers", .bool(false))],
    doc: "Writes a PNG line chart: series maps a name to a list of numbers (x = index) or to {x: [...], y: [...]}; panels: one panel per series; markers: a square at every point (with one point per series, a scatter plot).") { a in
    var series: [(name: String, x: [Double], y: [Double])] = []
    for (key, v) in try a.map(1).entries {
      let name = key.description
      switch v {
      case .list(let l):
        let ys = try l.items.map { item -> Double in
          guard case .number(let n) = item else { throw Diagnostic(.type, "series '\(name)' must hold numbers") }
          return n
        }
        series.append((name, ys.indices.map(Double.init), ys))
      case .map(let xy):
        guard case .list(let xs)? = xy["x"], case .list(let ys)? = xy["y"] else { throw Diagnostic(.type, "series '\(name)' needs x and y lists") }
        let num = { (v: Value) throws -> Double in
          guard case .number(let n) = v else { throw Diagnostic(.type, "series '\(name)' must hold numbers") }
          return n
        }
        series.append((name, try xs.items.map(num), try ys.items.map(num)))
      default: throw Diagnostic(.type, "series '\(name)' must be a list of numbers or {x, y}")
      }
    }
    try PNG.write(try Chart.lines(series, title: try a.string(2), panels: try a.bool(3), markers: try a.bool(4)), to: try a.string(0))
    return .null
  }
  def(m, "bars", [p("path"), p("labels"), p("values"), p("title", .string(""))], doc: "Writes a PNG bar chart, one bar per label.") { a in
    let labels = try a.list(1).map { v -> String in
      if case .string(let s) = v { return s }
      return a.interpreter.displayString(v)
    }
    try PNG.write(try Chart.bars(labels, try a.numbers(2), title: try a.string(3)), to: try a.string(0))
    return .null
  }
  def(m, "sparkline", [p("values"), p("width", .number(60))], doc: "A one-line ▁▂▃▄▅▆▇█ chart of a list of numbers.") { a in
    .string(sparkline(try a.numbers(0), width: max(1, try a.int(1))))
  }
  return m
}

/// A run log's entries (one map per step).
final class LossLog {
  let entries: [ConfigMap]
  init(_ entries: [ConfigMap]) { self.entries = entries }

  /// Every numeric term except `step`, in first-seen order.
  var terms: [String] {
    var seen: [String] = []
    for e in entries { for (k, v) in e where k != "step" && v.doubleValue != nil && !seen.contains(k) { seen.append(k) } }
    return seen
  }

  func values(_ term: String) -> [Double] { entries.compactMap { $0[term]?.doubleValue } }
}

func configureLossLogType(_ ctx: BindingContext) {
  let t = ctx.lossLogType
  t.describe = { o in
    guard let log = o.payload as? LossLog else { return "<LossLog>" }
    let width = log.terms.map(\.count).max() ?? 0
    let lines = log.terms.map { term -> String in
      let v = log.values(term)
      let last = v.last.map { "\((($0 * 1e4).rounded() / 1e4))" } ?? ""
      return term.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + sparkline(v) + "  " + last
    }
    return "<LossLog \(log.entries.count) steps>\n" + lines.joined(separator: "\n")
  }
  t.length = { o in (o.payload as? LossLog)?.entries.count ?? 0 }
  t.index = { o, idx in
    guard let log = o.payload as? LossLog, idx.count == 1, case .value(.number(let n)) = idx[0], n == n.rounded() else {
      throw Diagnostic(.index, "a loss log is indexed by one integer")
    }
    let i = Int(n) < 0 ? Int(n) + log.entries.count : Int(n)
    guard i >= 0, i < log.entries.count else { throw Diagnostic(.index, "entry \(Int(n)) out of range 0..<\(log.entries.count)") }
    return scriptValue(.map(log.entries[i]))
  }
  t.iterate = { o in
    let entries = (o.payload as? LossLog)?.entries ?? []
    var i = 0
    return {
      guard i < entries.count else { return nil }
      defer { i += 1 }
      return scriptValue(.map(entries[i]))
    }
  }
  method(t, "values", [p("term")], doc: "The values of one term, step by step.") { a in
    .list(ListRef(try a.payload(LossLog.self, "LossLog").values(try a.string(0)).map { .number($0) }))
  }
  t.properties["terms"] = NativeProperty(doc: "The logged terms.") { o in
    .list(ListRef(((o.payload as? LossLog)?.terms ?? []).map { .string($0) }))
  }
  t.properties["steps"] = NativeProperty(doc: "The logged steps.") { o in
    .list(ListRef(((o.payload as? LossLog)?.values("step") ?? []).map { .number($0) }))
  }
}
