// WorkerPool: persistent kernel threads that spin briefly between jobs, so the many small parallel
// ops of a forward pass do not each pay a futex wake-up (Dispatch parks its workers at once).

import CSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// `threads - 1` persistent workers plus the calling thread run `body(0..<participants)`. After a
/// job a worker spins on the job counter for a short while before sleeping on a condition
/// variable. One job at a time: `run` returns false (and runs nothing) when the pool is busy — a
/// nested call from inside a job, or a second thread — and the caller falls back to Dispatch.
final class WorkerPool: @unchecked Sendable {
  /// Workers besides the calling thread.
  let workers: Int
  /// Job number << 8 | participants, published once per job; workers wait for it to change. The
  /// participant count travels in the same word so a worker never pairs one job's number with
  /// another job's count (a worker outside job n could otherwise read job n+1's count and run it
  /// twice).
  private let generation = Atomic<Int>(0)
  /// Workers still running the current job.
  private let pending = Atomic<Int>(0)
  /// Workers asleep (or about to sleep) on the condition variable.
  private let sleepers = Atomic<Int>(0)
  private let busy = Atomic<Bool>(false)
  /// The job: written before `generation` is bumped (release), read after it is seen (acquire).
  private var job: ((Int) -> Void)?
  private var jobNumber = 0
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  /// Spin iterations (an atomic load and a `pause` each) before a worker sleeps: tens of microseconds.
  private let spinLimit = 2_000

  init(workers: Int) {
    self.workers = workers
    pthread_mutex_init(lock, nil)
    pthread_cond_init(wake, nil)
    for index in 0..<workers { startWorker(index + 1) }
  }

  /// Runs `body(i)` for i in 0..<participants (i = 0 on the calling thread) and waits for all of
  /// them; false when the pool is busy or too small (nothing ran).
  func run(_ participants: Int, _ body: (Int) -> Void) -> Bool {
    guard participants > 1, participants <= workers + 1, participants < 256,
      busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return false }
    withoutActuallyEscaping(body) { escaping in
      job = escaping
      jobNumber += 1
      pending.store(participants - 1, ordering: .relaxed)
      generation.store(jobNumber << 8 | participants, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
      }
      escaping(0)
      // Spin for the workers, then yield the core: with more runnable threads than cores (two
      // processes sharing them) a descheduled worker needs this thread's time slice to finish.
      var spins = 0
      while pending.load(ordering: .acquiring) > 0 {
        spins += 1
        if spins < spinLimit { aptp_cpu_relax() } else { sched_yield() }
      }
      job = nil
    }
    busy.store(false, ordering: .releasing)
    return true
  }

  private func startWorker(_ index: Int) {
    var thread = pthread_t()
    let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
    let created = pthread_create(
      &thread, nil,
      { raw in
        guard let raw else { return nil }
        let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
        context.pool.workerLoop(context.index)
        return nil
      }, context)
    if created == 0 { pthread_detach(thread) } else { Unmanaged<WorkerContext>.fromOpaque(context).release() }
  }

  private func workerLoop(_ index: Int) {
    var seen = 0
    while true {
      seen = waitForJob(after: seen)
      guard index < seen & 0xFF else { continue }
      job?(index)
      pending.subtract(1, ordering: .releasing)
    }
  }

  /// Spins, then sleeps, until `generation` moves past `seen`; returns the new generation.
  private func waitForJob(after seen: Int) -> Int {
    for _ in 0..<spinLimit {
      let g = generation.load(ordering: .acquiring)
      if g != seen { return g }
      aptp_cpu_relax()
    }
    pthread_mutex_lock(lock)
    sleepers.add(1, ordering: .sequentiallyConsistent)
    var g = generation.load(ordering: .sequentiallyConsistent)
    while g == seen {
      pthread_cond_wait(wake, lock)
      g = generation.load(ordering: .acquiring)
    }
    sleepers.subtract(1, ordering: .sequentiallyConsistent)
    pthread_mutex_unlock(lock)
    return g
  }
}

/// What a new worker thread needs: its pool and its participant index.
private final class WorkerContext {
  let pool: WorkerPool
  let index: Int
  init(pool: WorkerPool, index: Int) {
    self.pool = pool
    self.index = index
  }
}
