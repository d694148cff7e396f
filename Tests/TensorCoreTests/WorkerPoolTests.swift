// WorkerPoolTests: the spinning kernel pool runs every participant exactly once, across many jobs
// of different sizes, and falls back (runs nothing itself) when busy or too small.

import Foundation
import Synchronization
@testable import TensorCore
import XCTest

final class WorkerPoolTests: XCTestCase {
  func testEveryParticipantRunsOncePerJobOverManyJobs() {
    let pool = WorkerPool(workers: 3)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
    defer { counts.deallocate() }
    for job in 0..<10_000 {
      let participants = 2 + job % 3
      counts.initialize(repeating: 0, count: 4)
      XCTAssertTrue(pool.run(participants) { i in counts[i] += 1 })
      for i in 0..<4 { XCTAssertEqual(counts[i], i < participants ? 1 : 0, "job \(job) participant \(i)") }
    }
  }

  func testJobsAfterTheWorkersFellAsleepStillRun() {
    let pool = WorkerPool(workers: 1)
    let sum = Atomic<Int>(0)
    for round in 0..<3 {
      usleep(20_000)  // longer than the spin: the worker sleeps on the condition variable
      XCTAssertTrue(pool.run(2) { i in sum.add(i + 1, ordering: .relaxed) })
      XCTAssertEqual(sum.load(ordering: .relaxed), 3 * (round + 1))
    }
  }

  func testBusyOrTooSmallPoolDeclinesAndParallelStillCovers() {
    let pool = WorkerPool(workers: 1)
    XCTAssertFalse(pool.run(3) { _ in XCTFail("a pool of one worker cannot take three participants") })
    XCTAssertFalse(pool.run(1) { _ in XCTFail("one participant is not a parallel job") })
    let nestedDeclined = Atomic<Int>(0)
    XCTAssertTrue(
      pool.run(2) { _ in
        if !pool.run(2, { _ in }) { nestedDeclined.add(1, ordering: .relaxed) }
      })
    XCTAssertEqual(nestedDeclined.load(ordering: .relaxed), 2)
    // Parallel's entry points nest (the inner call goes to Dispatch) and cover every index once.
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    defer { hits.deallocate() }
    hits.initialize(repeating: 0, count: 64)
    Parallel.forEach(8) { outer in
      Parallel.forRange(8, grain: 1) { begin, end in
        for inner in begin..<end { hits[outer * 8 + inner] += 1 }
      }
    }
    XCTAssertEqual((0..<64).map { hits[$0] }, [Int](repeating: 1, count: 64))
  }
}
