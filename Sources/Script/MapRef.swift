// MapRef: the script's map — an insertion-ordered hash table (entries in order, an open-addressing
// index over them), with its own hash of the key's bytes so a lookup costs one short hash.

/// A mutable, shared map that keeps insertion order. Keys are strings or numbers.
///
/// String keys compare by their UTF-8 bytes (as Python's dict compares code points), not by
/// Swift's canonical equivalence: "é" precomposed and decomposed are two keys.
public final class MapRef {
  private struct Entry {
    var hash: Int
    /// nil once removed (the slot stays until the next rebuild).
    var key: MapKey?
    var value: Value
  }

  /// Entries in insertion order, removed ones included until `rebuild` (manually managed so a
  /// lookup touches no reference counts).
  private var entryStorage: UnsafeMutablePointer<Entry>
  private var entryCount = 0
  private var entryCapacity = 0
  /// Open-addressing index (power-of-two size): -1 empty, else an index into the entries.
  private var slots: UnsafeMutablePointer<Int32>
  private var slotCount = 0
  private var liveCount = 0

  public init() {
    entryStorage = .allocate(capacity: 0)
    slots = .allocate(capacity: 0)
  }

  public convenience init(_ pairs: [(String, Value)]) {
    self.init()
    for (k, v) in pairs { self[.string(k)] = v }
  }

  deinit {
    entryStorage.deinitialize(count: entryCount)
    entryStorage.deallocate()
    slots.deallocate()
  }

  public var count: Int { liveCount }

  /// Keys in insertion order.
  public var keys: [MapKey] { (0..<entryCount).compactMap { entryStorage[$0].key } }

  /// Entries in insertion order.
  public var entries: [(MapKey, Value)] {
    (0..<entryCount).compactMap { i in entryStorage[i].key.map { ($0, entryStorage[i].value) } }
  }

  public subscript(key: MapKey) -> Value? {
    get {
      let i = find(key, hash: key.hashValue64)
      return i < 0 ? nil : entryStorage[i].value
    }
    set {
      let h = key.hashValue64
      let i = find(key, hash: h)
      if let newValue {
        if i >= 0 {
          entryStorage[i].value = newValue
        } else {
          insert(Entry(hash: h, key: key, value: newValue))
        }
      } else if i >= 0 {
        entryStorage[i].key = nil
        entryStorage[i].value = .null
        liveCount -= 1
        if liveCount * 2 < entryCount { rebuild(capacity: liveCount) }
      }
    }
  }

  public subscript(name: String) -> Value? {
    get { self[.string(name)] }
    set { self[.string(name)] = newValue }
  }

  /// The entry index holding `key`, or -1.
  private func find(_ key: MapKey, hash: Int) -> Int {
    let mask = slotCount - 1
    guard mask > 0 else { return -1 }
    var s = hash & mask
    while true {
      let e = Int(slots[s])
      if e < 0 { return -1 }
      if entryStorage[e].hash == hash, entryStorage[e].key?.sameKey(as: key) == true { return e }
      s = (s + 1) & mask
    }
  }

  private func insert(_ entry: Entry) {
    // Keep the index at most half full (counting removed entries, which still occupy slots).
    if (entryCount + 1) * 2 > slotCount { rebuild(capacity: liveCount + 1) }
    if entryCount == entryCapacity { growEntries() }
    (entryStorage + entryCount).initialize(to: entry)
    entryCount += 1
    liveCount += 1
    place(entryCount - 1, hash: entry.hash)
  }

  private func growEntries() {
    let capacity = Swift.max(8, entryCapacity * 2)
    let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
    grown.moveInitialize(from: entryStorage, count: entryCount)
    entryStorage.deallocate()
    entryStorage = grown
    entryCapacity = capacity
  }

  private func place(_ index: Int, hash: Int) {
    let mask = slotCount - 1
    var s = hash & mask
    while slots[s] >= 0 { s = (s + 1) & mask }
    slots[s] = Int32(truncatingIfNeeded: index)
  }

  /// Drops removed entries and sizes the index for `capacity` live ones.
  private func rebuild(capacity: Int) {
    if liveCount < entryCount {
      var kept = 0
      for i in 0..<entryCount {
        if entryStorage[i].key == nil {
          (entryStorage + i).deinitialize(count: 1)
        } else {
          if kept != i { (entryStorage + kept).moveInitialize(from: entryStorage + i, count: 1) }
          kept += 1
        }
      }
      entryCount = kept
    }
    var size = 8
    while size < capacity * 2 + 2 { size *= 2 }
    slots.deallocate()
    slots = .allocate(capacity: size)
    slots.initialize(repeating: -1, count: size)
    slotCount = size
    for i in 0..<entryCount { place(i, hash: entryStorage[i].hash) }
  }
}

extension MapKey {
  /// A 64-bit hash of the key: its UTF-8 bytes for strings, its value for numbers (0 and -0 alike).
  var hashValue64: Int {
    switch self {
    case .number(let n): return Int(truncatingIfNeeded: mix64((n == 0 ? 0 : n.bitPattern) ^ 0x9E37_79B9_7F4A_7C15))
    case .string(let s): return Int(truncatingIfNeeded: hashBytes(s))
    }
  }

  /// Key equality as the map sees it: numbers by value, strings by their bytes.
  func sameKey(as other: MapKey) -> Bool {
    switch self {
    case .number(let a):
      if case .number(let b) = other { return a == b }
      return false
    case .string(let a):
      if case .string(let b) = other { return sameBytes(a, b) }
      return false
    }
  }
}

/// Whether two strings have the same UTF-8 bytes.
private func sameBytes(_ a: String, _ b: String) -> Bool {
  // Identical representations (the same small string, or the same buffer) hold the same bytes.
  if MemoryLayout<String>.size == 16,
    unsafeBitCast(a, to: (UInt64, UInt64).self) == unsafeBitCast(b, to: (UInt64, UInt64).self)
  {
    return true
  }
  var x = a
  var y = b
  return x.withUTF8 { p in
    y.withUTF8 { q in
      guard p.count == q.count else { return false }
      for i in 0..<p.count where p[i] != q[i] { return false }
      return true
    }
  }
}

/// The finaliser of MurmurHash3: spreads every input bit over the result.
@inline(__always)
private func mix64(_ x: UInt64) -> UInt64 {
  var h = x
  h ^= h >> 33
  h &*= 0xff51_afd7_ed55_8ccd
  h ^= h >> 33
  h &*= 0xc4ce_b9fe_1a85_ec53
  h ^= h >> 33
  return h
}

/// Hashes a string's UTF-8 bytes eight at a time.
private func hashBytes(_ s: String) -> UInt64 {
  if let h = s.utf8.withContiguousStorageIfAvailable(hashBytes) { return h }
  var text = s
  return text.withUTF8(hashBytes)
}

private func hashBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
  var h: UInt64 = 0x2545_F491_4F6C_DD1D ^ UInt64(bytes.count)
  guard let base = bytes.baseAddress else { return mix64(h) }
  var i = 0
  while i + 8 <= bytes.count {
    h = (h ^ UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) &* 0x100_0000_01B3
    h ^= h >> 29
    i += 8
  }
  var tail: UInt64 = 0
  var shift: UInt64 = 0
  while i < bytes.count {
    tail |= UInt64(base[i]) << shift
    shift += 8
    i += 1
  }
  return mix64(h ^ tail)
}
