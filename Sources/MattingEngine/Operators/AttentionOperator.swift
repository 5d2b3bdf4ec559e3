import CMattingKernels

/// Scaled dot-product attention on the GEMM microkernels, a block of query rows at a time.
///
/// A task owns one batch matrix (or a run of its rows). It packs that batch's keys as the B
/// operand of `Q·Kᵀ` and its values as the B operand of `P·V` into its worker's scratch, then,
/// for each block of `blockRows` query rows, computes the block's scores with the GEMM
/// microkernel, soft-maxes each row in place (``KernelISA/softmaxMicrokernel``), multiplies by the values with
/// the microkernel straight into the output rows and divides each row by its sum. Only a
/// `blockRows × N` score block exists at a time, never the whole M×N matrix.
///
/// Every output row is computed by one task, summing over d and over the keys in increasing
/// order whatever the blocking, so results do not depend on the thread count.
struct AttentionOperator: CompiledOperator {
    let m: Int, n: Int, d: Int, dv: Int
    let scale: Float
    /// Keys stored `[D, N]` (already transposed) instead of `[N, D]`.
    let keyTransposed: Bool
    /// Element offsets of each batch's q, k and v matrices.
    let qOffsets: [Int], kOffsets: [Int], vOffsets: [Int]
    let isa: KernelISA
    /// Workers the scratch is sized for (the pool's thread count at compile time).
    let threads: Int

    init(m: Int, n: Int, d: Int, dv: Int, scale: Float, keyTransposed: Bool,
         qOffsets: [Int], kOffsets: [Int], vOffsets: [Int], isa: KernelISA = .current, threads: Int) {
        (self.m, self.n, self.d, self.dv, self.scale, self.keyTransposed) = (m, n, d, dv, scale, keyTransposed)
        (self.qOffsets, self.kOffsets, self.vOffsets) = (qOffsets, kOffsets, vOffsets)
        self.isa = isa
        self.threads = max(1, threads)
    }

    var nr: Int { isa.gemmBlocking.nr }
    /// Query rows per score block: a multiple of the microkernel's row tile.
    var blockRows: Int { isa.gemmBlocking.mr * 8 }
    /// Keys rounded up to whole panels (the score block's row stride).
    var paddedKeys: Int { (n + nr - 1) / nr * nr }
    var valuePanels: Int { (dv + nr - 1) / nr }
    /// Floats of one worker's scratch: packed Kᵀ (`d × paddedKeys`), packed V
    /// (`valuePanels × n × nr`), one score block and its row sums, each 64-byte aligned.
    var workerFloats: Int {
        func aligned(_ x: Int) -> Int { (x + 15) / 16 * 16 }
        return aligned(d * paddedKeys) + aligned(valuePanels * n * nr) + aligned(blockRows * paddedKeys) + aligned(blockRows)
    }
    var scratchByteCount: Int { threads * workerFloats * 4 }

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        guard let scratch = io.scratch?.assumingMemoryBound(to: Float.self) else {
            preconditionFailure("attention runs with its scratch")
        }
        let q = io.input(0), k = io.input(1), v = io.input(2), y = io.output(0)
        let batches = qOffsets.count
        // Enough tasks to keep every worker busy; each task packs its batch's K and V once.
        let chunks = max(1, min((m + blockRows - 1) / blockRows, (2 * threads + batches - 1) / batches))
        let rowsPerChunk = ((m + chunks - 1) / chunks + blockRows - 1) / blockRows * blockRows
        let (n, d, dv, nr, scale) = (self.n, self.d, self.dv, self.nr, self.scale)
        let paddedKeys = self.paddedKeys, valuePanels = self.valuePanels, blockRows = self.blockRows
        let workerFloats = self.workerFloats
        func aligned(_ x: Int) -> Int { (x + 15) / 16 * 16 }
        let ukernel = isa.gemmMicrokernel, mr = isa.gemmBlocking.mr, softmax = isa.softmaxMicrokernel
        var act = Activation.identity.microkernelParameters.0
        withUnsafePointer(to: &act) { act in
            qOffsets.withUnsafeBufferPointer { qo in
                kOffsets.withUnsafeBufferPointer { ko in
                    vOffsets.withUnsafeBufferPointer { vo in
                        pool.parallelFor(batches * chunks) { task, worker in
                            let batch = task / chunks, chunk = task % chunks
                            let r0 = chunk * rowsPerChunk, r1 = min(m, r0 + rowsPerChunk)
                            guard r0 < r1 else { return }
                            let kPack = scratch + worker * workerFloats
                            let vPack = kPack + aligned(d * paddedKeys)
                            let scores = vPack + aligned(valuePanels * n * nr)
                            let sums = scores + aligned(blockRows * paddedKeys)
                            let kb = k + ko[batch], vb = v + vo[batch]
                            // Kᵀ as panels of nr keys: panel p, row t holds key p·nr + c's element t.
                            for p in 0..<(paddedKeys / nr) {
                                let panel = kPack + p * d * nr
                                let width = min(nr, n - p * nr)
                                for t in 0..<d {
                                    let row = panel + t * nr
                                    if keyTransposed {
                                        row.update(from: kb + t * n + p * nr, count: width)
                                    } else {
                                        for c in 0..<width { row[c] = kb[(p * nr + c) * d + t] }
                                    }
                                    if width < nr { (row + width).update(repeating: 0, count: nr - width) }
                                }
                            }
                            // V as panels of nr value columns.
                            for p in 0..<valuePanels {
                                let panel = vPack + p * n * nr
                                let width = min(nr, dv - p * nr)
                                for j in 0..<n {
                                    (panel + j * nr).update(from: vb + j * dv + p * nr, count: width)
                                    if width < nr { (panel + j * nr + width).update(repeating: 0, count: nr - width) }
                                }
                            }
                            var b0 = r0
                            while b0 < r1 {
                                let rows = min(blockRows, r1 - b0)
                                let qb = q + qo[batch] + b0 * d
                                // Scores of zero-length vectors are zeros (the microkernel needs kc ≥ 1).
                                if d == 0 { scores.update(repeating: 0, count: rows * paddedKeys) }
                                for p in 0..<(d > 0 ? paddedKeys / nr : 0) {
                                    var i = 0
                                    while i < rows {
                                        ukernel(min(mr, rows - i), min(nr, n - p * nr), d, qb + i * d, d,
                                                kPack + p * d * nr, nil, scores + i * paddedKeys + p * nr, paddedKeys, 0, act)
                                        i += mr
                                    }
                                }
                                let out = y + (batch * m + b0) * dv
                                for i in 0..<rows { sums[i] = softmax(n, scale, scores + i * paddedKeys) }
                                for p in 0..<valuePanels {
                                    var i = 0
                                    while i < rows {
                                        ukernel(min(mr, rows - i), min(nr, dv - p * nr), n, scores + i * paddedKeys, paddedKeys,
                                                vPack + p * n * nr, nil, out + i * dv + p * nr, dv, 0, act)
                                        i += mr
                                    }
                                }
                                for i in 0..<rows {
                                    let inverse = 1 / sums[i], row = out + i * dv
                                    for c in 0..<dv { row[c] = row[c] * inverse }
                                }
                                b0 += rows
                            }
                        }
                    }
                }
            }
        }
    }
}
