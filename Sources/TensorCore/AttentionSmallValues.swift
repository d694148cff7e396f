// AttentionSmallValues: the P·V contraction of the small-head kernel as dot products over keys (dv <= 8).

/// out[r][c] = scale_r · Σ_j s_r[j] · vt[c][j] for up to 4 rows and the 4 channels c0 ..< c0+4
/// (channels past `channels` are skipped), with Vᵀ stored [channels, ldv] and keys8 a multiple of
/// 8 (s and vt are zero past the visible keys). Vectorising over keys needs no broadcasts: one
/// load of s feeds four FMAs, so narrow heads cost a quarter of the broadcast form.
@inline(__always)
func smallHeadTileValuesDot(
  _ s: UnsafePointer<Float>, lds: Int, _ vt: UnsafePointer<Float>, ldv: Int, firstChannel c0: Int, channels: Int,
  keys8: Int, _ out: UnsafeMutablePointer<Float>, ldo: Int, _ scale: SIMD4<Float>, rows: Int
) {
  let (s0, s1, s2, s3) = tileRows(s, stride: lds, rows: rows) { $0 + $1 }
  let last = channels - 1
  let v0 = vt + Swift.min(c0, last) * ldv, v1 = vt + Swift.min(c0 + 1, last) * ldv
  let v2 = vt + Swift.min(c0 + 2, last) * ldv, v3 = vt + Swift.min(c0 + 3, last) * ldv
  var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>(), a03 = SIMD8<Float>()
  var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>(), a13 = SIMD8<Float>()
  var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a22 = SIMD8<Float>(), a23 = SIMD8<Float>()
  var a30 = SIMD8<Float>(), a31 = SIMD8<Float>(), a32 = SIMD8<Float>(), a33 = SIMD8<Float>()
  var j = 0
  while j < keys8 {
    let w0 = load8(v0 + j), w1 = load8(v1 + j), w2 = load8(v2 + j), w3 = load8(v3 + j)
    let p0 = load8(s0 + j), p1 = load8(s1 + j), p2 = load8(s2 + j), p3 = load8(s3 + j)
    a00 = a00.addingProduct(p0, w0)
    a01 = a01.addingProduct(p0, w1)
    a02 = a02.addingProduct(p0, w2)
    a03 = a03.addingProduct(p0, w3)
    a10 = a10.addingProduct(p1, w0)
    a11 = a11.addingProduct(p1, w1)
    a12 = a12.addingProduct(p1, w2)
    a13 = a13.addingProduct(p1, w3)
    a20 = a20.addingProduct(p2, w0)
    a21 = a21.addingProduct(p2, w1)
    a22 = a22.addingProduct(p2, w2)
    a23 = a23.addingProduct(p2, w3)
    a30 = a30.addingProduct(p3, w0)
    a31 = a31.addingProduct(p3, w1)
    a32 = a32.addingProduct(p3, w2)
    a33 = a33.addingProduct(p3, w3)
    j += 8
  }
  let count = Swift.min(4, channels - c0)
  @inline(__always)
  func store(_ r: Int, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>, _ x3: SIMD8<Float>) {
    let totals = SIMD4<Float>(x0.sum(), x1.sum(), x2.sum(), x3.sum()) * scale[r]
    let row = out + r * ldo + c0
    for c in 0..<count { row[c] = totals[c] }
  }
  store(0, a00, a01, a02, a03)
  if rows > 1 { store(1, a10, a11, a12, a13) }
  if rows > 2 { store(2, a20, a21, a22, a23) }
  if rows > 3 { store(3, a30, a31, a32, a33) }
}
