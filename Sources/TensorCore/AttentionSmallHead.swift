// AttentionSmallHead: register-tiled attention forward for small heads (d <= 16, dv <= 16), no sgemm.

import CKernels

#if canImport(Glibc)
  import Glibc
#endif

extension AttentionPlan {
  /// Whether the register-tiled kernel handles this shape. At these head sizes sgemm spends most
  /// of its time packing operands and the score passes dominate, so a fused kernel wins.
  var fitsSmallHeadKernel: Bool { d <= 16 && dv <= 16 && dv > 0 }
}

/// Scores of a tile of 4 query rows against keys 0 ..< keys (a multiple of 16): s[r * ldk + j] =
/// qs[r * 16 + ·] · kt[· * ldk + j], with Kᵀ stored [d, ldk]. Eight accumulators (4 rows x 16 keys)
/// keep both FMA pipes busy; each Kᵀ load is shared by the 4 rows.
@inline(__always)
func smallHeadTileScores(
  _ qs: UnsafePointer<Float>, _ kt: UnsafePointer<Float>, ldk: Int, d: Int, _ s: UnsafeMutablePointer<Float>,
  keys: Int
) {
  var j = 0
  while j < keys {
    var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
    var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
    for c in 0..<d {
      let k0 = load8(kt + c * ldk + j), k1 = load8(kt + c * ldk + j + 8)
      let q0 = SIMD8<Float>(repeating: qs[c]), q1 = SIMD8<Float>(repeating: qs[16 + c])
      let q2 = SIMD8<Float>(repeating: qs[32 + c]), q3 = SIMD8<Float>(repeating: qs[48 + c])
      a00 = a00.addingProduct(q0, k0)
      a01 = a01.addingProduct(q0, k1)
      a10 = a10.addingProduct(q1, k0)
      a11 = a11.addingProduct(q1, k1)
      a20 = a20.addingProduct(q2, k0)
      a21 = a21.addingProduct(q2, k1)
      a30 = a30.addingProduct(q3, k0)
      a31 = a31.addingProduct(q3, k1)
    }
    store8(a00, s + j)
    store8(a01, s + j + 8)
    store8(a10, s + ldk + j)
    store8(a11, s + ldk + j + 8)
    store8(a20, s + 2 * ldk + j)
    store8(a21, s + 2 * ldk + j + 8)
    store8(a30, s + 3 * ldk + j)
    store8(a31, s + 3 * ldk + j + 8)
    j += 16
  }
}

/// The 4 row pointers of a tile whose last `4 - rows` rows repeat row `rows - 1`.
@inline(__always)
func tileRows<T>(_ base: T, stride: Int, rows: Int, _ advance: (T, Int) -> T) -> (T, T, T, T) {
  (advance(base, 0), advance(base, Swift.min(1, rows - 1) * stride),
   advance(base, Swift.min(2, rows - 1) * stride), advance(base, Swift.min(3, rows - 1) * stride))
}

/// Writes `rows` (1...4) accumulated output rows, each scaled by its 1/Σ.
@inline(__always)
func storeTile(
  _ a: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ scale: SIMD4<Float>,
  _ out: UnsafeMutablePointer<Float>, ld: Int, rows: Int
) {
  store8(a.0 * scale[0], out)
  if rows > 1 { store8(a.1 * scale[1], out + ld) }
  if rows > 2 { store8(a.2 * scale[2], out + 2 * ld) }
  if rows > 3 { store8(a.3 * scale[3], out + 3 * ld) }
}

/// out_r = scale_r · Σ_j s_r[j] · V[j] for a tile of up to 4 rows (s_r = s + r · lds), dv = 8:
/// two accumulators per row (even and odd keys) so the FMA chains overlap.
@inline(__always)
func smallHeadTileValues8(
  _ s: UnsafePointer<Float>, lds: Int, _ vp: UnsafePointer<Float>, keys: Int, _ out: UnsafeMutablePointer<Float>,
  _ scale: SIMD4<Float>, rows: Int
) {
  let (s0, s1, s2, s3) = tileRows(s, stride: lds, rows: rows) { $0 + $1 }
  var o0 = SIMD8<Float>(), o1 = SIMD8<Float>(), o2 = SIMD8<Float>(), o3 = SIMD8<Float>()
  var e0 = SIMD8<Float>(), e1 = SIMD8<Float>(), e2 = SIMD8<Float>(), e3 = SIMD8<Float>()
  var j = 0
  while j + 2 <= keys {
    let v0 = load8(vp + j * 8), v1 = load8(vp + j * 8 + 8)
    o0 = o0.addingProduct(SIMD8(repeating: s0[j]), v0)
    e0 = e0.addingProduct(SIMD8(repeating: s0[j + 1]), v1)
    o1 = o1.addingProduct(SIMD8(repeating: s1[j]), v0)
    e1 = e1.addingProduct(SIMD8(repeating: s1[j + 1]), v1)
    o2 = o2.addingProduct(SIMD8(repeating: s2[j]), v0)
    e2 = e2.addingProduct(SIMD8(repeating: s2[j + 1]), v1)
    o3 = o3.addingProduct(SIMD8(repeating: s3[j]), v0)
    e3 = e3.addingProduct(SIMD8(repeating: s3[j + 1]), v1)
    j += 2
  }
  if j < keys {
    let v0 = load8(vp + j * 8)
    o0 = o0.addingProduct(SIMD8(repeating: s0[j]), v0)
    o1 = o1.addingProduct(SIMD8(repeating: s1[j]), v0)
    o2 = o2.addingProduct(SIMD8(repeating: s2[j]), v0)
    o3 = o3.addingProduct(SIMD8(repeating: s3[j]), v0)
  }
  storeTile((o0 + e0, o1 + e1, o2 + e2, o3 + e3), scale, out, ld: 8, rows: rows)
}

/// The dv = 16 variant: two accumulators per row (low and high 8 channels).
@inline(__always)
func smallHeadTileValues16(
  _ s: UnsafePointer<Float>, lds: Int, _ vp: UnsafePointer<Float>, keys: Int, _ out: UnsafeMutablePointer<Float>,
  _ scale: SIMD4<Float>, rows: Int
) {
  let (s0, s1, s2, s3) = tileRows(s, stride: lds, rows: rows) { $0 + $1 }
  var o0 = SIMD8<Float>(), o1 = SIMD8<Float>(), o2 = SIMD8<Float>(), o3 = SIMD8<Float>()
  var h0 = SIMD8<Float>(), h1 = SIMD8<Float>(), h2 = SIMD8<Float>(), h3 = SIMD8<Float>()
  for j in 0..<keys {
    let lo = load8(vp + j * 16), hi = load8(vp + j * 16 + 8)
    let p0 = SIMD8<Float>(repeating: s0[j]), p1 = SIMD8<Float>(repeating: s1[j])
    let p2 = SIMD8<Float>(repeating: s2[j]), p3 = SIMD8<Float>(repeating: s3[j])
    o0 = o0.addingProduct(p0, lo)
    h0 = h0.addingProduct(p0, hi)
    o1 = o1.addingProduct(p1, lo)
    h1 = h1.addingProduct(p1, hi)
    o2 = o2.addingProduct(p2, lo)
    h2 = h2.addingProduct(p2, hi)
    o3 = o3.addingProduct(p3, lo)
    h3 = h3.addingProduct(p3, hi)
  }
  storeTile((o0, o1, o2, o3), scale, out, ld: 16, rows: rows)
  storeTile((h0, h1, h2, h3), scale, out + 8, ld: 16, rows: rows)
}

extension Tensor {
  /// Forward for small heads: tasks are (head, 64 query rows); per tile of 4 query rows, the
  /// scores against all visible keys go to an L1-resident buffer, get the unnormalised row softmax,
  /// and are contracted with V in registers. Kᵀ and V (zero-padded to 8 or 16 columns) of the
  /// current head are packed per thread, so any row layout (contiguous heads, or heads inside
  /// [B, L, H·d] rows) and any dv up to 16 work.
  static func attentionForwardSmallHead(
    _ p: AttentionPlan, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>?,
    layout: HeadLayouts? = nil
  ) {
    let l = layout ?? HeadLayouts(contiguous: p)
    let ldk = Swift.max(16, (p.lk + 15) / 16 * 16)
    let dvPad = p.dv <= 8 ? 8 : 16
    let dotValues = p.dv <= 8
    let rowsPerTask = 64
    let chunks = (p.lq + rowsPerTask - 1) / rowsPerTask
    let tasks = p.heads * chunks
    let wide = VectorDispatch.useAVX512
    // Without a mask the AVX-512 score pass also finds each row's maximum, and rows whose maximum
    // is bounded by the key ranges run in one sweep (`aptp_small_head_fused_rows_avx512`).
    let maxScores = wide && p.mask == nil && !p.causal
    let oneSweep = maxScores && dotValues
    Parallel.balanced(tasks) { queue in
      let kt = alignedFloats(Swift.max(1, p.d) * ldk)
      // V packed per head: [lk, dvPad] rows for the broadcast form, Vᵀ [dv, ldk] for the dot form.
      let vp = alignedFloats(Swift.max(Swift.max(1, p.lk) * dvPad, p.dv * ldk))
      let s = alignedFloats(4 * ldk)
      let qs = UnsafeMutablePointer<Float>.allocate(capacity: 64)
      let tile = UnsafeMutablePointer<Float>.allocate(capacity: 4 * dvPad)
      let keyRange = UnsafeMutablePointer<Float>.allocate(capacity: 32)
      defer {
        keyRange.deallocate()
        kt.deallocate()
        vp.deallocate()
        s.deallocate()
        qs.deallocate()
        tile.deallocate()
      }
      vp.update(repeating: 0, count: Swift.max(Swift.max(1, p.lk) * dvPad, p.dv * ldk))
      var currentHead = -1
      // Each worker starts on a contiguous run of tasks (so it packs few heads) and then takes
      // over the end of the other's: causal rows, whose cost grows with the row, stay balanced too.
      while let t = queue.next() {
        let h = t / chunks, chunk0 = (t % chunks) * rowsPerTask
        if h != currentHead {
          packHead(p, l, h, k, v, kt: kt, ldk: ldk, vp: vp, dvPad: dvPad, transposeV: dotValues)
          if oneSweep { aptp_key_ranges_avx512(kt, ldk, p.d, p.lk, keyRange) }
          currentHead = h
        }
        let chunkEnd = Swift.min(p.lq, chunk0 + rowsPerTask)
        var row0 = chunk0
        while row0 < chunkEnd {
          if oneSweep {
            // Tiles whose score bound is usable, up to the first that needs the exact passes.
            row0 += aptp_small_head_fused_rows_avx512(
              q + l.q.base(h) + row0 * l.q.rowStride, l.q.rowStride, chunkEnd - row0, p.d, p.log2Scale, keyRange, kt, ldk,
              vp, p.dv, p.lk, o + l.o.base(h) + row0 * l.o.rowStride, l.o.rowStride, lse.map { $0 + h * p.lq + row0 })
            if row0 >= chunkEnd { break }
          }
          let rows = Swift.min(4, chunkEnd - row0), keys = p.visibleKeys(row0: row0, rows: rows)
          for r in 0..<4 {
            let src = q + l.q.base(h) + (row0 + Swift.min(r, rows - 1)) * l.q.rowStride
            for c in 0..<p.d { qs[r * 16 + c] = src[c] * p.log2Scale }
          }
          let keys16 = (keys + 15) / 16 * 16
          var maxes = SIMD4<Float>()
          if wide {
            withUnsafeMutablePointer(to: &maxes) { mp in
              mp.withMemoryRebound(to: Float.self, capacity: 4) {
                aptp_small_head_scores_avx512(qs, kt, ldk, p.d, s, keys16, keys, maxScores ? $0 : nil)
              }
            }
          } else {
            smallHeadTileScores(qs, kt, ldk: ldk, d: p.d, s, keys: keys16)
          }
          p.applyMask(s, ld: ldk, keys: keys, head: h, row0: row0, rows: rows)
          var scale = SIMD4<Float>()
          for r in 0..<rows {
            let (logSum, inv) = softmaxRowUnnormalized(
              s + r * ldk, keys, logSum: lse != nil, max: maxScores ? maxes[r] : nil, avx512: wide)
            lse?[h * p.lq + row0 + r] = logSum
            scale[r] = inv
          }
          if dotValues {
            let keys8 = (keys + 7) / 8 * 8
            for r in 0..<rows { (s + r * ldk + keys).update(repeating: 0, count: keys8 - keys) }
            let out = o + l.o.base(h) + row0 * l.o.rowStride
            var c0 = 0
            while c0 < p.dv {
              if wide {
                withUnsafePointer(to: scale) { sp in
                  sp.withMemoryRebound(to: Float.self, capacity: 4) {
                    aptp_small_head_values_dot_avx512(s, ldk, vp, ldk, c0, p.dv, keys8, out, l.o.rowStride, $0, rows)
                  }
                }
              } else {
                smallHeadTileValuesDot(
                  s, lds: ldk, vp, ldv: ldk, firstChannel: c0, channels: p.dv, keys8: keys8, out, ldo: l.o.rowStride, scale,
                  rows: rows)
              }
              c0 += 4
            }
            row0 += rows
            continue
          }
          let direct = dvPad == p.dv && l.o.rowStride == p.dv
          let out = direct ? o + l.o.base(h) + row0 * p.dv : tile
          if dvPad == 8 {
            smallHeadTileValues8(s, lds: ldk, vp, keys: keys, out, scale, rows: rows)
          } else {
            smallHeadTileValues16(s, lds: ldk, vp, keys: keys, out, scale, rows: rows)
          }
          if !direct {
            for r in 0..<rows {
              (o + l.o.base(h) + (row0 + r) * l.o.rowStride).update(from: tile + r * dvPad, count: p.dv)
            }
          }
          row0 += rows
        }
      }
    }
  }

  /// Packs head h's Kᵀ into kt [d, ldk] (zero beyond the keys) and V into vp: [lk, dvPad] rows,
  /// or Vᵀ [dv, ldk] (zero beyond the keys) with `transposeV`.
  @inline(__always)
  static func packHead(
    _ p: AttentionPlan, _ l: HeadLayouts, _ h: Int, _ k: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
    kt: UnsafeMutablePointer<Float>, ldk: Int, vp: UnsafeMutablePointer<Float>, dvPad: Int, transposeV: Bool
  ) {
    let kh = k + l.k.base(h), vh = v + l.v.base(h)
    for c in 0..<p.d {
      let dst = kt + c * ldk
      for j in 0..<p.lk { dst[j] = kh[j * l.k.rowStride + c] }
      (dst + p.lk).update(repeating: 0, count: ldk - p.lk)
    }
    if transposeV {
      for c in 0..<p.dv {
        let dst = vp + c * ldk
        for j in 0..<p.lk { dst[j] = vh[j * l.v.rowStride + c] }
      }
    } else {
      for j in 0..<p.lk { (vp + j * dvPad).update(from: vh + j * l.v.rowStride, count: p.dv) }
    }
  }
}
