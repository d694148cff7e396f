// Tensor: a strided view of a Storage, with the autograd links (requiresGrad, grad, gradFn).

/// An n-dimensional array of Float32 (or Int64) values with reverse-mode autograd.
///
/// Tensors are reference types, like PyTorch's: views share storage, and `grad` accumulates
/// into the same object across `backward()` calls.
public final class Tensor {
  public let storage: Storage
  public let shape: [Int]
  public let strides: [Int]
  public let offset: Int
  /// Whether gradients flow to this tensor. Set on leaves (parameters); results inherit it.
  public var requiresGrad: Bool {
    get { _requiresGrad || gradFn != nil }
    set { _requiresGrad = newValue }
  }
  var _requiresGrad = false
  /// The accumulated gradient after `backward()`, same shape as the tensor.
  public var grad: Tensor?
  /// The node that produced this tensor (nil for leaves and for results computed without grad).
  public internal(set) var gradFn: Node?

  /// Wraps a storage as a view; the caller guarantees the view stays inside the storage.
  init(storage: Storage, shape: [Int], strides: [Int], offset: Int) {
    self.storage = storage
    self.shape = shape
    self.strides = strides
    self.offset = offset
  }

  /// A fresh contiguous tensor; zero-filled unless `zeroed` is false.
  public convenience init(shape: [Int], dtype: DType = .float32, zeroed: Bool = true) {
    let s = Storage(count: elementCount(shape), dtype: dtype, zeroed: zeroed)
    self.init(storage: s, shape: shape, strides: contiguousStrides(shape), offset: 0)
  }

  public var dtype: DType { storage.dtype }
  public var rank: Int { shape.count }
  public var count: Int { elementCount(shape) }
  /// True when this is a leaf of the autograd graph (not produced by a tracked op).
  public var isLeaf: Bool { gradFn == nil }

  /// True when elements are laid out row-major without gaps starting at `offset`.
  public var isContiguous: Bool {
    var expected = 1
    for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
      if strides[i] != expected { return false }
      expected *= shape[i]
    }
    return true
  }

  /// Pointer to the first element of a float tensor (honours `offset`, not strides).
  public var data: UnsafeMutablePointer<Float> { storage.floats + offset }
  /// Pointer to the first element of an int64 tensor.
  public var intData: UnsafeMutablePointer<Int64> { storage.ints + offset }

  /// A view sharing storage with new geometry and no autograd links.
  func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
    Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
  }

  /// The same values without autograd history.
  public func detach() -> Tensor { view(shape: shape, strides: strides, offset: offset) }

  /// Throws unless the tensor holds Float32.
  func requireFloat(_ op: String) throws {
    if dtype != .float32 { throw TensorError.dtype(op, "expected a float tensor, got \(dtype) \(shapeString(shape))") }
  }

  /// Clears the accumulated gradient.
  public func zeroGrad() { grad = nil }
}

extension Tensor: CustomStringConvertible {
  /// A short summary, e.g. `Tensor<f32>[2, 3]`.
  public var description: String {
    "Tensor<\(dtype)>[" + shape.map(String.init).joined(separator: ", ") + "]"
  }
}
