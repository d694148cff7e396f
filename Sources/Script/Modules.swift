// Modules: `import name` finds name.aptp (or name/init.aptp) on the search path, runs it once in its
// own globals, and binds a map of its top-level names; natives provide modules by name too.

import Foundation

extension Interpreter {
  func importModule(_ path: [String], at loc: SourceLocation) throws -> Value {
    let key = path.joined(separator: ".")
    if let m = loadedModules[key] { return m }
    if let m = nativeModules[key] { return m }
    guard !importing.contains(key) else {
      throw Diagnostic(.name, "circular import of '\(key)'", at: loc)
    }
    let relative = path.joined(separator: "/")
    let candidates = searchPaths.flatMap { dir in
      [(dir as NSString).appendingPathComponent(relative + ".aptp"),
       (dir as NSString).appendingPathComponent(relative + "/init.aptp")]
    }
    guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
      throw Diagnostic(.io, "module '\(key)' not found (searched: \(searchPaths.joined(separator: ", ")))", at: loc)
    }
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
      throw Diagnostic(.io, "cannot read module file \(file)", at: loc)
    }
    importing.insert(key)
    defer { importing.remove(key) }
    let scope = GlobalScope(name: key)
    for (name, value) in mainGlobals.bindings where isBuiltinName(name) { scope[name] = value }
    let fileID = sources.add(name: file, text: text)
    switch Parser.parse(text, file: fileID) {
    case .incomplete(let ds), .failure(let ds):
      throw ds.first.map { var d = $0; d.frames.append(StackFrame(function: "import \(key)", location: loc)); return d }
        ?? Diagnostic(.syntax, "module '\(key)' has syntax errors", at: loc)
    case .complete(let program):
      if var d = execute(program, in: scope).diagnostics.first {
        d.frames.append(StackFrame(function: "import \(key)", location: loc))
        throw d
      }
    }
    let exports = MapRef()
    // A module may define a name that is also a builtin (`fn load`): exported when it is its own.
    for (name, value) in scope.bindings where !name.hasPrefix("_") && (!isBuiltinName(name) || !value.isSameObject(as: mainGlobals[name])) {
      exports[name] = value
    }
    let module = Value.map(exports)
    loadedModules[key] = module
    return module
  }

  /// Names every module sees: builtins, native modules and what was preloaded (bindings, prelude).
  func isBuiltinName(_ name: String) -> Bool {
    builtinNames.contains(name) || preloadedNames.contains(name) || nativeModules[name] != nil
  }
}
