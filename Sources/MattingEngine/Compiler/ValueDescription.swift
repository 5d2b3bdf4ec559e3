/// What the compiler knows about a value: its concrete shape, type, and its contents when
/// they are known at compile time.
struct ValueDescription: Sendable {
    var shape: [Int]
    var dataType: DataType
    var constant: Tensor?
    var byteCount: Int { elementCount(shape) * dataType.byteCount }
}

/// The result of shape inference (and optionally instantiation) for one node.
struct LoweredNode {
    var outputs: [(shape: [Int], dataType: DataType)]
    /// The runnable operator; nil for views and when not instantiated.
    var op: (any CompiledOperator)?
    /// The output is the input's bytes under another shape (reshape and friends).
    var isView = false
    /// Inputs whose buffer the output may take over when the input dies here (element-wise ops).
    var inPlaceInputs: [Int] = []
    /// Floating-point operations per run (multiply-add counts two).
    var flops = 0
}

/// Normalises a possibly negative axis, or nil when out of range.
func normalizedAxis(_ axis: Int, rank: Int) -> Int? {
    let a = axis < 0 ? axis + rank : axis
    return (0..<max(rank, 1)).contains(a) || (rank == 0 && a == 0) ? a : nil
}
