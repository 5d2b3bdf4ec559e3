import MattingEngine

/// A tensor of `Double`s for reference evaluation: obviously-correct loops in double
/// precision, so the engine's float32 results can be compared against a more exact answer.
public struct ReferenceTensor: Sendable {
    public var shape: [Int]
    public var data: [Double]
    public var dataType: DataType

    public init(shape: [Int], data: [Double], dataType: DataType = .float32) {
        precondition(shape.reduce(1, *) == data.count, "\(data.count) values for \(shape)")
        self.shape = shape; self.data = data; self.dataType = dataType
    }

    public init(zeros shape: [Int], dataType: DataType = .float32) {
        self.init(shape: shape, data: Array(repeating: 0, count: shape.reduce(1, *)), dataType: dataType)
    }

    public init(_ t: Tensor) {
        switch t.dataType {
        case .float32: self.init(shape: t.shape, data: t.floats.map(Double.init), dataType: .float32)
        case .int64: self.init(shape: t.shape, data: t.int64s.map(Double.init), dataType: .int64)
        }
    }

    /// The engine tensor (float32 values rounded from double).
    public var tensor: Tensor {
        switch dataType {
        case .float32: Tensor(shape: shape, floats: data.map { Float($0) })
        case .int64: Tensor(shape: shape, int64s: data.map { Int64($0) })
        }
    }

    public var count: Int { data.count }

    /// The flat offset of a multi-index.
    public func offset(_ index: [Int]) -> Int {
        var o = 0
        for (i, d) in zip(index, shape) { o = o * d + i }
        return o
    }

    public subscript(_ index: [Int]) -> Double {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }
}

/// Calls `body` with every multi-index of `shape`, in row-major order.
public func forEachIndex(_ shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
    if shape.contains(0) { return }
    var index = [Int](repeating: 0, count: shape.count)
    while true {
        try body(index)
        var a = shape.count - 1
        while a >= 0 {
            index[a] += 1
            if index[a] < shape[a] { break }
            index[a] = 0
            a -= 1
        }
        if a < 0 { return }
    }
}

/// Largest relative error `|a − b| / max(1, |b|)` between two float tensors (∞ if shapes differ).
public func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Double {
    guard a.shape == b.shape else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a.floats, b.floats) {
        let e = abs(Double(x) - Double(y)) / max(1, abs(Double(y)))
        if e.isNaN { return .infinity }
        worst = max(worst, e)
    }
    return worst
}
