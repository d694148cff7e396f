// Scope: a module's global variables (a name table plus values), shared by its functions.

/// Globals of one module (a script file, the REPL session, or a stdlib module).
public final class GlobalScope {
  public let name: String
  private(set) var index: [String: Int] = [:]
  public private(set) var names: [String] = []
  /// nil means declared but not yet assigned.
  var values: [Value?] = []

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
    set { values[declare(name)] = newValue }
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
  }
}
