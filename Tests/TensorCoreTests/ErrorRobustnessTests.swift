// Regressions for fixed crash paths and a randomised robustness sweep: bad input gives TensorError, never a crash.

import Foundation
import TensorCore
import XCTest

final class ErrorFixRegressionTests: XCTestCase {
  func testLinearWithZeroInputFeaturesIsTheBias() throws {
    // rows used to be x.count / inFeatures = 0, leaving the bias-initialised output unwritten.
    let out = try Tensor.linear(zeros([2, 0]), weight: zeros([3, 0]), bias: Tensor([1, 2, 3]))
    XCTAssertEqual(out.shape, [2, 3])
    XCTAssertEqual(out.toArray(), [1, 2, 3, 1, 2, 3])
  }

  func testArangeWithTinyStepIsEmptyOrAnError() throws {
    // Int(_:) of ±1e300 trapped before the fix.
    XCTAssertEqual(try Tensor.arange(5, 0, step: 1e-300).shape, [0])
    XCTAssertThrowsError(try Tensor.arange(0, 5, step: 1e-300))
    XCTAssertEqual(try Tensor.arange(0, 2, step: 0.5).toArray(), [0, 0.5, 1, 1.5])
  }

  func testZeroSizeTensorsFlowThroughOps() throws {
    let e = zeros([0, 3])
    e.requiresGrad = true
    XCTAssertEqual(try (e + zeros([3])).shape, [0, 3])
    XCTAssertEqual(try e.sum(axes: [0]).toArray(), [0, 0, 0])
    XCTAssertEqual(try e.matmul(zeros([3, 2])).shape, [0, 2])
    XCTAssertEqual(try zeros([2, 0]).matmul(zeros([0, 3])).toArray(), [Float](repeating: 0, count: 6))
    XCTAssertEqual(try e.softmax(axis: 1).shape, [0, 3])
    XCTAssertEqual(try Tensor.cat([e, zeros([1, 3])], axis: 0).shape, [1, 3])
    let y = try e.exp().sum()
    try y.backward()
    XCTAssertEqual(e.grad?.shape, [0, 3])
  }
}

extension Tensor {
  /// Int64 indices folded into 0..<size (size 0 leaves them, so they stay out of bounds).
  fileprivate func clampedForGather(_ size: Int) -> Tensor {
    guard size > 0 else { return self }
    return Tensor(ints: toInts().map { (($0 % Int64(size)) + Int64(size)) % Int64(size) }, shape: shape)
  }
}

/// Random calls with random — often invalid — shapes and arguments: each must return or throw a
/// TensorError. A trap would kill the test process, so reaching the end is the assertion that matters.
final class ErrorRobustnessTests: XCTestCase {
  final class Fuzzer {
    let gen: Generator
    init(seed: UInt64) { gen = Generator(seed: seed) }

    func int(_ lo: Int, _ hi: Int) -> Int { Int(gen.nextInt(Int64(lo), Int64(hi + 1))) }
    func bool() -> Bool { int(0, 1) == 1 }
    func pick<T>(_ xs: [T]) -> T { xs[int(0, xs.count - 1)] }
    /// A small argument, often negative or out of range.
    func arg() -> Int { int(-3, 4) }
    /// A non-negative shape of rank 0...4 with sizes 0...3.
    func shape(maxRank: Int = 4) -> [Int] { (0..<int(0, maxRank)).map { _ in int(0, 3) } }
    /// A shape argument for reshape/expand/sumTo, including -1, negative and zero sizes.
    func shapeArg() -> [Int] { (0..<int(0, 4)).map { _ in int(-2, 4) } }

    /// A float tensor (sometimes a transposed view, sometimes requiring grad) or, rarely, an int64 one.
    func tensor(_ s: [Int]? = nil) -> Tensor {
      let sh = s ?? shape()
      if int(0, 15) == 0 { return Tensor(ints: (0..<elementCount(sh)).map { _ in Int64(int(-1, 3)) }, shape: sh) }
      var t = Tensor.randn(sh, generator: gen)
      if sh.count >= 2 && int(0, 3) == 0, let v = try? t.transpose(0, sh.count - 1).contiguousCopy().transpose(0, sh.count - 1) {
        t = v  // same shape, non-contiguous strides
      }
      if int(0, 2) > 0 { t.requiresGrad = true }
      return t
    }

    /// An index tensor: int64 in -1...3 or, sometimes, floats (including NaN).
    func index(_ s: [Int]? = nil) -> Tensor {
      let sh = s ?? shape(maxRank: 2)
      if int(0, 4) == 0 {
        return Tensor((0..<elementCount(sh)).map { _ in pick([0, 1, 2.5, -1, .nan, 1e20]) }, shape: sh)
      }
      return Tensor(ints: (0..<elementCount(sh)).map { _ in Int64(int(-1, 3)) }, shape: sh)
    }

    func axesArg() -> [Int]? { bool() ? nil : (0..<int(0, 3)).map { _ in arg() } }
    func pair(_ lo: Int, _ hi: Int) -> (Int, Int) { (int(lo, hi), int(lo, hi)) }
    func float() -> Float { pick([0, 1, -1, 0.5, 2, 1.5, -0.25, .nan, .infinity]) }

    static let cases = 57
    /// The case `call()` picked last.
    var lastCase = 0

    /// One random call; returns its tensor result (if any) so the caller can also run backward.
    func call() throws -> Tensor? {
      lastCase = int(0, Self.cases - 1)
      switch lastCase {
      case 0: return try tensor().exp()
      case 1: return try tensor().log()
      case 2:
        // geglu on even last dimensions; no extra draws, so the other cases keep their inputs.
        let t = tensor(), exact = bool()
        if exact && t.rank > 0 && t.shape[t.rank - 1] % 2 == 0 { return try t.geglu() }
        return try t.gelu(exact ? .none : .tanh)
      case 3: return try tensor().clamp(min: bool() ? float() : nil, max: bool() ? float() : nil)
      case 4: return try tensor().pow(float())
      case 5: return try tensor() + tensor()
      case 6: return try tensor() * tensor()
      case 7: return try tensor() / tensor()
      case 8: return try tensor().pow(tensor())
      case 9: return try tensor().maximum(tensor())
      case 10: return try Tensor.where(tensor(), tensor(), tensor())
      case 11: return try tensor().compare(tensor(), pick(ComparisonOp.allCases))
      case 12: return try tensor().sum(axes: axesArg(), keepdim: bool())
      case 13: return try tensor().mean(axes: axesArg(), keepdim: bool())
      case 14: return try tensor().std(axes: axesArg(), unbiased: bool(), keepdim: bool())
      case 15: return try tensor().max(axes: axesArg(), keepdim: bool())
      case 16: return try tensor().min(axis: arg(), keepdim: bool()).values
      case 17: return try tensor().argmax(axis: bool() ? nil : arg(), keepdim: bool())
      case 18: return try tensor().logsumexp(axes: axesArg(), keepdim: bool())
      case 19: return try tensor().cumsum(axis: arg())
      case 20: return try tensor().softmax(axis: arg())
      case 21: return try tensor().logSoftmax(axis: arg())
      case 22: return try tensor().sumTo(shapeArg())
      case 23: return try tensor().reshape(shapeArg())
      case 24:
        let x = tensor()
        if bool() { return try x.permute(Tensor.randperm(x.rank, generator: gen).toInts().map { Int($0) - (bool() ? x.rank : 0) }) }
        return try x.permute((0..<int(0, 4)).map { _ in arg() })
      case 25: return try tensor().transpose(arg(), arg())
      case 26: return try bool() ? tensor().unsqueeze(arg()) : tensor().squeeze(bool() ? nil : arg())
      case 27: return try tensor().expand(shapeArg())
      case 28: return try tensor().narrow(arg(), start: arg(), length: arg())
      case 29: return try tensor().slice(arg(), start: bool() ? arg() : nil, end: bool() ? arg() : nil, step: arg())
      case 30: return try Tensor.cat((0..<int(0, 3)).map { _ in tensor() }, axis: arg())
      case 31: return try Tensor.stack((0..<int(0, 3)).map { _ in tensor() }, axis: arg())
      case 32: return try tensor().split(arg(), axis: arg()).first
      case 33:
        let x = tensor()
        let axis = x.rank > 0 && bool() ? int(0, x.rank - 1) : arg()
        var sizes = (0..<int(0, 3)).map { _ in arg() }
        if bool(), x.rank > 0, axis >= 0, axis < x.rank {  // sizes that add up, plus an occasional 0
          let n = x.shape[axis], cut = int(0, n)
          sizes = bool() ? [cut, n - cut] : [n, 0]
        }
        return try x.split(sizes: sizes, axis: axis).last
      case 34: return try tensor().chunk(arg(), axis: arg()).first
      case 35: return try tensor().flip((0..<int(0, 2)).map { _ in arg() })
      case 36: return try tensor().repeat((0..<int(0, 4)).map { _ in arg() })
      case 37: return try tensor().pad((0..<int(0, 4)).map { _ in arg() }, value: float())
      case 38: return try tensor().indexSelect(arg(), index())
      case 39:
        let x = tensor()
        if bool(), x.rank > 0 {  // an index of the same rank, within bounds except by chance
          let axis = int(0, x.rank - 1)
          let shape = x.shape.map { int(0, $0) }
          return try x.gather(axis, index(shape).clampedForGather(x.shape[axis]))
        }
        return try x.gather(arg(), index())
      case 40:
        let x = tensor()
        if bool(), x.rank > 0 {  // a fitting index and source, as gather's backward builds them
          let axis = int(0, x.rank - 1)
          let shape = x.shape.map { int(0, $0) }
          return try x.scatterAdd(axis: axis, index: index(shape).clampedForGather(x.shape[axis]), source: tensor(shape))
        }
        return try x.scatterAdd(axis: arg(), index: index(), source: tensor())
      case 41: return try Tensor.embedding(index(), weight: tensor())
      case 42: return try tensor().matmul(tensor())
      case 43:
        let b = int(0, 2), k = int(0, 3)
        return try tensor(bool() ? [b, int(0, 3), k] : shape()).bmm(tensor(bool() ? [b, k, int(0, 3)] : shape()))
      case 44: return try Tensor.linear(tensor(), weight: tensor(shape(maxRank: 2)), bias: bool() ? tensor(shape(maxRank: 1)) : nil)
      case 45:
        let g = bool() ? int(1, 2) : int(-1, 3), c = int(0, 2) * Swift.max(g, 1)
        let co = bool() ? int(0, 2) * Swift.max(g, 1) : int(0, 4)
        let w = [co, bool() ? c / Swift.max(g, 1) : int(0, 3), int(1, 3), int(0, 3)]
        let valid = bool()
        return try Tensor.conv2d(
          tensor([int(0, 2), c, int(0, 5), int(0, 5)]), weight: tensor(w), bias: bool() ? tensor([w[0]]) : nil,
          stride: valid ? pair(1, 2) : pair(-1, 3), padding: valid ? pair(0, 1) : pair(-1, 2),
          dilation: valid ? pair(1, 2) : pair(-1, 3), groups: g)
      case 46:
        let x = tensor(bool() ? [int(0, 2), int(0, 2), int(0, 4), int(0, 4)] : shape())
        if bool() { return try x.interpolate(size: pair(-1, 5), mode: bool() ? .nearest : .bilinear, alignCorners: bool()) }
        return try x.interpolate(scale: pick([0, -1, 0.5, 1.5, 2, .nan, .infinity, 1e30]), mode: bool() ? .nearest : .bilinear)
      case 47:
        let x = tensor(bool() ? [int(0, 2), int(0, 2), int(0, 5), int(0, 5)] : shape())
        if bool() { return try x.avgPool2d(kernel: pair(1, 3), stride: bool() ? nil : pair(1, 2), padding: pair(0, 1)) }
        return try x.avgPool2d(kernel: pair(-1, 4), stride: bool() ? nil : pair(-1, 3), padding: pair(-1, 2))
      case 48:
        let x = tensor(bool() ? [int(0, 2), int(0, 2), int(0, 5), int(0, 5)] : shape())
        if bool() { return try x.maxPool2d(kernel: pair(1, 3), stride: bool() ? nil : pair(1, 2), padding: pair(0, 1)) }
        return try x.maxPool2d(kernel: pair(-1, 4), stride: bool() ? nil : pair(-1, 3), padding: pair(-1, 2))
      case 49:
        return try Tensor.groupNorm(
          tensor(), groups: arg(), weight: bool() ? tensor(shape(maxRank: 1)) : nil, bias: bool() ? tensor(shape(maxRank: 1)) : nil)
      case 50:
        let x = tensor()
        let ns = bool() ? Array(x.shape.suffix(int(0, x.rank))) : shape(maxRank: 2)
        return try Tensor.layerNorm(x, normalizedShape: ns, weight: bool() ? tensor(ns) : nil, bias: bool() ? tensor() : nil)
      case 51:
        let b = int(0, 2), lq = int(0, 3), lk = int(0, 3), d = int(0, 3)
        let q = tensor(bool() ? [b, lq, d] : shape()), k = tensor(bool() ? [b, lk, d] : shape())
        let v = tensor(bool() ? [b, lk, int(0, 3)] : shape())
        return try Tensor.scaledDotProductAttention(q, k, v, mask: bool() ? tensor(shape(maxRank: 3)) : nil, causal: bool())
      case 52: return try tensor().dropout(float(), training: bool(), generator: gen)
      case 53:
        let t = tensor()
        _ = try t.item()
        _ = t.toInts()
        return t.to(pick([.float32, .int64])).contiguous()
      case 54: return try Tensor.randint(arg(), arg(), shapeArg(), generator: gen)
      case 55:
        let n = int(-2, 5)
        _ = Tensor.randperm(n, generator: gen)
        _ = try Tensor.linspace(Double(arg()), Double(arg()), count: n)
        return try Tensor.from((0..<int(0, 6)).map { Float($0) }, shape: shapeArg())
      default:
        let t = tensor()
        try t.detach().fill(float())
        try t.detach().assign(tensor())
        return try Tensor.arange(Double(arg()), Double(arg()), step: Double(pick([0, 1, -1, 0.5, 1e-300])))
      }
    }
  }

  func testRandomCallsReturnOrThrowTensorError() throws {
    // TENSORCORE_FUZZ_SEED / TENSORCORE_FUZZ_ITERATIONS allow longer runs by hand.
    let env = ProcessInfo.processInfo.environment
    let fuzz = Fuzzer(seed: env["TENSORCORE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 2024)
    let iterations = env["TENSORCORE_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 4000
    var succeeded = 0, threw = 0, backwardRuns = 0
    var succeededByCase = [Int](repeating: 0, count: Fuzzer.cases)
    for iteration in 0..<iterations {
      do {
        guard let out = try fuzz.call() else { continue }
        succeeded += 1
        succeededByCase[fuzz.lastCase] += 1
        guard out.requiresGrad, out.dtype == .float32 else { continue }
        backwardRuns += 1
        // Backward with a matching seed, or (sometimes) a wrong-shaped one.
        let seedShape = fuzz.int(0, 4) == 0 ? fuzz.shape() : out.shape
        try out.backward(Tensor.randn(seedShape, generator: fuzz.gen))
      } catch is TensorError {
        threw += 1
      } catch {
        XCTFail("iteration \(iteration): non-TensorError \(type(of: error)): \(error)")
      }
    }
    // Both outcomes must be well represented, or the generator is not exercising the ops.
    XCTAssertGreaterThan(succeeded, iterations / 5)
    XCTAssertGreaterThan(threw, iterations / 5)
    XCTAssertGreaterThan(backwardRuns, iterations / 12)
    // Every kind of call also gets through with valid arguments sometimes, so valid paths are exercised too.
    XCTAssertEqual(succeededByCase.indices.filter { succeededByCase[$0] == 0 }, [], "cases that never succeeded")
  }
}
