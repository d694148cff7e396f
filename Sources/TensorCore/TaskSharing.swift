// TaskSharing: parallel loops whose tasks move to whichever thread is free — each thread owns a
// contiguous share and, once done, takes tasks from the back of the others' — so a thread that
// starts late or runs slower (its data in the other core's cache) does not hold the rest up.

import CSystem

/// One participant's view of a shared task set (see `Parallel.balanced`).
public struct TaskCursor {
  let ranges: UnsafeMutablePointer<UInt64>
  let participants: Int
  /// The participant this cursor belongs to (0 = the calling thread).
  public let worker: Int
  /// The first task number of the block being shared.
  let base: Int

  /// The next task for this participant: its own share in order, then tasks from the back of the
  /// others' shares; nil when every task has been handed out.
  @inline(__always)
  public func next() -> Int? {
    let own = aptp_range_take_front(ranges + worker)
    if own >= 0 { return base + own }
    var step = 1
    while step < participants {
      let stolen = aptp_range_take_back(ranges + (worker + step) % participants)
      if stolen >= 0 { return base + stolen }
      step += 1
    }
    return nil
  }
}

extension Parallel {
  /// Runs `body(cursor)` once on each of min(threads, count) threads (once per block of 2^31
  /// tasks); the cursors hand out the tasks 0..<count, each exactly once — first each thread's own
  /// contiguous share, then whatever is left of the others'. Only for tasks whose results do not
  /// depend on the thread that runs them (disjoint outputs, no per-thread accumulators), so
  /// results stay deterministic.
  @inline(__always)
  public static func balanced(_ count: Int, _ body: (TaskCursor) -> Void) {
    // The range words hold 32-bit positions; larger task counts (none in practice) run in blocks.
    let block = 1 << 31
    var base = 0
    repeat {
      balancedBlock(base, Swift.min(block, count - base), body)
      base += block
    } while base < count
  }

  /// `balanced` for tasks base ..< base + count, count < 2^31.
  @inline(__always)
  static func balancedBlock(_ base: Int, _ count: Int, _ body: (TaskCursor) -> Void) {
    let t = Swift.max(1, Swift.min(threads, count))
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: t) { buffer in
      guard let ranges = buffer.baseAddress else { return }
      for i in 0..<t {
        ranges[i] = UInt64((i + 1) * count / t) << 32 | UInt64(i * count / t)
      }
      if t == 1 {
        body(TaskCursor(ranges: ranges, participants: 1, worker: 0, base: base))
      } else {
        dispatch(t) { worker in body(TaskCursor(ranges: ranges, participants: t, worker: worker, base: base)) }
      }
    }
  }
}
