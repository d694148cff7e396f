// VectorMath: branch-free exp, erf and tanh that LLVM vectorises, and the parallel map loops using them.

/// exp(x) without calls or traps, so loops over it vectorise: Cody–Waite reduction, a degree-6
/// polynomial (Cephes constants, about 2 ulp), and the exponent built from the bits of
/// x·log2(e) + 1.5·2^23 (round to nearest). Below -87.3 gives 0, above 88.7 gives +inf.
@inline(__always)
func fastExp(_ xIn: Float) -> Float {
  let x = Swift.min(Swift.max(xIn, -87.3), 88.7)
  let shifted = x * 1.442_695_04 + 12_582_912
  let n = shifted - 12_582_912
  let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
  var p: Float = 1.987_569_15e-4
  p = p * r + 1.398_199_95e-3
  p = p * r + 8.333_451_9e-3
  p = p * r + 4.166_579_59e-2
  p = p * r + 1.666_666_55e-1
  p = p * r + 5.000_000_12e-1
  p = p * r * r + r + 1
  let exponentBits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23
  let y = p * Float(bitPattern: exponentBits)
  return xIn < -87.3 ? 0 : (xIn > 88.7 ? .infinity : y)
}

/// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), branch-free.
@inline(__always)
func fastErf(_ x: Float) -> Float {
  let a = Swift.abs(x)
  let t = 1 / (1 + 0.327_591_1 * a)
  var p: Float = 1.061_405_429
  p = p * t - 1.453_152_027
  p = p * t + 1.421_413_741
  p = p * t - 0.284_496_736
  p = p * t + 0.254_829_592
  let y = 1 - p * t * fastExp(-a * a)
  return x < 0 ? -y : y
}

/// tanh(x): a short odd polynomial near 0 (where 1 - 2/(e^2x + 1) cancels), the exp form elsewhere.
@inline(__always)
func fastTanh(_ x: Float) -> Float {
  let x2 = x * x
  let small = x * (1 + x2 * (-0.333_333_33 + x2 * (0.133_333_33 - x2 * 0.053_968_254)))
  let large = 1 - 2 / (fastExp(2 * x) + 1)
  return Swift.abs(x) < 0.0625 ? small : large
}

@inline(__always)
func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// Loads 8 floats from `p`.
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Maps a float to an Int32 that orders like the float (NaN above +inf), so max reductions
/// run on integers, which LLVM vectorises without fast-math.
@inline(__always)
func orderedKey(_ x: Float) -> Int32 {
  let b = Int32(bitPattern: x.bitPattern)
  return b ^ ((b >> 31) & 0x7FFF_FFFF)
}

/// Largest of `n` contiguous floats (-inf when empty; NaN if any is NaN), vectorised.
@inline(__always)
func rowMax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
  if n == 0 { return -.infinity }
  var m = Int32.min
  for i in 0..<n { m = Swift.max(m, orderedKey(p[i])) }
  let b = m ^ ((m >> 31) & 0x7FFF_FFFF)
  return Float(bitPattern: UInt32(bitPattern: b))
}

/// Sum of `n` contiguous floats: 8-lane float partial sums over blocks of 1024, blocks added in Double.
@inline(__always)
func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
  var total: Double = 0
  var i = 0
  while i < n {
    let end = Swift.min(n, i + 1024)
    var acc = SIMD8<Float>()
    while i + 8 <= end {
      acc += load8(p + i)
      i += 8
    }
    var block = Double(acc[0]) + Double(acc[1]) + Double(acc[2]) + Double(acc[3])
    block += Double(acc[4]) + Double(acc[5]) + Double(acc[6]) + Double(acc[7])
    while i < end {
      block += Double(p[i])
      i += 1
    }
    total += block
  }
  return Float(total)
}
