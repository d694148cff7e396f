// ConvUnfold: im2col / col2im over column tiles (padded or bounds-checked), and short vector copies.

/// dst[0..<n] = src[0..<n] in 8-float vectors (short runs: a memcpy call would cost more than the copy).
@inline(__always)
func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
  var i = 0
  while i + 8 <= n {
    store8(load8(src + i), dst + i)
    i += 8
  }
  while i < n {
    dst[i] = src[i]
    i += 1
  }
}

/// dst[0..<n] = 0 in 8-float vectors.
@inline(__always)
func zeroFloats(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
  var i = 0
  while i + 8 <= n {
    store8(SIMD8<Float>(), dst + i)
    i += 8
  }
  while i < n {
    dst[i] = 0
    i += 1
  }
}

extension ConvGeometry {
  /// Floats of one group's zero-padded image, [cg, h + 2·ph, w + 2·pw].
  var paddedCount: Int { cg * (h + 2 * ph) * (w + 2 * pw) }

  /// Copies group `g` of one sample's image [C,H,W] into `padded` [cg, h+2ph, w+2pw] with zero
  /// borders, so im2col reads every tap without bounds checks.
  func padImage(_ image: UnsafePointer<Float>, group g: Int, into padded: UnsafeMutablePointer<Float>) {
    let hp = h + 2 * ph, wp = w + 2 * pw
    for cl in 0..<cg {
      let src = image + (g * cg + cl) * h * w, dst = padded + cl * hp * wp
      zeroFloats(dst, ph * wp)
      for y in 0..<h {
        let row = dst + (y + ph) * wp
        zeroFloats(row, pw)
        copyFloats(row + pw, src + y * w, w)
        zeroFloats(row + pw + w, pw)
      }
      zeroFloats(dst + (ph + h) * wp, ph * wp)
    }
  }

  /// Unfolds output columns `start ..< start+count` of a padded group image (see `padImage`)
  /// into col [cg*kh*kw, count] (row-major, leading dimension `count`).
  func im2colTile(_ padded: UnsafePointer<Float>, start: Int, count: Int, into col: UnsafeMutablePointer<Float>) {
    let hp = h + 2 * ph, wp = w + 2 * pw, end = start + count
    let firstRow = start / wo, firstColumn = start - firstRow * wo
    for cl in 0..<cg {
      for ki in 0..<kh {
        for kj in 0..<kw {
          let row = col + ((cl * kh + ki) * kw + kj) * count - start
          let base = padded + cl * hp * wp + ki * dh * wp + kj * dw
          var p = start, oy = firstRow, ox0 = firstColumn
          while p < end {
            let run = Swift.min(wo - ox0, end - p)
            let line = base + oy * sh * wp + ox0 * sw
            if sw == 1 {
              copyFloats(row + p, line, run)
            } else {
              for i in 0..<run { row[p + i] = line[i * sw] }
            }
            p += run
            oy += 1
            ox0 = 0
          }
        }
      }
    }
  }

  /// Whether im2col reads a zero-padded copy of the image: for stride 1 the copy is ~kh·kw times
  /// smaller than the column matrix and removes all bounds logic; for larger strides it is not.
  var padsBeforeUnfolding: Bool { sh == 1 && sw == 1 }

  /// The output columns `oxLo ..< oxHi` whose input column `ox·sw + xoff` lies inside [0, w).
  @inline(__always)
  func validColumns(_ xoff: Int) -> (Int, Int) {
    let lo = xoff >= 0 ? 0 : Swift.min(wo, (-xoff + sw - 1) / sw)
    return (lo, Swift.max(lo, Swift.min(wo, w - xoff > 0 ? (w - xoff + sw - 1) / sw : 0)))
  }

  /// im2colTile for strided convs, reading the unpadded image with per-run bounds.
  func im2colTileDirect(
    _ image: UnsafePointer<Float>, group g: Int, start: Int, count: Int, into col: UnsafeMutablePointer<Float>
  ) {
    let plane = h * w, end = start + count
    let firstRow = start / wo, firstColumn = start - firstRow * wo
    for cl in 0..<cg {
      let src = image + (g * cg + cl) * plane
      for ki in 0..<kh {
        for kj in 0..<kw {
          let row = col + ((cl * kh + ki) * kw + kj) * count - start
          let xoff = kj * dw - pw
          let (oxLo, oxHi) = validColumns(xoff)
          if start == 0 && count == spatialOut {
            // Whole image: the valid column range is the same on every output row.
            for oy in 0..<ho {
              let dst = row + oy * wo
              let iy = oy * sh - ph + ki * dh
              if iy < 0 || iy >= h {
                zeroFloats(dst, wo)
                continue
              }
              let line = src + iy * w + xoff
              for ox in 0..<oxLo { dst[ox] = 0 }
              for ox in oxLo..<oxHi { dst[ox] = line[ox * sw] }
              for ox in oxHi..<wo { dst[ox] = 0 }
            }
            continue
          }
          var p = start, oy = firstRow, ox0 = firstColumn
          while p < end {
            let ox1 = Swift.min(wo, ox0 + end - p)
            let dst = row + p - ox0  // dst[ox] is output column (oy, ox)
            let iy = oy * sh - ph + ki * dh
            if iy < 0 || iy >= h {
              zeroFloats(dst + ox0, ox1 - ox0)
            } else {
              let line = src + iy * w + xoff
              let lo = Swift.min(Swift.max(ox0, oxLo), ox1), hi = Swift.max(lo, Swift.min(oxHi, ox1))
              for ox in ox0..<lo { dst[ox] = 0 }
              for ox in lo..<hi { dst[ox] = line[ox * sw] }
              for ox in hi..<ox1 { dst[ox] = 0 }
            }
            p += ox1 - ox0
            oy += 1
            ox0 = 0
          }
        }
      }
    }
  }

  /// Unfolds output columns `start ..< start+count` of group `g` of one sample's image into col,
  /// through `padded` (paddedCount floats) when `padsBeforeUnfolding`. `paddedKey` names the
  /// (sample, group) image currently in `padded` (-1: none), so tiles of one image pad it once.
  @inline(__always)
  func unfold(
    _ image: UnsafePointer<Float>, sample: Int, group g: Int, start: Int, count: Int,
    padded: UnsafeMutablePointer<Float>, paddedKey: inout Int, into col: UnsafeMutablePointer<Float>
  ) {
    if padsBeforeUnfolding {
      if paddedKey != sample * groups + g {
        padImage(image, group: g, into: padded)
        paddedKey = sample * groups + g
      }
      im2colTile(padded, start: start, count: count, into: col)
    } else {
      im2colTileDirect(image, group: g, start: start, count: count, into: col)
    }
  }

  /// Adds col [cg*kh*kw, count] (output columns `start ..< start+count`) back into group `g` of
  /// one sample's image gradient [C,H,W]: the transpose of `im2colTileDirect`.
  func col2imTile(
    _ col: UnsafePointer<Float>, group g: Int, start: Int, count: Int, into image: UnsafeMutablePointer<Float>
  ) {
    let plane = h * w, end = start + count
    let firstRow = start / wo, firstColumn = start - firstRow * wo
    for cl in 0..<cg {
      let dst = image + (g * cg + cl) * plane
      for ki in 0..<kh {
        for kj in 0..<kw {
          let row = col + ((cl * kh + ki) * kw + kj) * count - start
          let xoff = kj * dw - pw
          let (oxLo, oxHi) = validColumns(xoff)
          var p = start, oy = firstRow, ox0 = firstColumn
          while p < end {
            let ox1 = Swift.min(wo, ox0 + end - p)
            let iy = oy * sh - ph + ki * dh
            if iy >= 0 && iy < h {
              let line = dst + iy * w + xoff, src = row + p - ox0
              let lo = Swift.min(Swift.max(ox0, oxLo), ox1), hi = Swift.max(lo, Swift.min(oxHi, ox1))
              if sw == 1 {
                for ox in lo..<hi { line[ox] += src[ox] }
              } else {
                for ox in lo..<hi { line[ox * sw] += src[ox] }
              }
            }
            p += ox1 - ox0
            oy += 1
            ox0 = 0
          }
        }
      }
    }
  }
}
