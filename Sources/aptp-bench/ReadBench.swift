// ReadBench: reading one 100 MB safetensors tensor, next to `cat` of the same file (issue: formats).

import Foundation
import Formats

/// Median seconds of reading the tensor into an existing buffer, of reading the file with 128 KiB
/// `read(2)` calls as `cat` does (in process), and of running `cat FILE > /dev/null` (with its spawn).
func safetensorsReadBench(megabytes: Int = 100) throws -> (ours: Double, readLoop: Double, cat: Double, bytes: Int) {
  let count = megabytes * 1_000_000 / 4
  let path = NSTemporaryDirectory() + "aptp-bench-\(ProcessInfo.processInfo.processIdentifier).safetensors"
  defer { try? FileManager.default.removeItem(atPath: path) }
  let values = (0..<count).map { Float($0 % 1000) * 0.001 }
  try Safetensors.save([try TensorPayload(name: "weight", shape: [count], floats: values)], to: path)
  var buffer = [Float](repeating: 0, count: count)
  let ours = try measure {
    let file = try SafetensorsFile(path: path)
    let record = try file.record("weight")
    try buffer.withUnsafeMutableBufferPointer { try record.readFloats(into: $0) }
  }
  let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << 17, alignment: 64)
  defer { chunk.deallocate() }
  let readLoop = measure {
    let fd = open(path, O_RDONLY)
    while read(fd, chunk, 1 << 17) > 0 {}
    close(fd)
  }
  let cat = measure {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "cat '\(path)' > /dev/null"]
    try? p.run()
    p.waitUntilExit()
  }
  return (ours, readLoop, cat, count * 4)
}
