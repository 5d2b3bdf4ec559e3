/// Operators that only move bytes; they work for any element type (float32 and int64).

/// Concatenation: for each outer index, each input contributes one contiguous chunk.
struct ConcatOperator: CompiledOperator {
    let outer: Int
    /// Bytes per outer index, per input.
    let chunkBytes: [Int]
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let total = chunkBytes.reduce(0, +)
        let out = io.outputs[0]
        pool.parallelFor(outer) { o in
            var dst = out + o * total
            for (k, bytes) in chunkBytes.enumerated() {
                dst.copyMemory(from: io.inputs[k] + o * bytes, byteCount: bytes)
                dst += bytes
            }
        }
    }
}

/// Split: the inverse of concatenation.
struct SplitOperator: CompiledOperator {
    let outer: Int
    let chunkBytes: [Int]
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let total = chunkBytes.reduce(0, +)
        let src = io.inputs[0]
        pool.parallelFor(outer) { o in
            var s = src + o * total
            for (k, bytes) in chunkBytes.enumerated() {
                (io.outputs[k] + o * bytes).copyMemory(from: s, byteCount: bytes)
                s += bytes
            }
        }
    }
}

/// A strided gather of a dense output (transpose, slice, depth-to-space): output axis `i`
/// reads the input at `base + index · strides[i]` elements.
struct StridedCopyOperator: CompiledOperator {
    let outputShape: [Int]
    let strides: [Int]
    let baseOffset: Int
    let elementSize: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        transposeBytes(source: io.inputs[0] + baseOffset * elementSize, destination: io.outputs[0],
                       shape: outputShape, sourceStrides: strides, elementSize: elementSize)
    }
}

/// Padding: per axis, a table from output index to input index (−1: constant fill).
struct PadOperator: CompiledOperator {
    let outputShape: [Int], inputStrides: [Int]
    let maps: [[Int]]
    let value: Float
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let x = io.input(0), y = io.output(0)
        let rank = outputShape.count
        let inner = outputShape[rank - 1], lastMap = maps[rank - 1]
        let rows = elementCount(outputShape) / max(inner, 1)
        pool.parallelFor((rows + 63) / 64) { t in
            for row in (t * 64)..<min(rows, (t + 1) * 64) {
                var r = row, offset = 0, fill = false
                for a in stride(from: rank - 2, through: 0, by: -1) {
                    let i = maps[a][r % outputShape[a]]
                    r /= outputShape[a]
                    if i < 0 { fill = true; break }
                    offset += i * inputStrides[a]
                }
                let out = y + row * inner
                if fill { out.update(repeating: value, count: inner); continue }
                let src = x + offset
                for k in 0..<inner {
                    let i = lastMap[k]
                    out[k] = i < 0 ? value : src[i]
                }
            }
        }
    }
}

/// Gather along an axis with int64 indices (negative indices count from the end).
struct GatherOperator: CompiledOperator {
    let outer: Int, axisSize: Int, indexCount: Int, innerBytes: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let indices = io.inputs[1].assumingMemoryBound(to: Int64.self)
        for o in 0..<outer {
            for k in 0..<indexCount {
                var i = Int(indices[k])
                if i < 0 { i += axisSize }
                i = Swift.min(Swift.max(i, 0), axisSize - 1)
                (io.outputs[0] + (o * indexCount + k) * innerBytes)
                    .copyMemory(from: io.inputs[0] + (o * axisSize + i) * innerBytes, byteCount: innerBytes)
            }
        }
    }
}

/// Element type conversion (float → int64 truncates toward zero).
struct CastOperator: CompiledOperator {
    let from: DataType, to: DataType, count: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        switch (from, to) {
        case (.float32, .int64):
            let s = io.input(0), d = io.outputs[0].assumingMemoryBound(to: Int64.self)
            for i in 0..<count { d[i] = s[i].isFinite ? Int64(s[i]) : 0 }
        case (.int64, .float32):
            let s = io.inputs[0].assumingMemoryBound(to: Int64.self), d = io.output(0)
            for i in 0..<count { d[i] = Float(s[i]) }
        default:
            io.outputs[0].copyMemory(from: io.inputs[0], byteCount: count * from.byteCount)
        }
    }
}

/// A plain copy (a view whose input cannot be aliased, e.g. a graph input that is also an output).
struct CopyOperator: CompiledOperator {
    let byteCount: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        if UnsafeRawPointer(io.outputs[0]) != io.inputs[0] {
            io.outputs[0].copyMemory(from: io.inputs[0], byteCount: byteCount)
        }
    }
}

/// Fills the output with one value (ConstantOfShape).
struct FillOperator: CompiledOperator {
    let value: Double, dataType: DataType, count: Int
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        switch dataType {
        case .float32: io.output(0).update(repeating: Float(value), count: count)
        case .int64: io.outputs[0].assumingMemoryBound(to: Int64.self).update(repeating: Int64(value), count: count)
        }
    }
}

/// `start + i · delta` for `i` in `0..<count` (Range).
struct RangeOperator: CompiledOperator {
    let start: Double, delta: Double, count: Int, dataType: DataType
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        for i in 0..<count {
            let v = start + Double(i) * delta
            switch dataType {
            case .float32: io.output(0)[i] = Float(v)
            case .int64: io.outputs[0].assumingMemoryBound(to: Int64.self)[i] = Int64(v)
            }
        }
    }
}
