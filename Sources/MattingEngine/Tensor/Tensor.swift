/// An n-dimensional array of `float32` or `int64` values with value semantics.
///
/// Layout: dense, row-major (the last axis varies fastest). 4-D activations are **NHWC**
/// (`[batch, height, width, channels]`, channels innermost); spatial operators
/// (convolution, pooling, resize) are defined on NHWC, while generic operators take
/// explicit axes. Use ``nhwcFromNCHW()`` / ``nchwFromNHWC()`` to convert.
///
/// Storage is 64-byte aligned and copy-on-write: copies share memory until one is
/// mutated. `Tensor` is `Sendable`.
///
/// ```swift
/// let t = Tensor(shape: [1, 2, 2, 3], floats: Array(repeating: 0.5, count: 12))
/// ```
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The size of each axis; `[]` is a scalar.
    public private(set) var shape: [Int]
    /// The element type.
    public let dataType: DataType
    var storage: TensorStorage

    /// Number of elements (product of `shape`).
    public var count: Int { elementCount(shape) }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// A zero-filled tensor.
    /// - Precondition: every dimension is ≥ 0.
    public init(zeros shape: [Int], dataType: DataType = .float32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.dataType = dataType
        storage = TensorStorage(byteCount: elementCount(shape) * dataType.byteCount)
    }

    /// A `float32` tensor holding `floats` in row-major order.
    /// - Precondition: `floats.count` equals the product of `shape`.
    public init(shape: [Int], floats: [Float]) {
        precondition(floats.count == elementCount(shape), "\(floats.count) values for shape \(shape)")
        self.init(zeros: shape, dataType: .float32)
        floats.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// An `int64` tensor holding `values` in row-major order.
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], int64s values: [Int64]) {
        precondition(values.count == elementCount(shape), "\(values.count) values for shape \(shape)")
        self.init(zeros: shape, dataType: .int64)
        values.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// A 0-d `float32` tensor.
    public init(scalar: Float) { self.init(shape: [], floats: [scalar]) }

    /// The elements as floats (`int64` values are converted).
    public var floats: [Float] {
        switch dataType {
        case .float32:
            return Array(UnsafeBufferPointer(start: storage.pointer.assumingMemoryBound(to: Float.self), count: count))
        case .int64:
            return int64s.map { Float($0) }
        }
    }

    /// The elements as 64-bit integers (`float32` values are truncated toward zero).
    public var int64s: [Int64] {
        switch dataType {
        case .int64:
            return Array(UnsafeBufferPointer(start: storage.pointer.assumingMemoryBound(to: Int64.self), count: count))
        case .float32:
            return floats.map { Int64($0) }
        }
    }

    /// Calls `body` with the `float32` elements.
    /// - Precondition: `dataType == .float32`.
    public func withUnsafeFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dataType == .float32, "tensor is \(dataType)")
        return try body(UnsafeBufferPointer(start: storage.pointer.assumingMemoryBound(to: Float.self), count: count))
    }

    /// Calls `body` with mutable access to the `float32` elements (copies shared storage first).
    /// - Precondition: `dataType == .float32`.
    public mutating func withUnsafeMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dataType == .float32, "tensor is \(dataType)")
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer.assumingMemoryBound(to: Float.self), count: count))
    }

    /// Calls `body` with the raw bytes (`count × dataType.byteCount`).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer, count: count * dataType.byteCount))
    }

    /// The same elements viewed with another shape of equal element count (no copy).
    /// - Precondition: the element counts match.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(elementCount(newShape) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    /// Whether this tensor's storage is shared with no other tensor.
    var isUniquelyReferenced: Bool { mutating get { isKnownUniquelyReferenced(&storage) } }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape, a.dataType == b.dataType else { return false }
        if a.storage === b.storage { return true }
        switch a.dataType {
        case .float32: return a.floats == b.floats
        case .int64: return a.int64s == b.int64s
        }
    }

    public var description: String {
        let preview = dataType == .float32
            ? floats.prefix(8).map { "\($0)" } : int64s.prefix(8).map { "\($0)" }
        return "Tensor<\(dataType)>\(shape)[\(preview.joined(separator: ", "))\(count > 8 ? ", …" : "")]"
    }
}
