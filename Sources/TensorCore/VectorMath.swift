// VectorMath: 8-wide SIMD exp and the activations built on it (sigmoid, silu), for the hot kernels.

typealias F8 = SIMD8<Float>

/// exp(x) for 8 lanes: Cody-Waite range reduction and a degree-6 polynomial (Cephes constants),
/// about 2 ulp; inputs below -87.3 give exactly 0, above 88.7 give +inf.
@inline(__always)
func vexp(_ xIn: F8) -> F8 {
  let x = xIn.clamped(lowerBound: F8(repeating: -87.3), upperBound: F8(repeating: 88.7))
  let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
  var r = x - n * 0.693_359_375
  r = r + n * 2.121_944_4e-4
  var p = F8(repeating: 1.987_569_15e-4)
  p = p * r + 1.398_199_95e-3
  p = p * r + 8.333_451_9e-3
  p = p * r + 4.166_579_59e-2
  p = p * r + 1.666_666_55e-1
  p = p * r + 5.000_000_12e-1
  p = p * r * r + r + 1
  let ni = SIMD8<Int32>(n, rounding: .towardZero)
  let bits = SIMD8<UInt32>(truncatingIfNeeded: (ni &+ 127) &<< 23)
  let scale = unsafeBitCast(bits, to: F8.self)
  var result = p * scale
  result.replace(with: 0, where: xIn .< -87.3)
  result.replace(with: Float.infinity, where: xIn .> 88.7)
  return result
}

/// Loads 8 floats from `p`.
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> F8 {
  UnsafeRawPointer(p).loadUnaligned(as: F8.self)
}

/// Stores 8 floats at `p`.
@inline(__always)
func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
}

/// Applies a vector function and its scalar twin over `n` contiguous floats, in parallel.
@inline(__always)
func mapVector(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
  vector: (F8) -> F8, scalar: (Float) -> Float
) {
  Parallel.forRange(n) { begin, end in
    var i = begin
    while i + 8 <= end {
      store8(vector(load8(x + i)), y + i)
      i += 8
    }
    while i < end {
      y[i] = scalar(x[i])
      i += 1
    }
  }
}

/// Applies a scalar function over `n` contiguous floats, in parallel.
@inline(__always)
func mapScalar(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Float) -> Float) {
  Parallel.forRange(n, grain: 8192) { begin, end in
    for i in begin..<end { y[i] = f(x[i]) }
  }
}
