// ConvWinograd: 3x3 stride-1 conv2d by Winograd F(2x2, 3x3) — 16 small sgemms on transformed tiles.
//
// Each 2x2 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ)] A for its 4x4 input patch d: summed over input
// channels, the elementwise products become one [cout x cin] x [cin x tiles] GEMM per position ξ of
// the 4x4 transformed tile, 2.25x fewer multiply-adds than im2col. Transforms use only ±1 and ±1/2.

extension ConvGeometry {
  /// Whether the Winograd path applies: 3x3 kernel, stride 1, no dilation, and channels enough for
  /// its GEMMs to pay for the transforms.
  var fitsWinograd: Bool {
    kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && cg >= 8 && cog >= 8
  }
}

/// Tile bookkeeping for one Winograd call: th x tw tiles of 2x2 outputs per image, processed in
/// bands of consecutive tile rows over the whole batch (a band may span samples, so small images
/// still give wide GEMMs).
struct WinogradPlan {
  let geo: ConvGeometry
  let th: Int, tw: Int
  /// Padded image: the input at (ph, pw) inside hp x wp zeros, so every 4x4 patch is in bounds.
  let hp: Int, wp: Int
  let bandRows: Int, bands: Int
  var bandTiles: Int { bandRows * tw }

  init(_ geo: ConvGeometry) {
    self.geo = geo
    th = (geo.ho + 1) / 2
    tw = (geo.wo + 1) / 2
    hp = 2 * th + 2
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

  /// Copies one channel plane [h, w] into `dst` [hp, wp] at (ph, pw), zeros elsewhere.
  func pad(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
    let (h, w, ph, pw) = (geo.h, geo.w, geo.ph, geo.pw)
    zeroFloats(dst, ph * wp)
    for y in 0..<h {
      let row = dst + (y + ph) * wp
      zeroFloats(row, pw)
      copyFloats(row + pw, src + y * w, w)
      zeroFloats(row + pw + w, wp - pw - w)
    }
    zeroFloats(dst + (ph + h) * wp, (hp - ph - h) * wp)
  }

  /// V[ξ][t] = (Bᵀ d B)[ξ] for tile rows ty0 ..< ty0+rows of one padded channel; V[ξ] starts at
  /// v + ξ·xiStride and tile t = (ty - ty0)·tw + tx. Eight tiles per step: two overlapping 16-wide
  /// loads per input row give columns 2tx + (0...15) and 2tx + 2 + (0...15), split into even and odd
  /// columns by shuffles (reloading values just stored, one float off, would stall store forwarding).
  func inputTransform(_ padded: UnsafePointer<Float>, ty0: Int, rows: Int, _ v: UnsafeMutablePointer<Float>, xiStride: Int) {
    for r in 0..<rows {
      let r0 = padded + 2 * (ty0 + r) * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
      let out = v + r * tw
      // Bᵀ d down the columns: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3; then (·) B along each row:
      // a row (x0, x1, x2, x3) of a tile becomes (x0 - x2, x1 + x2, x2 - x1, x1 - x3).
      @inline(__always) func emit(_ j: Int, _ tx: Int, _ near: SIMD16<Float>, _ far: SIMD16<Float>) {
        let x0 = near.evenHalf, x1 = near.oddHalf, x2 = far.evenHalf, x3 = far.oddHalf
        let base = out + 4 * j * xiStride + tx
        store8(x0 - x2, base)
        store8(x1 + x2, base + xiStride)
        store8(x2 - x1, base + 2 * xiStride)
        store8(x1 - x3, base + 3 * xiStride)
      }
      var tx = 0
      while tx + 8 <= tw {
        let c = 2 * tx
        let a0 = load16(r0 + c), a1 = load16(r1 + c), a2 = load16(r2 + c), a3 = load16(r3 + c)
        let b0 = load16(r0 + c + 2), b1 = load16(r1 + c + 2), b2 = load16(r2 + c + 2), b3 = load16(r3 + c + 2)
        emit(0, tx, a0 - a2, b0 - b2)
        emit(1, tx, a1 + a2, b1 + b2)
        emit(2, tx, a2 - a1, b2 - b1)
        emit(3, tx, a1 - a3, b1 - b3)
        tx += 8
      }
      // Four tiles per step (the 8x8 maps of small UNets have tw = 4): the same with 8-wide loads.
      @inline(__always) func emit4(_ j: Int, _ tx: Int, _ near: SIMD8<Float>, _ far: SIMD8<Float>) {
        let x0 = near.evenHalf, x1 = near.oddHalf, x2 = far.evenHalf, x3 = far.oddHalf
        let base = out + 4 * j * xiStride + tx
        store4(x0 - x2, base)
        store4(x1 + x2, base + xiStride)
        store4(x2 - x1, base + 2 * xiStride)
        store4(x1 - x3, base + 3 * xiStride)
      }
      while tx + 4 <= tw {
        let c = 2 * tx
        let a0 = load8(r0 + c), a1 = load8(r1 + c), a2 = load8(r2 + c), a3 = load8(r3 + c)
        let b0 = load8(r0 + c + 2), b1 = load8(r1 + c + 2), b2 = load8(r2 + c + 2), b3 = load8(r3 + c + 2)
        emit4(0, tx, a0 - a2, b0 - b2)
        emit4(1, tx, a1 + a2, b1 + b2)
        emit4(2, tx, a2 - a1, b2 - b1)
        emit4(3, tx, a1 - a3, b1 - b3)
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
  /// M[ξ] at m + ξ·xiStride, written into `out` [ho, wo]. `scratch` holds 4·tw floats.
  func outputTransform(
    _ m: UnsafePointer<Float>, xiStride: Int, ty0: Int, rows: Int, bias: Float, _ out: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let top = scratch, bottom = scratch + 2 * tw
    for r in 0..<rows {
      let t = m + r * tw
      // Aᵀ M: a = rows 0 + 1 + 2, b = rows 1 - 2 - 3; then the same along the columns.
      @inline(__always) func column(_ j: Int, _ tx: Int) -> (SIMD8<Float>, SIMD8<Float>) {
        let m0 = load8(t + j * xiStride + tx), m1 = load8(t + (4 + j) * xiStride + tx)
        let m2 = load8(t + (8 + j) * xiStride + tx), m3 = load8(t + (12 + j) * xiStride + tx)
        return (m0 + m1 + m2, m1 - m2 - m3)
      }
      let b8 = SIMD8<Float>(repeating: bias)
      var tx = 0
      while tx + 8 <= tw {
        let (a0, b0) = column(0, tx), (a1, b1) = column(1, tx), (a2, b2) = column(2, tx), (a3, b3) = column(3, tx)
        storeInterleaved(a0 + a1 + a2 + b8, a1 - a2 - a3 + b8, top + 2 * tx)
        storeInterleaved(b0 + b1 + b2 + b8, b1 - b2 - b3 + b8, bottom + 2 * tx)
        tx += 8
      }
      @inline(__always) func column4(_ j: Int, _ tx: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let m0 = load4(t + j * xiStride + tx), m1 = load4(t + (4 + j) * xiStride + tx)
        let m2 = load4(t + (8 + j) * xiStride + tx), m3 = load4(t + (12 + j) * xiStride + tx)
        return (m0 + m1 + m2, m1 - m2 - m3)
      }
      let b4 = SIMD4<Float>(repeating: bias)
      while tx + 4 <= tw {
        let (a0, b0) = column4(0, tx), (a1, b1) = column4(1, tx), (a2, b2) = column4(2, tx), (a3, b3) = column4(3, tx)
        storeInterleaved4(a0 + a1 + a2 + b4, a1 - a2 - a3 + b4, top + 2 * tx)
        storeInterleaved4(b0 + b1 + b2 + b4, b1 - b2 - b3 + b4, bottom + 2 * tx)
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
      copyFloats(out + y * geo.wo, top, geo.wo)
      if y + 1 < geo.ho { copyFloats(out + (y + 1) * geo.wo, bottom, geo.wo) }
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
      @inline(__always) func emit(_ i: Int, _ tx: Int, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>) {
        store8(x0, base + 4 * i * xiStride + tx)
        store8(x0 + x1, base + (4 * i + 1) * xiStride + tx)
        store8(x0 - x1, base + (4 * i + 2) * xiStride + tx)
        store8(-x1, base + (4 * i + 3) * xiStride + tx)
      }
      var tx = 0
      while tx + 8 <= tw {
        let upper = load16(top + 2 * tx), lower = load16(bottom + 2 * tx)
        let y00 = upper.evenHalf, y01 = upper.oddHalf, y10 = lower.evenHalf, y11 = lower.oddHalf
        emit(0, tx, y00, y01)
        emit(1, tx, y00 + y10, y01 + y11)
        emit(2, tx, y00 - y10, y01 - y11)
        emit(3, tx, -y10, -y11)
        tx += 8
      }
      @inline(__always) func emit4(_ i: Int, _ tx: Int, _ x0: SIMD4<Float>, _ x1: SIMD4<Float>) {
        store4(x0, base + 4 * i * xiStride + tx)
        store4(x0 + x1, base + (4 * i + 1) * xiStride + tx)
        store4(x0 - x1, base + (4 * i + 2) * xiStride + tx)
        store4(-x1, base + (4 * i + 3) * xiStride + tx)
      }
      while tx + 4 <= tw {
        let upper = load8(top + 2 * tx), lower = load8(bottom + 2 * tx)
        let y00 = upper.evenHalf, y01 = upper.oddHalf, y10 = lower.evenHalf, y11 = lower.oddHalf
        emit4(0, tx, y00, y01)
        emit4(1, tx, y00 + y10, y01 + y11)
        emit4(2, tx, y00 - y10, y01 - y11)
        emit4(3, tx, -y10, -y11)
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
