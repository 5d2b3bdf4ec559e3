import CMattingKernels

/// Operators that only move bytes; they work for any element type (float32 and int64).

/// Runs `copy(outer index, input or output k, byte offset of chunk k within the outer index)`
/// for every chunk of a concat or split, handing each task enough outer indices that its
/// hand-off costs little next to its copying (an NHWC channel concat has one outer index per
/// pixel, each a few dozen bytes).
@inline(__always)
func forEachChunk(outer: Int, chunkBytes: [Int], pool: ThreadPool, _ copy: (Int, Int, Int) -> Void) {
    let total = chunkBytes.reduce(0, +)
    let step = max(1, min(outer, (64 * 1024) / max(total, 1)))
    chunkBytes.withUnsafeBufferPointer { chunks in
        pool.parallelFor((outer + step - 1) / step) { t in
            for o in (t * step)..<min(outer, (t + 1) * step) {
                var offset = 0
                for k in 0..<chunks.count {
                    copy(o, k, offset)
                    offset += chunks[k]
                }
            }
        }
    }
}

/// Concatenation: for each outer index, each input contributes one contiguous chunk.
struct ConcatOperator: CompiledOperator {
    let outer: Int
    /// Bytes per outer index, per input.
    let chunkBytes: [Int]
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let total = chunkBytes.reduce(0, +), out = io.outputs[0]
        forEachChunk(outer: outer, chunkBytes: chunkBytes, pool: pool) { o, k, offset in
            let bytes = chunkBytes[k]
            (out + o * total + offset).copyMemory(from: io.inputs[k] + o * bytes, byteCount: bytes)
        }
    }
}

/// Split: the inverse of concatenation.
struct SplitOperator: CompiledOperator {
    let outer: Int
    let chunkBytes: [Int]
    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let total = chunkBytes.reduce(0, +), src = io.inputs[0]
        forEachChunk(outer: outer, chunkBytes: chunkBytes, pool: pool) { o, k, offset in
            let bytes = chunkBytes[k]
            (io.outputs[k] + o * bytes).copyMemory(from: src + o * total + offset, byteCount: bytes)
        }
    }
}

/// A strided gather of a dense output (transpose, slice, depth-to-space, tile, expand):
/// output axis `i` reads the input at `base + index · strides[i]` elements.
///
/// When the output's last axis is strided in the input and another output axis is
/// contiguous there (a permutation that moves the innermost axis: NCHW ↔ NHWC, QKᵀ), the
/// copy is a batch of 2-D transposes of 32-bit elements: cut into tiles that fit in L1,
/// spread over threads and moved by the path's transpose microkernel. Otherwise each output
/// row is gathered element by element.
struct StridedCopyOperator: CompiledOperator {
    let outputShape: [Int]
    let strides: [Int]
    let baseOffset: Int
    let elementSize: Int
    let plan: TransposePlan?

    init(outputShape: [Int], strides: [Int], baseOffset: Int, elementSize: Int, isa: KernelISA = .current) {
        self.outputShape = outputShape; self.strides = strides; self.baseOffset = baseOffset
        self.elementSize = elementSize
        plan = TransposePlan(outputShape: outputShape, strides: strides, elementSize: elementSize, isa: isa)
    }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let source = io.inputs[0] + baseOffset * elementSize
        if let plan {
            plan.run(source: source, destination: io.outputs[0], pool: pool)
            return
        }
        transposeBytes(source: source, destination: io.outputs[0],
                       shape: outputShape, sourceStrides: strides, elementSize: elementSize)
    }
}

/// A strided copy seen as `batch` 2-D transposes: per batch index, output axis `inner` (the
/// last) reads the input with stride `rowStride` and output axis `column` reads it with
/// stride 1.
struct TransposePlan: Sendable {
    /// Source rows (the output's last axis) and source columns (the output axis contiguous in the input).
    let rows: Int, columns: Int
    let rowStride: Int, destinationColumnStride: Int
    /// The remaining output axes: sizes, source and destination strides.
    let batchShape: [Int], batchSource: [Int], batchDestination: [Int]
    let kernel: mk_x32_transpose_ukernel_fn
    /// Tile edge (elements): a 64×64 tile of 4-byte elements is 16 KiB each side, in L1.
    static let tile = 64

    init?(outputShape: [Int], strides: [Int], elementSize: Int, isa: KernelISA) {
        let rank = outputShape.count
        guard elementSize == 4, rank >= 2, strides[rank - 1] != 1, strides[rank - 1] != 0,
              let column = (0..<(rank - 1)).last(where: { strides[$0] == 1 && outputShape[$0] > 1 }),
              elementCount(outputShape) >= 4096 else { return nil }
        let out = contiguousStrides(outputShape)
        rows = outputShape[rank - 1]
        columns = outputShape[column]
        rowStride = strides[rank - 1]
        destinationColumnStride = out[column]
        let others = (0..<(rank - 1)).filter { $0 != column }
        batchShape = others.map { outputShape[$0] }
        batchSource = others.map { strides[$0] }
        batchDestination = others.map { out[$0] }
        kernel = isa.transposeMicrokernel
    }

    func run(source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, pool: ThreadPool) {
        let t = Self.tile
        let rowTiles = (rows + t - 1) / t, columnTiles = (columns + t - 1) / t
        let tilesPerBatch = rowTiles * columnTiles
        let src = source.assumingMemoryBound(to: UInt32.self), dst = destination.assumingMemoryBound(to: UInt32.self)
        let (rows, columns, rowStride, columnStride, kernel) = (self.rows, self.columns, self.rowStride, destinationColumnStride, self.kernel)
        batchShape.withUnsafeBufferPointer { shape in
            batchSource.withUnsafeBufferPointer { sourceStrides in
                batchDestination.withUnsafeBufferPointer { destinationStrides in
                    pool.parallelFor(elementCount(batchShape) * tilesPerBatch) { task in
                        var b = task / tilesPerBatch
                        let within = task - b * tilesPerBatch
                        let r0 = (within / columnTiles) * t, c0 = (within % columnTiles) * t
                        var so = 0, d0 = 0
                        for a in stride(from: shape.count - 1, through: 0, by: -1) {
                            let i = b % shape[a]
                            b /= shape[a]
                            so += i * sourceStrides[a]; d0 += i * destinationStrides[a]
                        }
                        // Source element (r, c) is at r·rowStride + c; it lands at c·columnStride + r.
                        kernel(min(t, rows - r0), min(t, columns - c0), src + so + r0 * rowStride + c0, rowStride,
                               dst + d0 + c0 * columnStride + r0, columnStride)
                    }
                }
            }
        }
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
