// LargeStack: runs the interpreter on a thread with a big stack, so deep (but bounded) script
// recursion ends in a script `stack_overflow` error rather than a native stack overflow.

import Foundation

/// Moves a non-Sendable closure or value to the worker thread; the caller waits for it to finish,
/// so the two threads never touch it at the same time.
private final class Handoff<T>: @unchecked Sendable {
  var body: (() -> T)?
  var result: T?
}

extension Interpreter {
  /// Stack size of the evaluation thread: room for `maxCallDepth` nested script calls even in
  /// debug builds (the memory is reserved, not committed).
  public static let evaluationStackSize = 1 << 30

  /// Runs `body` on a thread with `evaluationStackSize` of stack and waits for it.
  public static func onLargeStack<T>(_ body: @escaping () -> T) -> T {
    let handoff = Handoff<T>()
    handoff.body = body
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      handoff.result = handoff.body?()
      done.signal()
    }
    thread.stackSize = evaluationStackSize
    thread.start()
    done.wait()
    guard let result = handoff.result else { return body() }
    return result
  }
}
