// Timing: median-of-runs measurement shared by every benchmark case.

#if canImport(Glibc)
  import Glibc
#endif

/// Monotonic wall-clock seconds.
func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Median seconds of `body` after two warm-up runs, over at least 5 runs and 0.5 s.
func measure(minRuns: Int = 5, minSeconds: Double = 0.5, _ body: () throws -> Void) rethrows -> Double {
  try body()
  try body()
  var times: [Double] = []
  var total = 0.0
  while times.count < minRuns || (total < minSeconds && times.count < 10_000) {
    let t0 = now()
    try body()
    let dt = now() - t0
    times.append(dt)
    total += dt
  }
  times.sort()
  return times[times.count / 2]
}

/// Median seconds of `body(i)` for each i < count, measured in `rounds` rounds that each run every
/// i once (after one warm-up round), so drift in the machine's speed affects every i alike.
func interleavedMedians(_ count: Int, rounds: Int, _ body: (Int) throws -> Void) rethrows -> [Double] {
  for i in 0..<count { try body(i) }
  var times = [[Double]](repeating: [], count: count)
  for _ in 0..<rounds {
    for i in 0..<count {
      let t0 = now()
      try body(i)
      times[i].append(now() - t0)
    }
  }
  return times.map { $0.sorted()[$0.count / 2] }
}
