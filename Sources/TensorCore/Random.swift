// Random: the seeded generator behind randn/rand/randint (xoshiro256** seeded through SplitMix64).

#if canImport(Glibc)
  import Glibc
#endif

/// A deterministic random generator. Same seed, same numbers, on every run and machine.
///
/// Algorithm: the 64-bit seed is expanded by SplitMix64 into the 256-bit state of xoshiro256**.
/// `nextFloat()` takes the top 24 bits of a 64-bit draw times 2^-24 (uniform in [0, 1)).
/// Normals use Box–Muller on consecutive pairs: u1, u2 -> sqrt(-2 ln(1-u1)) · (cos, sin)(2π u2),
/// computed in Double and rounded to Float, so results do not depend on libm's float paths.
public final class Generator {
  private var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
  private var spareNormal: Float?
  /// The seed this generator was (re)started from.
  public private(set) var seed: UInt64

  public init(seed: UInt64) {
    self.seed = seed
    reseed(seed)
  }

  /// Restarts the stream from `seed`.
  public func reseed(_ seed: UInt64) {
    self.seed = seed
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    spareNormal = nil
  }

  /// The next 64 random bits.
  public func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }

  /// Uniform in [0, 1).
  public func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

  /// Uniform in [0, 1) with 53 bits.
  public func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// A standard normal draw.
  public func nextNormal() -> Float {
    if let s = spareNormal {
      spareNormal = nil
      return s
    }
    let u1 = 1.0 - nextDouble()
    let u2 = nextDouble()
    let r = (-2.0 * log(u1)).squareRoot()
    let theta = 2.0 * Double.pi * u2
    spareNormal = Float(r * sin(theta))
    return Float(r * cos(theta))
  }

  /// Uniform integer in `low..<high` (high > low), without modulo bias.
  public func nextInt(_ low: Int64, _ high: Int64) -> Int64 {
    let range = UInt64(bitPattern: high &- low)
    let limit = UInt64.max - UInt64.max % range
    var v = next()
    while v >= limit { v = next() }
    return low &+ Int64(bitPattern: v % range)
  }
}

extension Tensor {
  /// Standard normal samples.
  public static func randn(_ shape: [Int], generator: Generator) -> Tensor {
    let t = Tensor(shape: shape, zeroed: false)
    for i in 0..<t.count { t.data[i] = generator.nextNormal() }
    return t
  }

  /// Uniform samples in [low, high).
  public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, generator: Generator) -> Tensor {
    let t = Tensor(shape: shape, zeroed: false)
    for i in 0..<t.count { t.data[i] = low + (high - low) * generator.nextFloat() }
    return t
  }

  /// Uniform Int64 samples in `low..<high`.
  public static func randint(_ low: Int, _ high: Int, _ shape: [Int], generator: Generator) throws -> Tensor {
    guard high > low else { throw TensorError.argument("randint", "high (\(high)) must be greater than low (\(low))") }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.shape("randint", "invalid shape \(shapeString(shape))") }
    let t = Tensor(shape: shape, dtype: .int64, zeroed: false)
    for i in 0..<t.count { t.intData[i] = generator.nextInt(Int64(low), Int64(high)) }
    return t
  }

  /// A random permutation of 0..<n as Int64.
  public static func randperm(_ n: Int, generator: Generator) -> Tensor {
    var values = (0..<Int64(Swift.max(n, 0))).map { $0 }
    if n > 1 {
      for i in stride(from: n - 1, to: 0, by: -1) {
        let j = Int(generator.nextInt(0, Int64(i + 1)))
        values.swapAt(i, j)
      }
    }
    return Tensor(ints: values, shape: [Swift.max(n, 0)])
  }
}
