import CMattingKernels

/// A batched matrix product with a run-time right-hand side, on the GEMM microkernels.
///
/// Each batch computes `y = act(a · b + bias)` with `a` `m × k` and `b` `k × n`, both
/// row-major (broadcast batches repeat an offset). A task owns one batch's block of rows and
/// columns: per K block it packs its columns of `b` into panels of `nr` in the worker's
/// scratch, then runs the microkernel over its rows, reading `a` in place. Windowed
/// attention's `[windows, heads, 64, d]` products are many small tasks of this kind.
///
/// Every output sums over k in increasing order, block after block, whatever the split, so
/// any thread count gives the same bits.
struct MatMulOperator: CompiledOperator {
    /// Output rows per batch matrix, and the matrix sizes.
    let m: Int, k: Int, n: Int
    /// Element offsets of each batch's `a` and `b` matrices (broadcast batches repeat an offset).
    let aOffsets: [Int], bOffsets: [Int]
    /// The bias padded to whole panels of `nr` (zeros when the node has none), 64-byte aligned.
    private let paddedBias: AlignedFloats
    let activation: Activation
    let isa: KernelISA
    /// Workers the scratch is sized for (the pool's thread count at compile time).
    let threads: Int

    init(m: Int, k: Int, n: Int, aOffsets: [Int], bOffsets: [Int], bias: [Float]?, activation: Activation,
         isa: KernelISA = .current, threads: Int) {
        (self.m, self.k, self.n, self.aOffsets, self.bOffsets) = (m, k, n, aOffsets, bOffsets)
        self.activation = activation
        self.isa = isa
        self.threads = max(1, threads)
        let nr = isa.gemmBlocking.nr
        paddedBias = AlignedFloats(count: (n + nr - 1) / nr * nr)
        if let bias { for j in 0..<n { paddedBias.pointer[j] = bias[j] } }
    }

    private var nc: Int { isa.gemmBlocking.nc }
    /// One packed K block of a task's columns: `kc × nc` floats.
    private var blockFloats: Int { isa.gemmBlocking.kc * nc }
    var scratchByteCount: Int { threads * blockFloats * 4 }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        let a = io.input(0), b = io.input(1), y = io.output(0)
        let (m, k, n) = (self.m, self.k, self.n)
        let batches = aOffsets.count
        guard m > 0, n > 0, batches > 0 else { return }
        let (parameters, needsPost) = activation.microkernelParameters
        let post: Activation? = needsPost ? activation : nil
        let bias = UnsafePointer(paddedBias.pointer)
        if k == 0 {
            // No products: every row is the bias, activated.
            for r in 0..<(batches * m) {
                let row = y + r * n
                for j in 0..<n { row[j] = activation.apply(bias[j]) }
            }
            return
        }
        guard let scratch = io.scratch?.assumingMemoryBound(to: Float.self) else {
            preconditionFailure("MatMulOperator needs scratch")
        }
        let blocking = isa.gemmBlocking
        let (mc, nc) = (blocking.mc, blocking.nc)
        let columnTasks = (n + nc - 1) / nc
        // Row chunks of whole mc blocks: enough tasks to keep every worker busy, few enough
        // that each packs its block of b for many rows.
        let rowBlocks = (m + mc - 1) / mc
        let wanted = (4 * threads + batches * columnTasks - 1) / (batches * columnTasks)
        let chunks = max(1, min(rowBlocks, wanted))
        let rowsPerChunk = (rowBlocks + chunks - 1) / chunks * mc
        let rowTasks = (m + rowsPerChunk - 1) / rowsPerChunk
        let ukernel = isa.gemmMicrokernel, isa = self.isa
        let blockFloats = self.blockFloats
        var act = parameters
        withUnsafePointer(to: &act) { act in
            aOffsets.withUnsafeBufferPointer { aOffsets in
                bOffsets.withUnsafeBufferPointer { bOffsets in
                    pool.parallelFor(batches * rowTasks * columnTasks) { task, worker in
                        let batch = task / (rowTasks * columnTasks), rest = task % (rowTasks * columnTasks)
                        let r0 = (rest / columnTasks) * rowsPerChunk, r1 = min(m, r0 + rowsPerChunk)
                        let n0 = (rest % columnTasks) * nc, n1 = min(n, n0 + nc)
                        let ab = a + aOffsets[batch], bb = b + bOffsets[batch], yb = y + batch * m * n
                        let packed = scratch + worker * blockFloats
                        multiplyPackingB(
                            rows: r0, r1, columns: n0, n1, depth: k, a: ab, lda: k, b: bb, ldb: n, y: yb, ldy: n,
                            bias: bias, activates: true, parameters: act, packed: packed, blocking: blocking,
                            microkernel: ukernel)
                        if let post {
                            for i in r0..<r1 { post.applyPostPass(yb + i * n + n0, count: n1 - n0, isa: isa) }
                        }
                    }
                }
            }
        }
    }
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
