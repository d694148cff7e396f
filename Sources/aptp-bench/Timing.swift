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
