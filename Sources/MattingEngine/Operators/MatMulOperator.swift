/// A matrix product with a run-time right-hand side: one task per output row. Each row is
/// built as `Σᵢ a[i] · b[i, :]` (row-major `b` read contiguously, the output row held in
/// cache), summing over K in order, so any thread count gives the same bits.
struct MatMulOperator: CompiledOperator {
    /// Output rows per batch matrix, and the matrix sizes.
    let m: Int, k: Int, n: Int
    /// Element offsets of each batch's `a` and `b` matrices (broadcast batches repeat an offset).
    let aOffsets: [Int], bOffsets: [Int]
    let bias: [Float]?
    let activation: Activation

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let a = io.input(0), b = io.input(1), y = io.output(0)
        let (m, k, n) = (self.m, self.k, self.n)
        aOffsets.withUnsafeBufferPointer { aOffsets in
            bOffsets.withUnsafeBufferPointer { bOffsets in
                pool.parallelFor(aOffsets.count * m) { r in
                    let batch = r / max(m, 1), row = r - batch * m
                    let ar = a + aOffsets[batch] + row * k, bm = b + bOffsets[batch], yr = y + r * n
                    if let bias { for j in 0..<n { yr[j] = bias[j] } } else { yr.update(repeating: 0, count: n) }
                    for i in 0..<k { axpy(ar[i], bm + i * n, yr, count: n) }
                    applyActivation(activation, yr, yr, count: n)
                }
            }
        }
    }
}

/// `y[j] += alpha · x[j]` for `count` values, eight at a time.
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    let va = SIMD8<Float>(repeating: alpha)
    var j = 0
    while j + 8 <= count {
        let xv = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        let yv = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + j).storeBytes(of: yv + va * xv, as: SIMD8<Float>.self)
        j += 8
    }
    while j < count { y[j] = y[j] + alpha * x[j]; j += 1 }
}

/// `Σ x[j] · y[j]` in a fixed order (eight partial sums, then a fixed tree).
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= count {
        acc = acc + UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var s = acc.sum()
    while j < count { s = s + x[j] * y[j]; j += 1 }
    return s
}

/// Element offsets of every batch matrix of an operand whose batch dimensions `shape`
/// broadcast to `batch` (the matrix itself has `matrixSize` elements).
func broadcastBatchOffsets(_ shape: [Int], to batch: [Int], matrixSize: Int) -> [Int] {
    let padded = [Int](repeating: 1, count: batch.count - shape.count) + shape
    let strides = zip(padded, contiguousStrides(padded)).map { $0 == 1 ? 0 : $1 * matrixSize }
    var offsets: [Int] = []
    offsets.reserveCapacity(elementCount(batch))
    var index = [Int](repeating: 0, count: batch.count)
    for _ in 0..<elementCount(batch) {
        offsets.append(zip(index, strides).map(*).reduce(0, +))
        var axis = batch.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < batch[axis] { break }
            index[axis] = 0
            axis -= 1
        }
    }
    return offsets
}
