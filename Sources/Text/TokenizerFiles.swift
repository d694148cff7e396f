// TokenizerFiles: reading vocab.txt, vocab.json, merges.txt and the JSON files of a tokenizer folder.

import Formats

/// Readers for the files HF tokenizer folders hold. Every error names the file.
enum TokenizerFiles {
  /// Files larger than this are not tokenizer files (the largest real vocab/merges are a few MB).
  static let sizeLimit = 64 << 20

  static func text(_ path: String) throws -> String {
    let bytes = try readFileBytes(path, limit: sizeLimit)
    guard let s = String(validating: bytes, as: UTF8.self) else {
      throw TextError(file: path, "is not valid UTF-8 text")
    }
    return s
  }

  static func json(_ path: String) throws -> ConfigMap {
    let value = try JSONParser.parse(try readFileBytes(path, limit: sizeLimit), file: path)
    guard case .map(let m) = value else { throw TextError(file: path, "must hold a JSON object, found a \(value.typeName)") }
    return m
  }

  /// `vocab.txt`: one token per line, the id is the line number.
  static func vocabText(_ path: String) throws -> [String: Int] {
    var vocab: [String: Int] = [:]
    var lines = try text(path).split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
    }
    if lines.last == "" { lines.removeLast() }
    for (i, line) in lines.enumerated() where vocab[line] == nil { vocab[line] = i }
    guard !vocab.isEmpty else { throw TextError(file: path, "holds no tokens") }
    return vocab
  }

  /// A JSON object token -> id (`vocab.json`, or `model.vocab` inside `tokenizer.json`).
  static func vocabMap(_ map: ConfigMap, file: String) throws -> [String: Int] {
    var vocab: [String: Int] = [:]
    vocab.reserveCapacity(map.count)
    for (token, value) in map {
      guard let id = value.intValue, id >= 0 else {
        throw TextError(file: file, "vocabulary entry \"\(token)\" must map to a non-negative integer id")
      }
      vocab[token] = id
    }
    guard !vocab.isEmpty else { throw TextError(file: file, "holds no tokens") }
    return vocab
  }

  /// `merges.txt`: an optional `#version` line, then `left right` per line in rank order.
  static func merges(_ path: String) throws -> [(String, String)] {
    var merges: [(String, String)] = []
    for (n, line) in try text(path).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.hasSuffix("\r") ? line.dropLast() : line[...]
      if trimmed.isEmpty || (n == 0 && trimmed.hasPrefix("#version")) { continue }
      let parts = trimmed.split(separator: " ", omittingEmptySubsequences: false)
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw TextError(file: path, "line \(n + 1): expected two symbols separated by one space, found \"\(trimmed.prefix(60))\"")
      }
      merges.append((String(parts[0]), String(parts[1])))
    }
    return merges
  }

  /// A special-token entry of `tokenizer_config.json`: a string or `{"content": ...}`.
  static func tokenString(_ value: ConfigValue?) -> String? {
    switch value {
    case .string(let s)?: return s
    case .map(let m)?: return m["content"]?.stringValue
    default: return nil
    }
  }

  static func requireFolder(_ folder: String) throws {
    guard isDirectory(folder) else { throw TextError(file: folder, "no such folder (expected a tokenizer folder)") }
  }

  /// Reads `name` inside `folder` if it exists.
  static func optionalJSON(_ folder: String, _ name: String) throws -> ConfigMap? {
    let path = folder + "/" + name
    return fileExists(path) ? try json(path) : nil
  }

  /// `model_max_length` of a tokenizer config; HF writes 1e30 for "no limit".
  static func modelMaxLength(_ config: ConfigMap?) -> Int? {
    guard let v = config?["model_max_length"]?.doubleValue, v >= 1, v < 1e9 else { return nil }
    return Int(v)
  }
}
