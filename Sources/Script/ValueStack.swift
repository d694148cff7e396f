// ValueStack: the interpreter's frame slots in one manually managed buffer, so reading and writing a
// local costs no array-buffer reference counting or uniqueness check.

/// Frame slots of every active call, innermost last. Indexes come from the resolver (always inside
/// the running frame), so element access is unchecked in release builds. Growing moves the slots to
/// a new buffer: never hold a slot's address, and never write `stack[i] = <expression that can call
/// code>` — a setter may capture the buffer before the right-hand side grows it; evaluate into a
/// local first.
struct ValueStack {
  private var storage: UnsafeMutablePointer<Value>
  private var capacity: Int
  /// Slots in use; the next frame starts here.
  private(set) var count = 0

  init(capacity: Int = 1024) {
    self.capacity = capacity
    storage = .allocate(capacity: capacity)
  }

  /// Frees the buffer; the stack must not be used afterwards.
  mutating func release() {
    storage.deinitialize(count: count)
    storage.deallocate()
    count = 0
    capacity = 0
  }

  subscript(i: Int) -> Value {
    @inline(__always) get {
      assert(i >= 0 && i < count, "frame slot out of range")
      return storage[i]
    }
    @inline(__always) nonmutating set {
      assert(i >= 0 && i < count, "frame slot out of range")
      storage[i] = newValue
    }
  }

  /// The number in slot `i`, read in place (no copy of the value), or nil for any other value.
  @inline(__always)
  func number(at i: Int) -> Double? {
    assert(i >= 0 && i < count, "frame slot out of range")
    if case .number(let x) = storage[i] { return x }
    return nil
  }

  /// Appends `n` nil slots (a new frame). Plain loops: frames are a few slots, and the bulk
  /// `initialize(repeating:)` / `deinitialize(count:)` go through generic runtime calls.
  @inline(__always)
  mutating func pushNils(_ n: Int) {
    if count + n > capacity { grow(to: count + n) }
    for i in count..<(count + n) { (storage + i).initialize(to: .null) }
    count += n
  }

  /// Appends one slot holding `value` (moved in: no copy of a nil slot to overwrite).
  @inline(__always)
  mutating func push(_ value: consuming Value) {
    if count == capacity { grow(to: count + 1) }
    (storage + count).initialize(to: value)
    count += 1
  }

  /// Drops every slot at or above `top` (leaving a frame).
  @inline(__always)
  mutating func truncate(to top: Int) {
    guard top < count else { return }
    for i in top..<count { (storage + i).deinitialize(count: 1) }
    count = top
  }

  private mutating func grow(to needed: Int) {
    var newCapacity = Swift.max(capacity * 2, 64)
    while newCapacity < needed { newCapacity *= 2 }
    let fresh = UnsafeMutablePointer<Value>.allocate(capacity: newCapacity)
    fresh.moveInitialize(from: storage, count: count)
    storage.deallocate()
    storage = fresh
    capacity = newCapacity
  }
}
