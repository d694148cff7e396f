// CLIPImageProcessor: transformers' CLIP preprocessing — shortest-side bicubic resize, center crop, rescale, normalise.

import Formats
import TensorCore

/// `preprocessor_config.json` of a CLIP model, applied with Pillow's bicubic filter (what the
/// PIL backend, and transformers 4, do; transformers 5's default torchvision backend rounds
/// between its two passes and differs by at most 1/255 in a few pixels).
public struct CLIPImageProcessor: Sendable {
  public var shortestEdge = 224
  public var cropHeight = 224, cropWidth = 224
  public var mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
  public var std: [Float] = [0.26862954, 0.26130258, 0.27577711]
  public var rescale: Float = 1.0 / 255
  public var doResize = true, doCenterCrop = true, doNormalize = true

  public init() {}

  /// Reads the keys of `preprocessor_config.json` (missing ones keep CLIP's defaults).
  public init(config: ConfigValue) {
    self.init()
    let m = config.mapValue
    if let s = m?["size"]?.mapValue?["shortest_edge"]?.intValue { shortestEdge = s }
    if let c = m?["crop_size"]?.mapValue {
      cropHeight = c["height"]?.intValue ?? cropHeight
      cropWidth = c["width"]?.intValue ?? cropWidth
    }
    if let v = m?["image_mean"]?.listValue?.compactMap(\.doubleValue), v.count == 3 { mean = v.map(Float.init) }
    if let v = m?["image_std"]?.listValue?.compactMap(\.doubleValue), v.count == 3 { std = v.map(Float.init) }
    if let r = m?["rescale_factor"]?.doubleValue { rescale = Float(r) }
    doResize = m?["do_resize"]?.boolValue ?? true
    doCenterCrop = m?["do_center_crop"]?.boolValue ?? true
    doNormalize = m?["do_normalize"]?.boolValue ?? true
  }

  /// Pixel values [1, 3, cropH, cropW] for an 8-bit RGB image.
  public func callAsFunction(_ image: Image) throws -> Tensor {
    guard image.channels == 3 else { throw MetricsError("CLIP preprocessing needs an RGB image, got \(image.channels) channels") }
    var img = image
    if doResize {
      let (w, h) = (img.width, img.height)
      let (nw, nh) = w <= h ? (shortestEdge, Int(Double(shortestEdge) * Double(h) / Double(w))) : (Int(Double(shortestEdge) * Double(w) / Double(h)), shortestEdge)
      img = try img.resized(width: nw, height: nh, filter: .bicubic)
    }
    if doCenterCrop {
      guard img.width >= cropWidth, img.height >= cropHeight else {
        throw MetricsError("image \(img.width)x\(img.height) is smaller than the \(cropWidth)x\(cropHeight) crop")
      }
      img = try img.cropped(x: (img.width - cropWidth) / 2, y: (img.height - cropHeight) / 2, width: cropWidth, height: cropHeight)
    }
    let (w, h) = (img.width, img.height)
    let out = Tensor(shape: [1, 3, h, w], zeroed: false)
    for c in 0..<3 {
      let scale = doNormalize ? rescale / std[c] : rescale, shift = doNormalize ? mean[c] / std[c] : 0
      for p in 0..<(w * h) { out.data[c * w * h + p] = Float(img.pixels[p * 3 + c]) * scale - shift }
    }
    return out
  }
}
