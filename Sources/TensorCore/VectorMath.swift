// VectorMath: branch-free exp, exp2, erfc and tanh that LLVM vectorises, SIMD load/store helpers and blocked row reductions.

/// exp(x) without calls or traps, so loops over it vectorise: Cody–Waite reduction, a degree-6
/// polynomial (Cephes constants, about 2 ulp) in fused multiply-adds, and the exponent built from
/// the bits of x·log2(e) + 1.5·2^23 (round to nearest). The input is clamped to [-88, 89] by
/// selects that let NaN through: at -88 the exponent field is 0, so the result is exactly 0 (also
/// for -inf); from ~88.4 on it is 255, so +inf. NaN stays NaN.
@inline(__always)
func fastExp(_ xIn: Float) -> Float {
  let lo: Float = -88, hi: Float = 89
  let x0 = hi < xIn ? hi : xIn
  let x = lo > x0 ? lo : x0
  let shifted = Float(12_582_912).addingProduct(x, 1.442_695_04)
  let n = shifted - 12_582_912
  let r = x.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
  var p: Float = 1.987_569_15e-4
  p = Float(1.398_199_95e-3).addingProduct(p, r)
  p = Float(8.333_451_9e-3).addingProduct(p, r)
  p = Float(4.166_579_59e-2).addingProduct(p, r)
  p = Float(1.666_666_55e-1).addingProduct(p, r)
  p = Float(5.000_000_12e-1).addingProduct(p, r)
  p = r.addingProduct(p, r * r) + 1
  let exponentBits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23
  return p * Float(bitPattern: exponentBits)
}

/// 2^t for t <= 127, cheaper than `fastExp` for callers that work in base 2 (attention folds
/// log2(e) into its score scale, and its arguments x - max are never positive): t is clamped below
/// at -127 (2^-127 gives exactly 0, so -inf gives 0; NaN stays NaN), t = n + f with n = round(t),
/// and 2^f by a degree-5 minimax polynomial on [-1/2, 1/2] fitted here (relative error 2.1e-7 in
/// float arithmetic). Above 127 the exponent field wraps: callers must not pass such values.
@inline(__always)
func fastExp2(_ tIn: Float) -> Float {
  let t = Float(-127) > tIn ? -127 : tIn
  let shifted = t + 12_582_912
  let f = t - (shifted - 12_582_912)
  var p: Float = 1.327_645_965e-3
  p = Float(9.675_541_893e-3).addingProduct(p, f)
  p = Float(5.550_713_465e-2).addingProduct(p, f)
  p = Float(2.402_212_024e-1).addingProduct(p, f)
  p = Float(6.931_469_440e-1).addingProduct(p, f)
  p = Float(1.000_000_119).addingProduct(p, f)
  let exponentBits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23
  return p * Float(bitPattern: exponentBits)
}

/// log2(e) and ln(2), for callers of `fastExp2`.
let log2e: Float = 1.442_695_04
let ln2: Float = 0.693_147_18

/// Where `fastErfc` reaches zero: erfc(3.92) = 3.5e-8.
let erfcCutoff: Float = 3.92

/// erfc(a) for a >= 0 (erf(a) = 1 - erfc(a)) as one rational R(a)/S(a) of degrees 8 and 9, fitted
/// here (minimax on [0, 3.92] by Lawson iteration), 0 from 3.92 on; NaN stays NaN. No exp and one
/// division, so it vectorises. Measured over every float in [0, 6] against Glibc's double erf/erfc,
/// in float arithmetic with FMA: |(1 - fastErfc(a)) - erf(a)| <= 1.6e-7, and the absolute erfc
/// error is the same (the relative error grows where erfc itself is below ~1e-5).
@inline(__always)
func fastErfc(nonNegative aIn: Float) -> Float {
  let a = Swift.min(aIn, erfcCutoff)
  var r: Float = -6.817_064_42e-5
  r = Float(1.679_683_8e-3).addingProduct(r, a)
  r = Float(-1.749_103_52e-2).addingProduct(r, a)
  r = Float(9.819_196_91e-2).addingProduct(r, a)
  r = Float(-3.079_399_76e-1).addingProduct(r, a)
  r = Float(4.634_154_74e-1).addingProduct(r, a)
  r = Float(2.227_995_73e-2).addingProduct(r, a)
  r = Float(-1.035_009_03).addingProduct(r, a)
  r = Float(1).addingProduct(r, a)
  var s: Float = 1.452_909_93e-4
  s = Float(-3.790_908_38e-4).addingProduct(s, a)
  s = Float(5.816_966_76e-3).addingProduct(s, a)
  s = Float(-1.614_477_86e-2).addingProduct(s, a)
  s = Float(7.128_518_82e-2).addingProduct(s, a)
  s = Float(-8.231_650_29e-2).addingProduct(s, a)
  s = Float(2.313_594_22e-1).addingProduct(s, a)
  s = Float(1.276_326_18e-1).addingProduct(s, a)
  s = Float(9.337_029_61e-2).addingProduct(s, a)
  s = Float(1).addingProduct(s, a)
  return aIn >= erfcCutoff ? 0 : r / s
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

/// Stores 8 floats at `p`.
@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// A float vector whose even and odd lanes split into two half-width vectors (16 → 8, 8 → 4), so a
/// tile kernel written once runs eight or four tiles per step.
protocol SplitLanes: SIMD where Scalar == Float {
  associatedtype Half: SIMD where Half.Scalar == Float
  var evenHalf: Half { get set }
  var oddHalf: Half { get set }
}

extension SIMD16: SplitLanes where Scalar == Float {}
extension SIMD8: SplitLanes where Scalar == Float {}

/// Loads a vector of floats from `p` (any width).
@inline(__always)
func loadVector<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
  UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

/// Stores a vector of floats at `p` (any width).
@inline(__always)
func storeVector<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Stores even, odd interleaved: p[2i] = even[i], p[2i+1] = odd[i].
@inline(__always)
func storeInterleaved<V: SplitLanes>(_ even: V.Half, _ odd: V.Half, _ p: UnsafeMutablePointer<Float>, as _: V.Type) {
  var v = V()
  v.evenHalf = even
  v.oddHalf = odd
  storeVector(v, p)
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

/// Adds the 8 lanes of four partial-sum vectors in Double.
@inline(__always)
func laneTotal(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) -> Double {
  let s = (a + b) + (c + d)
  var t = Double(s[0]) + Double(s[1]) + Double(s[2]) + Double(s[3])
  t += Double(s[4]) + Double(s[5]) + Double(s[6]) + Double(s[7])
  return t
}

/// Sum of `n` contiguous floats: four 8-lane float partial sums (independent chains, so the adds
/// pipeline) over blocks of 1024, blocks added in Double.
@inline(__always)
func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
  var total: Double = 0
  var i = 0
  while i < n {
    let end = Swift.min(n, i + 1024)
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    while i + 32 <= end {
      a0 += load8(p + i)
      a1 += load8(p + i + 8)
      a2 += load8(p + i + 16)
      a3 += load8(p + i + 24)
      i += 32
    }
    while i + 8 <= end {
      a0 += load8(p + i)
      i += 8
    }
    var block = laneTotal(a0, a1, a2, a3)
    while i < end {
      block += Double(p[i])
      i += 1
    }
    total += block
  }
  return Float(total)
}

/// Σ (p[i] - c)² over `n` contiguous floats, blocked like `rowSum`.
@inline(__always)
func rowSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, from c: Float) -> Double {
  var total: Double = 0
  var i = 0
  let center = SIMD8<Float>(repeating: c)
  while i < n {
    let end = Swift.min(n, i + 1024)
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    while i + 32 <= end {
      let d0 = load8(p + i) - center, d1 = load8(p + i + 8) - center
      let d2 = load8(p + i + 16) - center, d3 = load8(p + i + 24) - center
      a0 += d0 * d0
      a1 += d1 * d1
      a2 += d2 * d2
      a3 += d3 * d3
      i += 32
    }
    while i + 8 <= end {
      let d = load8(p + i) - center
      a0 += d * d
      i += 8
    }
    var block = laneTotal(a0, a1, a2, a3)
    while i < end {
      let d = Double(p[i] - c)
      block += d * d
      i += 1
    }
    total += block
  }
  return total
}

/// (Σ a[i], Σ a[i]·(b[i] - c)) over `n` contiguous floats, blocked like `rowSum`.
@inline(__always)
func rowSumAndCenteredDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, center c: Float)
  -> (Double, Double)
{
  var sumA: Double = 0, dot: Double = 0
  var i = 0
  let center = SIMD8<Float>(repeating: c)
  while i < n {
    let end = Swift.min(n, i + 1024)
    var accA = SIMD8<Float>(), accD = SIMD8<Float>()
    while i + 8 <= end {
      let va = load8(a + i)
      accA += va
      accD += va * (load8(b + i) - center)
      i += 8
    }
    var blockA: Double = 0, blockD: Double = 0
    for l in 0..<8 {
      blockA += Double(accA[l])
      blockD += Double(accD[l])
    }
    while i < end {
      blockA += Double(a[i])
      blockD += Double(a[i]) * Double(b[i] - c)
      i += 1
    }
    sumA += blockA
    dot += blockD
  }
  return (sumA, dot)
}
