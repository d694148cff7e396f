// Convert: script values <-> tensors (numbers, nested lists, shapes) for the bindings.

import Script
import TensorCore

extension BindingContext {
  /// Wraps a tensor as a script value.
  public func wrap(_ t: Tensor) -> Value { .native(NativeObject(type: tensorType, payload: t)) }

  /// A tensor from a script value: a Tensor, a number (0-d) or a nested list of numbers.
  public func tensor(from v: Value, what: () -> String) throws -> Tensor {
    switch v {
    case .native(let o):
      if let t = o.payload as? Tensor { return t }
    case .number(let n): return Tensor.scalar(Float(n))
    case .bool(let b): return Tensor.scalar(b ? 1 : 0)
    case .list:
      var shape: [Int] = []
      var probe = v
      while case .list(let l) = probe {
        shape.append(l.items.count)
        guard let first = l.items.first else { break }
        probe = first
      }
      var flat: [Float] = []
      flat.reserveCapacity(shape.reduce(1, *))
      try flatten(v, depth: 0, shape: shape, into: &flat, what: what)
      return Tensor(flat, shape: shape)
    default: break
    }
    throw Diagnostic(.type, "\(what()) (tensor, number or list expected, got \(v.typeName))")
  }

  /// Appends the numbers of a nested list, checking every level has the expected length.
  private func flatten(_ v: Value, depth: Int, shape: [Int], into flat: inout [Float], what: () -> String) throws {
    if depth == shape.count {
      switch v {
      case .number(let n): flat.append(Float(n))
      case .bool(let b): flat.append(b ? 1 : 0)
      default: throw Diagnostic(.type, "\(what()) (nested list of numbers expected, found \(v.typeName) at depth \(depth))")
      }
      return
    }
    guard case .list(let l) = v, l.items.count == shape[depth] else {
      throw Diagnostic(.value, "\(what()) (ragged nested list: expected \(shape[depth]) items at depth \(depth))")
    }
    for x in l.items { try flatten(x, depth: depth + 1, shape: shape, into: &flat, what: what) }
  }

  /// Nested lists of numbers for `tolist()`.
  func nestedList(_ t: Tensor) -> Value {
    let values = t.toArray()
    func build(_ dim: Int, _ offset: Int) -> Value {
      if dim == t.rank { return .number(shortestDouble(values[offset])) }
      let stride = t.shape[(dim + 1)...].reduce(1, *)
      return .list(ListRef((0..<t.shape[dim]).map { build(dim + 1, offset + $0 * stride) }))
    }
    return build(0, 0)
  }
}

extension Arguments {
  /// The binding context stored with the interpreter's tensor type.
  func tensor(_ i: Int, _ ctx: BindingContext) throws -> Tensor {
    try ctx.tensor(from: self[i]) { "bad argument #\(i + 1) to '\(callee)'" }
  }

  func optionalTensor(_ i: Int, _ ctx: BindingContext) throws -> Tensor? {
    if case .null = self[i] { return nil }
    return try tensor(i, ctx)
  }

  /// The receiver of a tensor method.
  func this(_ ctx: BindingContext) throws -> Tensor {
    guard case .native(let o)? = receiver, let t = o.payload as? Tensor else {
      throw Diagnostic(.type, "'\(callee)' must be called on a Tensor")
    }
    return t
  }

  /// A shape: a list of non-negative integers or a single integer.
  func shape(_ i: Int) throws -> [Int] {
    let s = try ints(i)
    guard s.allSatisfy({ $0 >= 0 }) else { throw bad(i, "shape of non-negative integers") }
    guard s.reduce(1, { $0 &* $1 }) < 1 << 34 else {
      throw Diagnostic(.value, "bad argument #\(i + 1) to '\(callee)' (shape \(s) is too large)")
    }
    return s
  }

  /// A pair like `stride: 2` or `stride: [2, 1]`.
  func pair(_ i: Int) throws -> (Int, Int) {
    let v = try ints(i)
    guard v.count == 1 || v.count == 2 else { throw bad(i, "integer or pair of integers") }
    return (v[0], v.count == 2 ? v[1] : v[0])
  }

  /// The generator to use: `generator:` if given, else a fresh one from `seed:`, else the session's.
  func generator(seed si: Int, generator gi: Int, _ ctx: BindingContext) throws -> Generator {
    if case .native(let o) = self[gi], let g = o.payload as? Generator { return g }
    if case .null = self[gi] {} else { throw bad(gi, "Generator") }
    if let s = try optionalInt(si) { return Generator(seed: UInt64(bitPattern: Int64(s))) }
    return ctx.generator
  }
}

/// The Double whose shortest decimal form equals the Float's (0.1f prints as 0.1, not 0.100000001).
func shortestDouble(_ f: Float) -> Double { Double(f.description) ?? Double(f) }
