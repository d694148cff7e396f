// Scope: a module's global variables (a name table plus values), shared by its functions.

/// Globals of one module (a script file, the REPL session, or a stdlib module).
public final class GlobalScope {
  public let name: String
  private(set) var index: [String: Int] = [:]
  public private(set) var names: [String] = []
  /// nil means declared but not yet assigned. Written through `assign`.
  private(set) var values: [Value?] = []
  /// Closures that `assign` replaced while a top-level statement ran: a call site may be running one
  /// through an unretained reference (`CallExpr`'s global-callee cache), so they stay alive until
  /// the interpreter finishes the statement (`releaseRetired`).
  private var retired: [Closure] = []

  public init(name: String) { self.name = name }

  /// The slot of `name`, creating it when new.
  @discardableResult
  public func declare(_ name: String) -> Int {
    if let i = index[name] { return i }
    index[name] = names.count
    names.append(name)
    values.append(nil)
    return names.count - 1
  }

  public func slot(_ name: String) -> Int? { index[name] }

  public subscript(name: String) -> Value? {
    get { index[name].flatMap { values[$0] } }
    set { assign(declare(name), newValue) }
  }

  /// Stores `value` in slot `i`, keeping a replaced closure alive until `releaseRetired`.
  @inline(__always)
  func assign(_ i: Int, _ value: Value?) {
    values.withUnsafeMutableBufferPointer { slots in
      if case .closure(let old)? = slots[i] { retired.append(old) }
      slots[i] = value
    }
  }

  /// Drops the closures `assign` replaced; called when no call that started before is still running.
  @inline(__always)
  func releaseRetired() {
    if !retired.isEmpty { retired.removeAll() }
  }

  /// The number in slot `i`, read in place, or nil for any other value.
  @inline(__always)
  func number(at i: Int) -> Double? {
    values.withUnsafeBufferPointer { slots in
      if case .number(let x)? = slots[i] { return x }
      return nil
    }
  }

  /// Whether slot `i` holds exactly the closure `cached` refers to (by address; nothing retained,
  /// `cached` never dereferenced).
  @inline(__always)
  func holds(_ cached: Unmanaged<Closure>, at i: Int) -> Bool {
    values.withUnsafeBufferPointer { slots in
      guard case .closure(let c)? = slots[i] else { return false }
      // Compare addresses only: `cached` may refer to a closure that has since been freed.
      return Unmanaged.passUnretained(c).toOpaque() == cached.toOpaque()
    }
  }

  /// Every assigned global in declaration order.
  public var bindings: [(String, Value)] {
    names.enumerated().compactMap { i, n in values[i].map { (n, $0) } }
  }

  /// Removes every binding (the REPL's `:reset`).
  public func removeAll() {
    index = [:]
    names = []
    values = []
    retired = []
  }
}
