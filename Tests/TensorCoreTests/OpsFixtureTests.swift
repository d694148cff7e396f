// Forward values and gradients of every op against PyTorch (Tests/Fixtures/ops/ops.json).

import Foundation
import TensorCore
import XCTest

/// One case of ops.json: inputs, attributes, expected output, seed and expected gradients.
struct OpCase {
  let name: String, op: String
  let inputs: [Tensor?]
  let attrs: [String: Any]
  let output: Tensor
  let seed: Tensor?
  let grads: [Tensor?]

  static func tensor(_ any: Any?) -> Tensor? {
    guard let d = any as? [String: Any], let shape = d["shape"] as? [Int], let data = d["data"] as? [Double] else {
      return nil
    }
    if let dtype = d["dtype"] as? String, dtype == "int64" {
      return Tensor(ints: data.map { Int64($0) }, shape: shape)
    }
    return Tensor(data.map { Float($0) }, shape: shape)
  }

  init(_ d: [String: Any]) {
    name = d["name"] as? String ?? "?"
    op = d["op"] as? String ?? "?"
    let rawInputs = d["inputs"] as? [Any] ?? []
    inputs = rawInputs.map { Self.tensor($0) }
    attrs = d["attrs"] as? [String: Any] ?? [:]
    output = Self.tensor(d["output"]) ?? Tensor.scalar(.nan)
    seed = Self.tensor(d["seed"])
    grads = (d["grads"] as? [Any])?.map { Self.tensor($0) } ?? []
  }

  func int(_ key: String) -> Int { attrs[key] as? Int ?? 0 }
  func ints(_ key: String) -> [Int] { attrs[key] as? [Int] ?? [] }
  func pair(_ key: String) -> (Int, Int) {
    let v = ints(key)
    return (v.first ?? 0, v.count > 1 ? v[1] : v.first ?? 0)
  }
  var axes: [Int]? { attrs["dim"] as? [Int] }
  var keepdim: Bool { attrs["keepdim"] as? Bool ?? false }
}

final class OpsFixtureTests: XCTestCase {
  func loadCases() throws -> [OpCase] {
    let data = try Data(contentsOf: fixturesURL.appendingPathComponent("ops/ops.json"))
    let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    return try XCTUnwrap(root["cases"] as? [[String: Any]]).map(OpCase.init)
  }

  /// Runs the op named by the case on `x` (inputs with requiresGrad set on float tensors).
  func run(_ c: OpCase, _ x: [Tensor?]) throws -> Tensor {
    let a = x[0]!
    switch c.op {
    case "neg": return try a.neg()
    case "abs": return try a.abs()
    case "exp": return try a.exp()
    case "log": return try a.log()
    case "log1p": return try a.log1p()
    case "sqrt": return try a.sqrt()
    case "rsqrt": return try a.rsqrt()
    case "sin": return try a.sin()
    case "cos": return try a.cos()
    case "tanh": return try a.tanh()
    case "sigmoid": return try a.sigmoid()
    case "relu": return try a.relu()
    case "silu": return try a.silu()
    case "gelu": return try a.gelu(GeluApproximation(rawValue: c.attrs["approximate"] as? String ?? "none") ?? .none)
    case "clamp": return try a.clamp(min: (c.attrs["min"] as? Double).map(Float.init), max: (c.attrs["max"] as? Double).map(Float.init))
    case "pow_scalar": return try a.pow(Float(c.attrs["exponent"] as? Double ?? 1))
    case "add": return try a + x[1]!
    case "sub": return try a - x[1]!
    case "mul": return try a * x[1]!
    case "div": return try a / x[1]!
    case "pow": return try a.pow(x[1]!)
    case "where": return try Tensor.where(a, x[1]!, x[2]!)
    case "lt", "le", "gt", "ge", "eq", "ne": return try a.compare(x[1]!, ComparisonOp(rawValue: c.op)!)
    case "sum": return try a.sum(axes: c.axes, keepdim: c.keepdim)
    case "mean": return try a.mean(axes: c.axes, keepdim: c.keepdim)
    case "var": return try a.variance(axes: c.axes, unbiased: c.attrs["unbiased"] as? Bool ?? true, keepdim: c.keepdim)
    case "std": return try a.std(axes: c.axes, unbiased: c.attrs["unbiased"] as? Bool ?? true, keepdim: c.keepdim)
    case "max": return try a.max(axes: c.axes, keepdim: c.keepdim)
    case "min": return try a.min(axes: c.axes, keepdim: c.keepdim)
    case "logsumexp": return try a.logsumexp(axes: c.axes, keepdim: c.keepdim)
    case "argmax": return try a.argmax(axis: c.axes?.first, keepdim: c.keepdim)
    case "argmin": return try a.argmin(axis: c.axes?.first, keepdim: c.keepdim)
    case "cumsum": return try a.cumsum(axis: c.int("dim"))
    case "softmax": return try a.softmax(axis: c.int("dim"))
    case "log_softmax": return try a.logSoftmax(axis: c.int("dim"))
    case "permute": return try a.permute(c.ints("dims"))
    case "transpose": return try a.transpose(c.int("dim0"), c.int("dim1"))
    case "expand": return try a.expand(c.ints("shape"))
    case "cat": return try Tensor.cat(x.compactMap { $0 }, axis: c.int("dim"))
    case "stack": return try Tensor.stack(x.compactMap { $0 }, axis: c.int("dim"))
    case "flip": return try a.flip(c.ints("dims"))
    case "narrow": return try a.narrow(c.int("dim"), start: c.int("start"), length: c.int("length"))
    case "slice": return try a.slice(c.int("dim"), start: c.int("start"), end: c.int("end"), step: c.int("step"))
    case "index_select": return try a.indexSelect(c.int("dim"), x[1]!)
    case "gather": return try a.gather(c.int("dim"), x[1]!)
    case "repeat": return try a.repeat(c.ints("repeats"))
    case "pad": return try a.pad(c.ints("pad"), value: Float(c.attrs["value"] as? Double ?? 0))
    case "matmul": return try a.matmul(x[1]!)
    case "linear": return try Tensor.linear(a, weight: x[1]!, bias: x.count > 2 ? x[2] : nil)
    case "conv2d":
      return try Tensor.conv2d(
        a, weight: x[1]!, bias: x.count > 2 ? x[2] : nil, stride: c.pair("stride"), padding: c.pair("padding"),
        dilation: c.pair("dilation"), groups: c.int("groups"))
    case "interpolate":
      let size = c.ints("size")
      return try a.interpolate(
        size: size.count == 2 ? (size[0], size[1]) : nil, scale: c.attrs["scale_factor"] as? Double,
        mode: InterpolationMode(rawValue: c.attrs["mode"] as? String ?? "nearest") ?? .nearest,
        alignCorners: c.attrs["align_corners"] as? Bool ?? false)
    case "avg_pool2d": return try a.avgPool2d(kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.pair("padding"))
    case "max_pool2d": return try a.maxPool2d(kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.pair("padding"))
    case "group_norm":
      return try Tensor.groupNorm(a, groups: c.int("groups"), weight: x[1], bias: x[2], eps: Float(c.attrs["eps"] as? Double ?? 1e-5))
    case "layer_norm":
      return try Tensor.layerNorm(
        a, normalizedShape: c.ints("normalized_shape"), weight: x[1], bias: x[2], eps: Float(c.attrs["eps"] as? Double ?? 1e-5))
    case "embedding": return try Tensor.embedding(a, weight: x[1]!)
    case "sdpa":
      return try Tensor.scaledDotProductAttention(
        a, x[1]!, x[2]!, causal: c.attrs["causal"] as? Bool ?? false, scale: (c.attrs["scale"] as? Double).map(Float.init))
    default:
      throw TensorError(.argument, op: c.op, "no dispatcher for this op in the test")
    }
  }

  func testEveryOpMatchesTorch() throws {
    let cases = try loadCases()
    XCTAssertGreaterThan(cases.count, 100)
    var forwardChecked = 0, gradsChecked = 0
    defer {
      XCTAssertEqual(forwardChecked, cases.count)
      XCTAssertGreaterThan(gradsChecked, 150)
    }
    for c in cases {
      let inputs: [Tensor?] = c.inputs.map { t in
        guard let t else { return nil }
        let copy = t.contiguousCopy()
        if copy.dtype == .float32 { copy.requiresGrad = true }
        return copy
      }
      // `where` takes its condition without gradient.
      if c.op == "where" { inputs[0]?.requiresGrad = false }
      let out: Tensor
      do {
        out = try run(c, inputs)
      } catch {
        XCTFail("\(c.name): \(error)")
        continue
      }
      assertClose(out.to(.float32), c.output, rtol: 1e-4, atol: 1e-5, "\(c.name) forward")
      forwardChecked += 1
      guard let seed = c.seed, out.requiresGrad else { continue }
      do {
        try out.backward(seed)
      } catch {
        XCTFail("\(c.name) backward: \(error)")
        continue
      }
      for (i, expected) in c.grads.enumerated() {
        guard let expected, i < inputs.count, let input = inputs[i], input.requiresGrad else { continue }
        guard let g = input.grad else {
          XCTFail("\(c.name): no gradient for input \(i)")
          continue
        }
        assertClose(g, expected, rtol: 1e-4, atol: 1e-5, "\(c.name) grad \(i)")
        gradsChecked += 1
      }
    }
  }
}
