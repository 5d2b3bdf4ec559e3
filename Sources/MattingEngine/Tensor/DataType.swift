/// The element type of a tensor or graph value.
///
/// Activations are `float32`; `int64` exists for shape tensors and indices (ONNX `Shape`,
/// `Gather`, `Concat` chains), which the compiler normally folds away at compile time.
public enum DataType: String, Sendable, Hashable, CustomStringConvertible {
    /// 32-bit IEEE float (4 bytes).
    case float32
    /// 64-bit signed integer (8 bytes).
    case int64

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float32: 4
        case .int64: 8
        }
    }

    public var description: String { rawValue }
}

/// The number of elements of a shape (1 for a scalar, `[]`).
@inlinable
func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Row-major strides (in elements) of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = s
        s *= shape[axis]
    }
    return strides
}
