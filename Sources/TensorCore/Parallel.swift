// Parallel: the engine's one level of multi-threading (a spinning worker pool, Dispatch as fallback),
// and OpenBLAS pinned to one thread.

import COpenBLAS
import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// Thread settings for kernels. All parallelism happens here; OpenBLAS always runs
/// single-threaded inside the caller's thread, so the two never oversubscribe the cores.
public enum Parallel {
  /// Threads used when nothing overrides it: `APTP_NUM_THREADS`, else the core count.
  public static let defaultThreads: Int = {
    if let env = getenv("APTP_NUM_THREADS"), let n = Int(String(cString: env)), n > 0 { return n }
    return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  }()

  /// A per-task override of the thread count (`Parallel.$threadOverride.withValue(1) { ... }`).
  @TaskLocal public static var threadOverride: Int? = nil

  /// Threads kernels may use now.
  public static var threads: Int { threadOverride ?? defaultThreads }

  /// The kernel threads (created on first use): `defaultThreads - 1` workers beside the caller;
  /// `APTP_WORKER_POOL=0` leaves every parallel op to Dispatch instead.
  static let pool = WorkerPool(workers: getenv("APTP_WORKER_POOL").map { String(cString: $0) } == "0" ? 0 : Swift.max(0, defaultThreads - 1))

  /// Runs `body(i)` for i in 0..<t on the pool, or on Dispatch when the pool is busy (a nested
  /// call, or another thread's job) or smaller than `t`.
  @inline(__always)
  static func dispatch(_ t: Int, _ body: (Int) -> Void) {
    if pool.run(t, body) { return }
    withoutActuallyEscaping(body) { escaping in
      let box = UncheckedSendable(escaping)
      DispatchQueue.concurrentPerform(iterations: t) { i in box.value(i) }
    }
  }

  /// Makes OpenBLAS single-threaded, once per process, before the first GEMM.
  static let blasConfigured: Bool = {
    openblas_set_num_threads(1)
    return true
  }()

  /// Runs `body(begin, end)` over `0..<count` split into contiguous chunks shared by the threads
  /// (`balanced`).
  /// Work below `grain` items per thread stays on the calling thread.
  @inline(__always)
  public static func forRange(_ count: Int, grain: Int = 32768, _ body: (Int, Int) -> Void) {
    let t = Swift.min(threads, Swift.max(1, count / Swift.max(grain, 1)))
    if t <= 1 {
      if count > 0 { body(0, count) }
      return
    }
    // Pieces of at least a quarter grain, up to 16 per thread: a thread that finishes early takes
    // over the rest of a late one's share.
    let pieces = t * Swift.min(16, Swift.max(1, count / (t * Swift.max(1, grain / 4))))
    let chunk = (count + pieces - 1) / pieces
    balanced((count + chunk - 1) / chunk) { tasks in
      while let piece = tasks.next() { body(piece * chunk, Swift.min(count, piece * chunk + chunk)) }
    }
  }

  /// Runs `body(i)` for every i in `0..<count`, shared by the threads (`balanced`; for coarse items
  /// whose results do not depend on the thread).
  @inline(__always)
  public static func forEach(_ count: Int, _ body: (Int) -> Void) {
    balanced(count) { tasks in
      while let i = tasks.next() { body(i) }
    }
  }
}

extension Parallel {
  /// Runs `body(worker, workers)` once on each of `workers = min(threads, count)` threads. The
  /// body takes items worker, worker + workers, ... itself, so it can set up scratch space once
  /// per thread instead of once per item.
  @inline(__always)
  public static func perWorker(_ count: Int, _ body: (Int, Int) -> Void) {
    let t = Swift.max(1, Swift.min(threads, count))
    if t == 1 {
      if count > 0 { body(0, 1) }
      return
    }
    dispatch(t) { worker in body(worker, t) }
  }
}

/// Carries a kernel closure into Dispatch's `@Sendable` worker closure. Kernels write disjoint
/// ranges of their output, which is what makes sharing them across threads sound.
struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
