// Functors: elementwise functions as types. Kernels are generic over them, so each one is
// specialised and its loop vectorised (a closure passed through Dispatch would be called per element).

/// A float -> float function.
protocol ElementMap {
  func callAsFunction(_ x: Float) -> Float
}

/// A (float, float) -> float function.
protocol ElementZip {
  func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// A (float, float, float) -> float function.
protocol ElementZip3 {
  func callAsFunction(_ a: Float, _ b: Float, _ c: Float) -> Float
}

/// Adapters for one-off closures on cold paths (not vectorised).
struct MapClosure: ElementMap {
  let f: (Float) -> Float
  @inline(__always) func callAsFunction(_ x: Float) -> Float { f(x) }
}

struct ZipClosure: ElementZip {
  let f: (Float, Float) -> Float
  @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { f(a, b) }
}

struct Zip3Closure: ElementZip3 {
  let f: (Float, Float, Float) -> Float
  @inline(__always) func callAsFunction(_ a: Float, _ b: Float, _ c: Float) -> Float { f(a, b, c) }
}

// Arithmetic.
struct AddOp: ElementZip { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct SubOp: ElementZip { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct MulOp: ElementZip { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct DivOp: ElementZip { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
struct NegOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { -x } }
struct ScaleOp: ElementMap {
  let s: Float
  @inline(__always) func callAsFunction(_ x: Float) -> Float { x * s }
}
struct SquareOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { x * x } }

/// Backward of -a*... : -g * a / b².
struct DivRhsGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ a: Float, _ b: Float) -> Float { -g * a / (b * b) }
}

// Activations, forward (x) and backward (g, x, y).
struct ExpOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { fastExp(x) } }
struct SigmoidOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { fastSigmoid(x) } }
struct SigmoidGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * y * (1 - y) }
}
struct TanhOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { fastTanh(x) } }
struct TanhGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (1 - y * y) }
}
struct ReluOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 } }
struct ReluGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { x > 0 ? g : 0 }
}
struct SiluOp: ElementMap { @inline(__always) func callAsFunction(_ x: Float) -> Float { x * fastSigmoid(x) } }
struct SiluGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float {
    let s = fastSigmoid(x)
    return g * s * (1 + x * (1 - s))
  }
}

private let sqrt2OverPi: Float = 0.797_884_56
private let invSqrt2: Float = 0.707_106_78
private let invSqrt2Pi: Float = 0.398_942_28

/// gelu(x) = x·Φ(x) with Φ(x) = 1 - erfc(x/√2)/2 for x > 0 and erfc(-x/√2)/2 otherwise: one erfc,
/// no sign juggling, and a result as accurate relative to x as erfc is absolutely.
struct GeluOp: ElementMap {
  @inline(__always) func callAsFunction(_ x: Float) -> Float {
    let a = Swift.abs(x) * invSqrt2
    let h = a >= erfcCutoff ? 0 : 0.5 * x * fastErfc(nonNegative: a)  // x·Φ(-|x|), 0 for ±inf
    return x > 0 ? x - h : h
  }
}
struct GeluGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * geluAndSlope(x).slope }
}
/// gelu(x) and gelu'(x) = Φ(x) + x·φ(x) (the factor GeluGrad multiplies g by), sharing one erfc;
/// the value is the same float as `GeluOp`'s ((0.5·x)·e and x·(0.5·e) are both exact halvings).
@inline(__always) func geluAndSlope(_ x: Float) -> (value: Float, slope: Float) {
  let a = Swift.abs(x) * invSqrt2
  let tail = 0.5 * fastErfc(nonNegative: a)  // Φ(-|x|)
  let h = a >= erfcCutoff ? 0 : x * tail
  let cdf = x > 0 ? 1 - tail : tail
  return (x > 0 ? x - h : h, cdf + x * fastExp(-0.5 * x * x) * invSqrt2Pi)
}
struct GeluTanhOp: ElementMap {
  @inline(__always) func callAsFunction(_ x: Float) -> Float {
    0.5 * x * (1 + fastTanh(sqrt2OverPi * (x + 0.044_715 * x * x * x)))
  }
}
struct GeluTanhGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float {
    let t = fastTanh(sqrt2OverPi * (x + 0.044_715 * x * x * x))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * sqrt2OverPi * (1 + 3 * 0.044_715 * x * x))
  }
}
struct QuickGeluOp: ElementMap {
  @inline(__always) func callAsFunction(_ x: Float) -> Float { x * fastSigmoid(1.702 * x) }
}
struct QuickGeluGrad: ElementZip3 {
  @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float {
    let s = fastSigmoid(1.702 * x)
    return g * (s + 1.702 * x * s * (1 - s))
  }
}
