// NumpyLegacyRandom: NumPy's legacy `np.random.seed(n)` + `np.random.choice(N, k, replace=False)` (MT19937), for the original's COCO-30k sample.

/// MT19937 seeded like NumPy's legacy `RandomState(seed)` for an integer seed, with the legacy
/// bounded integers (`rk_interval`: masked rejection sampling) and `permutation` (Fisher–Yates from
/// the end), so index samples equal what the original's scripts drew.
public struct NumpyLegacyRandom {
  private var state = [UInt32](repeating: 0, count: 624)
  private var index = 624

  /// `np.random.seed(seed)` for 0 <= seed < 2^32 (init_genrand).
  public init(seed: UInt32) {
    state[0] = seed
    for i in 1..<624 {
      state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
    }
  }

  /// The next 32-bit output of MT19937.
  public mutating func next32() -> UInt32 {
    if index >= 624 { twist() }
    var y = state[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C_5680
    y ^= (y << 15) & 0xEFC6_0000
    y ^= y >> 18
    return y
  }

  private mutating func twist() {
    for i in 0..<624 {
      let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
      state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
    }
    index = 0
  }

  /// A uniform integer in 0...max (legacy `rk_interval`: mask to the next power of two minus one, reject above max).
  public mutating func interval(_ max: UInt64) -> UInt64 {
    if max == 0 { return 0 }
    var mask = max
    for shift in [1, 2, 4, 8, 16, 32] as [UInt64] { mask |= mask >> shift }
    while true {
      let value: UInt64 = max <= 0xFFFF_FFFF ? UInt64(next32()) & mask : ((UInt64(next32()) << 32) | UInt64(next32())) & mask
      if value <= max { return value }
    }
  }

  /// `np.random.permutation(n)`: the legacy shuffle of 0..<n.
  public mutating func permutation(_ n: Int) -> [Int] {
    var items = Array(0..<n)
    var i = n - 1
    while i > 0 {
      let j = Int(interval(UInt64(i)))
      items.swapAt(i, j)
      i -= 1
    }
    return items
  }

  /// `np.random.choice(n, k, replace=False)`: the first k of a permutation.
  public mutating func choice(_ n: Int, _ k: Int) -> [Int] { Array(permutation(max(0, n)).prefix(max(0, k))) }
}
