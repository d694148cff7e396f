// ConvWinograd: 3x3 stride-1 conv2d by Winograd F(2x2, 3x3) — 16 small sgemms on transformed tiles.
//
// Each 2x2 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ)] A for its 4x4 input patch d: summed over input
// channels, the elementwise products become one [cout x cin] x [cin x tiles] GEMM per position ξ of
// the 4x4 transformed tile, 2.25x fewer multiply-adds than im2col. Transforms use only ±1 and ±1/2.

import CKernels

extension ConvGeometry {
  /// Whether the Winograd path applies: 3x3 kernel, stride 1, no dilation, channels enough for
  /// its GEMMs to pay for the transforms, and at least 256 output positions per call. The weight
  /// transform writes 16/9 of the weights and the GEMMs read that back, which the 2.25x fewer
  /// multiply-adds only repay over enough positions: measured 1280 -> 1280 at 4x4
  /// b2 29 vs 8 ms with im2col, at 8x8 b2 32 vs 18.5 ms, 320 -> 320 at 8x8 b2 1.6-1.9 vs 1.05 ms;
  /// at 256 positions the two are even, at 512 Winograd wins (640 -> 640 16x16 b2 12 vs 14 ms).
  var fitsWinograd: Bool {
    kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && cg >= 8 && cog >= 8 && n * ho * wo >= 256
  }
}

/// Tile bookkeeping for one Winograd call: th x tw tiles of 2x2 outputs per image, processed in
/// bands of consecutive tile rows over the whole batch (a band may span samples, so small images
/// still give wide GEMMs).
struct WinogradPlan {
  let geo: ConvGeometry
  let th: Int, tw: Int
  /// Width of a padded row: the input at column pw inside wp zeros, so every 4x4 patch is in bounds
  /// (the padded image has 2·th + 2 rows; `padRows` writes the ones a band needs).
  let wp: Int
  let bandRows: Int, bands: Int
  var bandTiles: Int { bandRows * tw }
  /// Whether the input transform runs its AVX-512 build (read on the calling thread at init).
  let wide = VectorDispatch.useAVX512

  init(_ geo: ConvGeometry) {
    self.geo = geo
    th = (geo.ho + 1) / 2
    tw = (geo.wo + 1) / 2
    wp = 2 * tw + 2
    // Bands of ~128 tiles or more (narrower GEMMs lose efficiency) whose transformed tiles stay
    // near 512 KB when the channels allow it (measured best on the UNet shapes), and at least one
    // band per thread.
    let totalRows = geo.n * th
    let targetTiles = Swift.max(128, 8192 / Swift.max(Swift.max(geo.cg, geo.cog), 1))
    let budgetRows = Swift.max(1, targetTiles / Swift.max(tw, 1))
    let tasksPerGroup = Swift.max(1, (Parallel.threads + geo.groups - 1) / geo.groups)
    bandRows = Swift.max(1, Swift.min(budgetRows, (totalRows + tasksPerGroup - 1) / tasksPerGroup))
    bands = (totalRows + bandRows - 1) / bandRows
  }

  /// Splits global tile rows band·bandRows ..< +bandRows (capped at n·th) into per-sample pieces:
  /// body(sample, first tile row in the sample, rows, offset of the piece in the band).
  @inline(__always)
  func forEachPiece(ofBand band: Int, _ body: (Int, Int, Int, Int) -> Void) {
    let first = band * bandRows, end = Swift.min(geo.n * th, first + bandRows)
    var row = first
    while row < end {
      let s = row / th, ty = row - s * th, count = Swift.min(th - ty, end - row)
      body(s, ty, count, row - first)
      row += count
    }
  }

  /// Tile rows in band `band`.
  func rows(ofBand band: Int) -> Int { Swift.min(bandRows, geo.n * th - band * bandRows) }

  /// Floats of one channel's padded rows for the largest band: 2·bandRows + 2 rows of wp.
  var paddedBandFloats: Int { (2 * bandRows + 2) * wp }

  /// Copies rows 2·ty0 ..< 2·(ty0 + rows) + 2 of the padded image of one channel plane [h, w] (the
  /// input at (ph, pw), zeros elsewhere) into `dst` [2·rows + 2, wp].
  func padRows(_ src: UnsafePointer<Float>, ty0: Int, rows: Int, into dst: UnsafeMutablePointer<Float>) {
    let (h, w, ph, pw) = (geo.h, geo.w, geo.ph, geo.pw)
    for r in 0..<(2 * rows + 2) {
      let y = 2 * ty0 + r - ph, row = dst + r * wp
      guard y >= 0, y < h else {
        zeroFloats(row, wp)
        continue
      }
      zeroFloats(row, pw)
      copyFloats(row + pw, src + y * w, w)
      zeroFloats(row + pw + w, wp - pw - w)
    }
  }

  /// V[ξ][t] = (Bᵀ d B)[ξ] for tile rows ty0 ..< ty0+rows of one padded channel; V[ξ] starts at
  /// v + ξ·xiStride and tile t = (ty - ty0)·tw + tx. Eight tiles per step: two overlapping 16-wide
  /// loads per input row give columns 2tx + (0...15) and 2tx + 2 + (0...15), split into even and odd
  /// columns by shuffles (reloading values just stored, one float off, would stall store forwarding).
  func inputTransform(_ padded: UnsafePointer<Float>, ty0: Int, rows: Int, _ v: UnsafeMutablePointer<Float>, xiStride: Int) {
    for r in 0..<rows {
      let r0 = padded + 2 * (ty0 + r) * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
      let out = v + r * tw
      var tx = wide ? aptp_winograd_input_row_avx512(r0, wp, tw, out, xiStride) : 0
      // Bᵀ d down the columns: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3; then (·) B along each row:
      // a row (x0, x1, x2, x3) of a tile becomes (x0 - x2, x1 + x2, x2 - x1, x1 - x3).
      @inline(__always) func emit<V: SplitLanes>(_ j: Int, _ tx: Int, _ near: V, _ far: V) {
        let x0 = near.evenHalf, x1 = near.oddHalf, x2 = far.evenHalf, x3 = far.oddHalf
        let base = out + 4 * j * xiStride + tx
        storeVector(x0 - x2, base)
        storeVector(x1 + x2, base + xiStride)
        storeVector(x2 - x1, base + 2 * xiStride)
        storeVector(x1 - x3, base + 3 * xiStride)
      }
      // V.scalarCount / 2 tiles from columns c + (0..<width) and c + 2 + (0..<width).
      @inline(__always) func tiles<V: SplitLanes>(_ tx: Int, _: V.Type) {
        let c = 2 * tx
        let a0: V = loadVector(r0 + c), a1: V = loadVector(r1 + c), a2: V = loadVector(r2 + c), a3: V = loadVector(r3 + c)
        let b0: V = loadVector(r0 + c + 2), b1: V = loadVector(r1 + c + 2), b2: V = loadVector(r2 + c + 2), b3: V = loadVector(r3 + c + 2)
        emit(0, tx, a0 - a2, b0 - b2)
        emit(1, tx, a1 + a2, b1 + b2)
        emit(2, tx, a2 - a1, b2 - b1)
        emit(3, tx, a1 - a3, b1 - b3)
      }
      while tx + 8 <= tw {
        tiles(tx, SIMD16<Float>.self)
        tx += 8
      }
      // Four tiles per step for what is left (the 8x8 maps of small UNets have tw = 4).
      while tx + 4 <= tw {
        tiles(tx, SIMD8<Float>.self)
        tx += 4
      }
      while tx < tw {
        let c = 2 * tx
        for j in 0..<4 {
          var x = SIMD4<Float>()
          for col in 0..<4 {
            let d0 = r0[c + col], d1 = r1[c + col], d2 = r2[c + col], d3 = r3[c + col]
            x[col] = j == 0 ? d0 - d2 : (j == 1 ? d1 + d2 : (j == 2 ? d2 - d1 : d1 - d3))
          }
          let base = out + 4 * j * xiStride + tx
          base[0] = x[0] - x[2]
          base[xiStride] = x[1] + x[2]
          base[2 * xiStride] = x[2] - x[1]
          base[3 * xiStride] = x[1] - x[3]
        }
        tx += 1
      }
    }
  }

  /// Output rows of tile rows ty0 ..< ty0+rows for one output channel: Y = Aᵀ M A (+ bias) from
  /// M[ξ] at m + ξ·xiStride, written into `out` [ho, wo] after adding `shift`, then `residual`
  /// [ho, wo] when given (in the order separate ops would add them). `scratch` holds 4·tw floats.
  func outputTransform(
    _ m: UnsafePointer<Float>, xiStride: Int, ty0: Int, rows: Int, bias: Float, _ out: UnsafeMutablePointer<Float>,
    shift: Float = 0, adding residual: UnsafePointer<Float>? = nil, scratch: UnsafeMutablePointer<Float>
  ) {
    let top = scratch, bottom = scratch + 2 * tw
    for r in 0..<rows {
      let t = m + r * tw
      // Aᵀ M: a = rows 0 + 1 + 2, b = rows 1 - 2 - 3; then the same along the columns.
      @inline(__always) func column<H: SIMD>(_ j: Int, _ tx: Int) -> (H, H) where H.Scalar == Float {
        let m0: H = loadVector(t + j * xiStride + tx), m1: H = loadVector(t + (4 + j) * xiStride + tx)
        let m2: H = loadVector(t + (8 + j) * xiStride + tx), m3: H = loadVector(t + (12 + j) * xiStride + tx)
        return (m0 + m1 + m2, m1 - m2 - m3)
      }
      // V.scalarCount / 2 tiles: columns of M as half-width vectors, outputs interleaved at full width.
      @inline(__always) func tiles<V: SplitLanes>(_ tx: Int, _ full: V.Type) {
        let (a0, b0): (V.Half, V.Half) = column(0, tx), (a1, b1): (V.Half, V.Half) = column(1, tx)
        let (a2, b2): (V.Half, V.Half) = column(2, tx), (a3, b3): (V.Half, V.Half) = column(3, tx)
        let bb = V.Half(repeating: bias)
        storeInterleaved(a0 + a1 + a2 + bb, a1 - a2 - a3 + bb, top + 2 * tx, as: full)
        storeInterleaved(b0 + b1 + b2 + bb, b1 - b2 - b3 + bb, bottom + 2 * tx, as: full)
      }
      var tx = 0
      while tx + 8 <= tw {
        tiles(tx, SIMD16<Float>.self)
        tx += 8
      }
      while tx + 4 <= tw {
        tiles(tx, SIMD8<Float>.self)
        tx += 4
      }
      while tx < tw {
        var a = SIMD4<Float>(), b = SIMD4<Float>()
        for j in 0..<4 {
          let m0 = t[j * xiStride + tx], m1 = t[(4 + j) * xiStride + tx]
          let m2 = t[(8 + j) * xiStride + tx], m3 = t[(12 + j) * xiStride + tx]
          a[j] = m0 + m1 + m2
          b[j] = m1 - m2 - m3
        }
        top[2 * tx] = a[0] + a[1] + a[2] + bias
        top[2 * tx + 1] = a[1] - a[2] - a[3] + bias
        bottom[2 * tx] = b[0] + b[1] + b[2] + bias
        bottom[2 * tx + 1] = b[1] - b[2] - b[3] + bias
        tx += 1
      }
      let y = 2 * (ty0 + r)
      writeRow(top, out + y * geo.wo, shift: shift, adding: residual.map { $0 + y * geo.wo })
      if y + 1 < geo.ho {
        writeRow(bottom, out + (y + 1) * geo.wo, shift: shift, adding: residual.map { $0 + (y + 1) * geo.wo })
      }
    }
  }

  /// One output row from the transform's scratch row: residual + (row + shift), or a copy.
  @inline(__always)
  private func writeRow(
    _ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, shift: Float, adding residual: UnsafePointer<Float>?
  ) {
    if shift == 0 && residual == nil { return copyFloats(out, row, geo.wo) }
    let s = SIMD8<Float>(repeating: shift)
    var i = 0
    while i + 8 <= geo.wo {
      let y = load8(row + i) + s
      store8(residual.map { load8($0 + i) + y } ?? y, out + i)
      i += 8
    }
    while i < geo.wo {
      let y = row[i] + shift
      out[i] = residual.map { $0[i] + y } ?? y
      i += 1
    }
  }

  /// dM[ξ][t] = (A dY Aᵀ)[ξ] for tile rows ty0 ..< ty0+rows of one output-gradient channel [ho, wo]
  /// (outputs past the edge count as 0). `scratch` holds 4·tw floats.
  func gradientTransform(
    _ gy: UnsafePointer<Float>, ty0: Int, rows: Int, _ dm: UnsafeMutablePointer<Float>, xiStride: Int,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let top = scratch, bottom = scratch + 2 * tw
    for r in 0..<rows {
      let y = 2 * (ty0 + r)
      copyFloats(top, gy + y * geo.wo, geo.wo)
      zeroFloats(top + geo.wo, 2 * tw - geo.wo)
      if y + 1 < geo.ho {
        copyFloats(bottom, gy + (y + 1) * geo.wo, geo.wo)
        zeroFloats(bottom + geo.wo, 2 * tw - geo.wo)
      } else {
        zeroFloats(bottom, 2 * tw)
      }
      let base = dm + r * tw
      // Rows of A dY are (y0·), (y0· + y1·), (y0· - y1·), (-y1·); each row (x0, x1) then becomes
      // (x0, x0 + x1, x0 - x1, -x1).
      @inline(__always) func emit<H: SIMD>(_ i: Int, _ tx: Int, _ x0: H, _ x1: H) where H.Scalar == Float {
        storeVector(x0, base + 4 * i * xiStride + tx)
        storeVector(x0 + x1, base + (4 * i + 1) * xiStride + tx)
        storeVector(x0 - x1, base + (4 * i + 2) * xiStride + tx)
        storeVector(-x1, base + (4 * i + 3) * xiStride + tx)
      }
      // V.scalarCount / 2 tiles from the interleaved rows of dY.
      @inline(__always) func tiles<V: SplitLanes>(_ tx: Int, _: V.Type) {
        let upper: V = loadVector(top + 2 * tx), lower: V = loadVector(bottom + 2 * tx)
        let y00 = upper.evenHalf, y01 = upper.oddHalf, y10 = lower.evenHalf, y11 = lower.oddHalf
        emit(0, tx, y00, y01)
        emit(1, tx, y00 + y10, y01 + y11)
        emit(2, tx, y00 - y10, y01 - y11)
        emit(3, tx, -y10, -y11)
      }
      var tx = 0
      while tx + 8 <= tw {
        tiles(tx, SIMD16<Float>.self)
        tx += 8
      }
      while tx + 4 <= tw {
        tiles(tx, SIMD8<Float>.self)
        tx += 4
      }
      while tx < tw {
        let y00 = top[2 * tx], y01 = top[2 * tx + 1], y10 = bottom[2 * tx], y11 = bottom[2 * tx + 1]
        let p0 = y00 + y10, p1 = y01 + y11, q0 = y00 - y10, q1 = y01 - y11
        let values: (Float, Float, Float, Float, Float, Float, Float, Float) = (y00, y01, p0, p1, q0, q1, -y10, -y11)
        for i in 0..<4 {
          let x0 = i == 0 ? values.0 : (i == 1 ? values.2 : (i == 2 ? values.4 : values.6))
          let x1 = i == 0 ? values.1 : (i == 1 ? values.3 : (i == 2 ? values.5 : values.7))
          base[4 * i * xiStride + tx] = x0
          base[(4 * i + 1) * xiStride + tx] = x0 + x1
          base[(4 * i + 2) * xiStride + tx] = x0 - x1
          base[(4 * i + 3) * xiStride + tx] = -x1
        }
        tx += 1
      }
    }
  }
}
