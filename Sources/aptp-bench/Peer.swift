// Peer: running the Python peer scripts (PyTorch, diffusers, sentence-transformers) on the same work.

import Foundation
import TensorCore

/// Runs a peer script that prints one JSON object per line with "name" and "seconds".
func runPeerScript(_ script: String, _ argument: String) -> [String: Double] {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["python3", script, argument]
  var env = ProcessInfo.processInfo.environment
  env["APTP_NUM_THREADS"] = String(Parallel.threads)
  process.environment = env
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  do { try process.run() } catch { return [:] }
  let out = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  var result: [String: Double] = [:]
  for line in String(decoding: out, as: UTF8.self).split(separator: "\n") {
    guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
      let name = obj["name"] as? String, let s = obj["seconds"] as? Double
    else { continue }
    result[name] = s
  }
  return result
}

/// Writes `object` as JSON to a temporary file, runs `body` with its path, removes the file.
func withJSONFile<T>(_ object: Any, _ body: (String) -> T) -> T? {
  let path = NSTemporaryDirectory() + "aptp-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max)).json"
  defer { try? FileManager.default.removeItem(atPath: path) }
  guard let data = try? JSONSerialization.data(withJSONObject: object), (try? data.write(to: URL(fileURLWithPath: path))) != nil else {
    return nil
  }
  return body(path)
}
