// aptp-bench: runs tools/bench/cases.json on the engine, beside raw sgemm and (when installed) PyTorch.

import Foundation
import TensorCore

/// Reads the case list shared with the PyTorch peer.
func loadCases(_ path: String) throws -> [BenchCase] {
  let data = try Data(contentsOf: URL(fileURLWithPath: path))
  guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
    throw TensorError(.argument, op: "bench", "\(path) must hold a JSON list of cases")
  }
  return list.map { d in
    BenchCase(
      name: d["name"] as? String ?? "?", op: d["op"] as? String ?? "?",
      p: d.compactMapValues { $0 as? Int })
  }
}

/// Runs the PyTorch peer on the same cases; returns seconds by case name (empty if unavailable).
func runPeer(_ casesPath: String) -> [String: Double] {
  runPeerScript(URL(fileURLWithPath: casesPath).deletingLastPathComponent().appendingPathComponent("torch_peer.py").path, casesPath)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

Runtime.relaunchWithBLASSettingsIfNeeded()
let args = CommandLine.arguments.dropFirst()
let casesPath = args.first { !$0.hasPrefix("-") && !["text", "unet", "memory", "fid", "expert", "features"].contains($0) } ?? "tools/bench/cases.json"
let skipPeer = args.contains("--no-peer")
do {
  if args.contains("unet") {
    let filter = args.first { $0.hasPrefix("--case=") }.map { String($0.dropFirst("--case=".count)) }
    let runs = args.first { $0.hasPrefix("--runs=") }.flatMap { Int($0.dropFirst("--runs=".count)) } ?? 3
    try unetBench(peer: !skipPeer, only: filter, runs: runs)
    exit(0)
  }
  if args.contains("expert") {
    let profileOnly = args.first { $0.hasPrefix("--profile=") }.map { String($0.dropFirst("--profile=".count)) }
    try expertBench(configPath: "configs/teacher/unet.json", ffGateWidth: 16, batch: 8, size: 32, tokens: 16, profileOnly: profileOnly)
    if args.contains("--sd21") { try expertBench(configPath: "configs/sd21_unet.json", ffGateWidth: 32, batch: 1, size: 32, tokens: 77) }
    exit(0)
  }
  if args.contains("features") {
    try featureNetBench(peer: !skipPeer, only: args.first { $0.hasPrefix("--case=") }.map { String($0.dropFirst("--case=".count)) })
    exit(0)
  }
  if args.contains("fid") {
    try fidBench(peer: !skipPeer)
    exit(0)
  }
  if args.contains("memory") {
    try sd21MemoryCheck()
    exit(0)
  }
  if args.contains("text") {
    try sentenceEncoderBench(peer: !skipPeer)
    exit(0)
  }
  let cases = try loadCases(casesPath)
  print("aptp-bench: \(cases.count) cases, \(Parallel.threads) threads")
  var results: [BenchResult] = []
  for c in cases { results.append(try runCase(c)) }
  let peer = skipPeer ? [:] : runPeer(casesPath)
  if peer.isEmpty && !skipPeer { print("(PyTorch peer unavailable: pip install torch to compare)") }
  print(pad("case", 40) + pad("ms", 10) + pad("rate", 14) + pad("vs sgemm", 10) + pad("torch ms", 10) + "ratio")
  for r in results {
    let rate = r.isBytes ? fmt(r.work / r.seconds / 1e9, 1) + " GB/s" : fmt(r.work / r.seconds / 1e9, 1) + " GFLOP/s"
    let vsSgemm = r.sgemmSeconds.map { fmt(r.seconds / $0) + "x" } ?? "-"
    let torch = peer[r.name]
    print(
      pad(r.name, 40) + pad(fmt(r.seconds * 1000, 3), 10) + pad(rate, 14) + pad(vsSgemm, 10)
        + pad(torch.map { fmt($0 * 1000, 3) } ?? "-", 10) + (torch.map { fmt(r.seconds / $0) } ?? "-"))
  }
  let read = try safetensorsReadBench()
  let mb = Double(read.bytes) / 1e6
  print("\nsafetensors: read a \(Int(mb)) MB tensor into an existing buffer: \(fmt(read.ours * 1000, 1)) ms "
    + "(\(fmt(Double(read.bytes) / read.ours / 1e9, 1)) GB/s); the same bytes with cat-style read(2) calls: "
    + "\(fmt(read.readLoop * 1000, 1)) ms (ratio \(fmt(read.ours / read.readLoop))); `cat FILE > /dev/null` incl. spawn: "
    + "\(fmt(read.cat * 1000, 1)) ms")
  try sentenceEncoderBench(peer: !skipPeer)
} catch {
  print("aptp-bench: error: \(error)")
  exit(1)
}
