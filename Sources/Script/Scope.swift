// Scope: a module's global variables (a name table plus values), shared by its functions.

/// Globals of one module (a script file, the REPL session, or a stdlib module).
public final class GlobalScope {
  public let name: String
  private(set) var index: [String: Int] = [:]
  public private(set) var names: [String] = []
  /// nil means declared but not yet assigned. Written through `assign`.
  private(set) var values: [Value?] = []
  /// Functions that `assign` replaced while a top-level statement ran: a call site may be running
  /// one through an unretained reference (`CallExpr`'s global-callee cache), so they stay alive
  /// until the interpreter finishes the statement (`releaseRetired`).
  private var retired: [AnyObject] = []

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

  /// Stores `value` in slot `i`, keeping a replaced function alive until `releaseRetired`.
  @inline(__always)
  func assign(_ i: Int, _ value: Value?) {
    values.withUnsafeMutableBufferPointer { slots in
      switch slots[i] {
      case .closure(let old)?: retired.append(old)
      case .function(let old)?: retired.append(old)
      default: break
      }
      slots[i] = value
    }
  }

  /// Drops the functions `assign` replaced; called when no call that started before is still running.
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

  /// The address of the function object in slot `i` when it is a script closure (`native` false)
  /// or a `NativeFunction` (`native` true), without retaining it; nil for anything else. Call sites
  /// compare it with the function they cached: an object at that address of that exact type is the
  /// one the global holds now, even if the cached one was freed and the memory reused.
  @inline(__always)
  func functionAddress(at i: Int, native: Bool) -> UnsafeMutableRawPointer? {
    values.withUnsafeBufferPointer { slots in
      // (No `where` clauses: they make the pattern copy, i.e. retain, the payload.)
      switch slots[i] {
      case .closure(let c)?: return native ? nil : Unmanaged.passUnretained(c).toOpaque()
      case .function(let f)?:
        guard native, ObjectIdentifier(type(of: f)) == ObjectIdentifier(NativeFunction.self) else { return nil }
        return Unmanaged<AnyObject>.passUnretained(f).toOpaque()
      default: return nil
      }
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
