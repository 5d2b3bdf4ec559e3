/// Element-wise operators over several broadcast inputs of any element type (`where`,
/// comparisons) and `gatherElements`. They mostly see shape tensors and masks, which the
/// compiler folds; at run time they walk the output row by row (last axis innermost).

/// Per input, the element stride along each output axis (0 where the input broadcasts).
struct BroadcastWalk: Sendable {
    let shape: [Int]
    let strides: [[Int]]
    /// Per input, the stride along the last output axis.
    let innerSteps: [Int]

    init(inputs: [[Int]], output: [Int]) {
        shape = output
        strides = inputs.map { s in
            let padded = [Int](repeating: 1, count: output.count - s.count) + s
            return zip(padded, contiguousStrides(padded)).map { $0 == 1 ? 0 : $1 }
        }
        innerSteps = strides.map { $0.last ?? 0 }
    }

    /// Calls `body(outputOffset, inputOffsets)` for every element, in parallel over rows.
    func forEach(pool: ThreadPool, _ body: (Int, UnsafeMutableBufferPointer<Int>) -> Void) {
        let rank = shape.count, inner = rank == 0 ? 1 : shape[rank - 1]
        let rows = inner == 0 ? 0 : elementCount(shape) / inner
        let count = strides.count, step = innerSteps
        pool.parallelFor((rows + 63) / 64) { t in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { offsets in
                for row in (t * 64)..<min(rows, (t + 1) * 64) {
                    for i in 0..<count {
                        var r = row, o = 0
                        for a in stride(from: rank - 2, through: 0, by: -1) {
                            o += (r % shape[a]) * strides[i][a]
                            r /= shape[a]
                        }
                        offsets[i] = o
                    }
                    for j in 0..<inner {
                        body(row * inner + j, offsets)
                        for i in 0..<count { offsets[i] += step[i] }
                    }
                }
            }
        }
    }
}

/// Reads element `i` of a float32 or int64 buffer as a Double (exact for int64 below 2⁵³).
@inline(__always)
func loadNumber(_ p: UnsafeRawPointer, _ i: Int, _ type: DataType) -> Double {
    switch type {
    case .float32: Double(p.load(fromByteOffset: i * 4, as: Float.self))
    case .int64: Double(p.load(fromByteOffset: i * 8, as: Int64.self))
    }
}

/// `condition ≠ 0 ? x : y`.
struct WhereOperator: CompiledOperator {
    let walk: BroadcastWalk
    let conditionType: DataType
    let elementSize: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let c = io.inputs[0], x = io.inputs[1], yv = io.inputs[2], out = io.outputs[0]
        let size = elementSize, type = conditionType
        walk.forEach(pool: pool) { o, offsets in
            let pick = loadNumber(c, offsets[0], type) != 0 ? x + offsets[1] * size : yv + offsets[2] * size
            (out + o * size).copyMemory(from: pick, byteCount: size)
        }
    }
}

/// A comparison of two broadcast inputs of one type; int64 0/1 out.
struct CompareOperator: CompiledOperator {
    let walk: BroadcastWalk
    let comparison: ComparisonOperator
    let dataType: DataType
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let a = io.inputs[0], b = io.inputs[1], out = io.outputs[0].assumingMemoryBound(to: Int64.self)
        let type = dataType, op = comparison
        walk.forEach(pool: pool) { o, offsets in
            let u = loadNumber(a, offsets[0], type), v = loadNumber(b, offsets[1], type)
            let r: Bool
            switch op {
            case .equal: r = u == v
            case .less: r = u < v
            case .greater: r = u > v
            case .lessOrEqual: r = u <= v
            case .greaterOrEqual: r = u >= v
            }
            out[o] = r ? 1 : 0
        }
    }
}

/// `out[i] = data[i with axis replaced by index[i]]`. Indices are checked at compile time
/// when constant; at run time an out-of-range index is clamped to the axis (never read out
/// of bounds).
struct GatherElementsOperator: CompiledOperator {
    let walk: BroadcastWalk
    /// Output (= indices) shape, data strides, the gathered axis and its size.
    let dataStrides: [Int]
    let axis: Int, axisSize: Int
    let elementSize: Int
    /// Contiguous strides of the output.
    let outputStrides: [Int]
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let data = io.inputs[0], indices = io.inputs[1].assumingMemoryBound(to: Int64.self), out = io.outputs[0]
        let shape = walk.shape, strides = dataStrides, axis = self.axis, n = axisSize, size = elementSize
        let innerStrides = outputStrides
        walk.forEach(pool: pool) { o, _ in
            var r = o, offset = 0
            for a in 0..<shape.count {
                let i = r / innerStrides[a]
                r -= i * innerStrides[a]
                if a == axis {
                    var v = Int(indices[o])
                    if v < 0 { v += n }
                    offset += Swift.min(Swift.max(v, 0), n - 1) * strides[a]
                } else {
                    offset += i * strides[a]
                }
            }
            (out + o * size).copyMemory(from: data + offset * size, byteCount: size)
        }
    }
}
