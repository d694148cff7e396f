// RunLog: a run's loss log as JSON lines (one object per step), appended as it goes and cut back on resume.

import Formats
import Foundation

/// `log.jsonl` of a run: each line a JSON object with at least `step`.
public struct RunLog {
  public let path: String
  public init(path: String) { self.path = path }

  /// Appends one entry as a line.
  public func append(_ entry: ConfigMap) throws {
    let line = JSONWriter.render(.map(entry), pretty: false) + "\n"
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else { throw PruningError(file: path, "cannot create the log") }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else { throw PruningError(file: path, "cannot open the log for appending") }
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(line.utf8))
  }

  /// Every entry (a partly written last line, from a kill mid-write, is ignored).
  public func entries() throws -> [ConfigMap] {
    guard fileExists(path) else { return [] }
    let text = String(decoding: try readFileBytes(path), as: UTF8.self)
    return text.split(separator: "\n").compactMap { line in
      (try? JSONParser.parse(String(line), file: path))?.mapValue
    }
  }

  /// Keeps only entries with `step` < `step` (after resuming from the checkpoint at that step),
  /// rewriting the file atomically.
  public func truncate(before step: Int) throws {
    guard fileExists(path) else { return }
    let kept = try entries().filter { ($0["step"]?.intValue ?? 0) < step }
    let text = kept.map { JSONWriter.render(.map($0), pretty: false) + "\n" }.joined()
    try AtomicFile.write(to: path, bytes: Array(text.utf8))
  }
}
