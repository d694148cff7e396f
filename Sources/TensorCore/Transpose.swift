// Transpose: a cache-blocked copy for views that are batched 2-D transposes (the token/channel permutes of vision transformers and UNets).

extension Tensor {
  /// If this 4-byte view, with adjacent dimensions merged where memory allows, is a batch of
  /// transposed matrices — [B, R, C] with strides (R·C, 1, R): element (b, r, c) at b·R·C + c·R + r —
  /// returns (B, R, C). `contiguousCopy` then copies tile by tile instead of striding through memory.
  var batchedTransposeShape: (batch: Int, rows: Int, cols: Int)? {
    guard dtype.size == 4, rank >= 2 else { return nil }
    var dims: [(size: Int, stride: Int)] = []
    for (size, stride) in zip(shape, strides) where size != 1 {
      if let last = dims.last, last.stride == stride * size {
        dims[dims.count - 1] = (last.size * size, stride)
      } else {
        dims.append((size, stride))
      }
    }
    if dims.count == 2 { dims.insert((1, dims[0].size * dims[1].size), at: 0) }
    guard dims.count == 3 else { return nil }
    let (b, r, c) = (dims[0], dims[1], dims[2])
    guard r.stride == 1, c.stride == r.size, b.size == 1 || b.stride == r.size * c.size, r.size >= 8, c.size >= 8 else { return nil }
    return (b.size, r.size, c.size)
  }

  /// Copies the batched transpose described by `batchedTransposeShape` into `out` (contiguous
  /// [B, R, C]) in 16 x 16 tiles, parallel over (batch, row tile).
  func copyBatchedTranspose(_ t: (batch: Int, rows: Int, cols: Int), into out: Tensor) {
    let (b, r, c) = t
    let tile = 16
    let rowTiles = (r + tile - 1) / tile
    let source = (storage.raw + offset * 4).assumingMemoryBound(to: UInt32.self)
    let destination = out.storage.raw.assumingMemoryBound(to: UInt32.self)
    Parallel.forRange(b * rowTiles, grain: Swift.max(1, 65_536 / Swift.max(tile * c, 1))) { begin, end in
      for task in begin..<end {
        let batch = task / rowTiles, r0 = (task % rowTiles) * tile, r1 = Swift.min(r, r0 + tile)
        let src = source + batch * r * c, dst = destination + batch * r * c
        var c0 = 0
        while c0 < c {
          let c1 = Swift.min(c, c0 + tile)
          for row in r0..<r1 {
            for col in c0..<c1 { dst[row * c + col] = src[col * r + row] }
          }
          c0 = c1
        }
      }
    }
  }
}
