import CMattingKernels

/// Tile and cache blocking of the GEMM driver for one instruction-set path.
///
/// One K block of a B panel (`kc × nr` floats) stays in L1 while the microkernel sweeps the
/// task's rows; the task's A block (`mc × kc`) stays in L2 while every panel of the task's
/// columns passes over it. Blocking never changes results: each output is summed over k in
/// increasing order, block after block.
struct GEMMBlocking: Sendable, Equatable {
    /// Microkernel tile: rows and columns (the packed panel width).
    let mr: Int
    let nr: Int
    /// Depth of one K block.
    let kc: Int
    /// Rows per task (a multiple of `mr`).
    let mc: Int
    /// Columns per task (a multiple of `nr`).
    let nc: Int

    /// Bytes of scratch one worker needs for an A tile (`mc × kc` floats, 64-byte rounded).
    var aTileBytes: Int { (mc * kc * 4 + 63) / 64 * 64 }

    /// 6×16 kernels (AVX2 and portable), tuned on AMD Zen 3 (32 KiB L1d, 512 KiB L2 per core,
    /// 32 MiB L3): a B micro-panel K block is 16 KiB, the A block `72 × 256` is 72 KiB.
    static let zen3AVX2 = GEMMBlocking(mr: 6, nr: 16, kc: 256, mc: 72, nc: 256)

    /// 8×32 AVX-512 kernel, tuned on AMD Zen 5 (48 KiB L1d, 1 MiB L2 per core): a B
    /// micro-panel K block is `256 × 32` floats = 32 KiB, the A block `96 × 256` is 96 KiB.
    /// (12×32 measured up to 5 % slower here, 14×32 up to 15 %, 6×32 14 % slower on the
    /// conv-shaped GEMM; see Docs/Kernels.md.)
    static let zen5AVX512 = GEMMBlocking(mr: 8, nr: 32, kc: 256, mc: 96, nc: 256)
}

/// One GEMM task: `C[0 ..< rows][n0 ..< n1] (=) A · B` over all of B's K, then activation.
///
/// `packA(k0, k1)` returns the A block for columns `k0 ..< k1` of rows `0 ..< rows` as a
/// pointer and row stride (either the caller's matrix, or a tile it just packed into scratch).
/// `c` points at row 0, column 0 of the task's output rows; `ldc` is their stride.
@inline(__always)
func runGEMMTask(
    microkernel: mk_f32_gemm_ukernel_fn, blocking: GEMMBlocking, isa: KernelISA,
    rows: Int, n0: Int, n1: Int,
    weights: PackedGEMMWeights,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    activation: UnsafePointer<mk_activation>, postActivation: Activation?,
    packA: (_ k0: Int, _ k1: Int) -> (UnsafePointer<Float>, Int)
) {
    let nr = blocking.nr, mr = blocking.mr, kc = blocking.kc
    precondition(weights.nr == nr, "weights packed for another tile width")
    let K = weights.k
    let kBlocks = max(1, (K + kc - 1) / kc)
    let firstPanel = n0 / nr
    let lastPanel = (n1 + nr - 1) / nr
    for kb in 0..<kBlocks {
        let k0 = kb * kc
        let kLen = min(K, k0 + kc) - k0
        var flags: UInt32 = kb == 0 ? 0 : MK_GEMM_ACCUMULATE
        if kb == kBlocks - 1 { flags |= MK_GEMM_ACTIVATE }
        // With K == 0 there is no A to read; the microkernel stores bias and activation.
        let (a, lda) = kLen > 0 ? packA(k0, k0 + kLen) : (weights.bias(panel: 0), 0)
        for panel in firstPanel..<lastPanel {
            let w = weights.panel(panel, k0: k0)
            let bias = weights.bias(panel: panel)
            let col = panel * nr
            let nc = min(nr, n1 - col)
            var i = 0
            while i < rows {
                microkernel(min(mr, rows - i), nc, kLen, a + i * lda, lda, w, bias,
                            c + i * ldc + col, ldc, flags, activation)
                i += mr
            }
        }
    }
    if let post = postActivation {
        for i in 0..<rows { post.applyPostPass(c + i * ldc + n0, count: n1 - n0, isa: isa) }
    }
}

/// `C = A · B + bias`, then activation, with B packed once: the plain GEMM entry point.
///
/// A is `m × k` row-major with row stride `lda`; C is `m × n` with row stride `ldc`.
final class GEMMKernel: Sendable {
    let weights: PackedGEMMWeights
    let activation: Activation
    let isa: KernelISA

    /// - Parameters:
    ///   - b: `k × n`, row-major.
    ///   - bias: `n` values or `nil`.
    init(k: Int, n: Int, b: [Float], bias: [Float]?, activation: Activation, isa: KernelISA = .current) {
        precondition(b.count == k * n && (bias == nil || bias!.count == n))
        precondition(isa.isSupported, "\(isa) is not supported on this CPU")
        weights = PackedGEMMWeights(k: k, n: n, nr: isa.gemmBlocking.nr, bias: bias.map { b in { b[$0] } }) { kk, j in b[kk * n + j] }
        self.activation = activation
        self.isa = isa
    }

    /// Scratch `run` may use: one A tile per worker (bytes, 64-byte aligned when provided).
    func scratchByteCount(threadCount: Int) -> Int { max(1, threadCount) * isa.gemmBlocking.aTileBytes }

    /// - Parameter scratch: `scratchByteCount(threadCount:)` bytes, or `nil`. With scratch, A
    ///   blocks whose rows are not contiguous within a K block (K > kc, or lda ≠ k) and that
    ///   at least 8 column panels reuse (N ≥ 128) are first
    ///   copied into a dense tile: the copy's independent loads stream A from memory at full
    ///   bandwidth, and the microkernels then read it from L2. Results are identical either way.
    func run(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
             scratch: UnsafeMutableRawPointer? = nil, threads: ThreadPool) {
        let blocking = isa.gemmBlocking
        let mc = blocking.mc, nc = blocking.nc, n = weights.n, k = weights.k
        let mTasks = (m + mc - 1) / mc, nTasks = (n + nc - 1) / nc
        let (parameters, needsPost) = activation.microkernelParameters
        let post: Activation? = needsPost ? activation : nil
        var act = parameters
        let ukernel = isa.gemmMicrokernel
        let weights = weights
        let packTiles = scratch.map { $0.assumingMemoryBound(to: Float.self) }
        // Worth it when the tile is reused by enough panels (N ≥ 128: ≥ 8 panels per task).
        let packs = packTiles != nil && (k > blocking.kc || lda != k) && n >= 128
        let tileFloats = blocking.aTileBytes / 4
        withUnsafePointer(to: &act) { act in
            threads.parallelFor(mTasks * nTasks) { task, worker in
                let m0 = (task / nTasks) * mc, n0 = (task % nTasks) * nc
                let rows = min(mc, m - m0)
                runGEMMTask(microkernel: ukernel, blocking: blocking, isa: isa, rows: rows, n0: n0, n1: min(n, n0 + nc),
                            weights: weights, c: c + m0 * ldc, ldc: ldc, activation: act, postActivation: post
                ) { k0, k1 in
                    guard packs, let packTiles else { return (a + m0 * lda + k0, lda) }
                    let tile = packTiles + worker * tileFloats
                    let kLen = k1 - k0
                    for r in 0..<rows { (tile + r * kLen).update(from: a + (m0 + r) * lda + k0, count: kLen) }
                    return (UnsafePointer(tile), kLen)
                }
            }
        }
    }
}

/// `Y[m0 ..< m1][n0 ..< n1] (=) A · B` with B read in place and packed here: per K block of
/// `kc`, the task's columns of B go into panels of `nr` in `packed` (zeros past `n1`), then
/// the rows of A sweep every panel `mc` rows at a time. Each output is summed over k in
/// increasing order, block after block, so results do not depend on how columns or rows are
/// split between tasks.
///
/// - Parameters:
///   - a: row 0 of A (`k` columns, `lda` apart); rows `m0 ..< m1` are read.
///   - b: row 0 of B (`k` rows, `ldb` apart); columns `n0 ..< n1` are read.
///   - y: row 0, column 0 of the output (`ldy` apart).
///   - bias: per-column biases (`bias[n0 ..< n1]`), added on the last K block, or nil.
///   - activates: whether the last K block applies `parameters`' activation.
///   - packed: scratch for one K block's panels: `kc × roundUp(n1 − n0, nr)` floats.
@inline(__always)
func multiplyPackingB(
    rows m0: Int, _ m1: Int, columns n0: Int, _ n1: Int, depth k: Int,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
    bias: UnsafePointer<Float>?, activates: Bool, parameters: UnsafePointer<mk_activation>,
    packed: UnsafeMutablePointer<Float>, blocking: GEMMBlocking, microkernel ukernel: mk_f32_gemm_ukernel_fn
) {
    let (mr, nr, kc, mc) = (blocking.mr, blocking.nr, blocking.kc, blocking.mc)
    let panels = (n1 - n0 + nr - 1) / nr
    var k0 = 0
    while k0 < k {
        let kLen = min(kc, k - k0)
        // Panel j: kLen rows of nr columns n0 + j·nr …, zero padded past n1.
        for j in 0..<panels {
            let panel = packed + j * kLen * nr, q0 = n0 + j * nr, width = min(nr, n1 - q0)
            for kk in 0..<kLen {
                let row = panel + kk * nr
                row.update(from: b + (k0 + kk) * ldb + q0, count: width)
                if width < nr { (row + width).update(repeating: 0, count: nr - width) }
            }
        }
        var flags: UInt32 = k0 == 0 ? 0 : MK_GEMM_ACCUMULATE
        if activates && k0 + kLen >= k { flags |= MK_GEMM_ACTIVATE }
        // mc rows of a (in L2) against every packed panel (one in L1 at a time).
        var r0 = m0
        while r0 < m1 {
            let r1 = min(m1, r0 + mc)
            for j in 0..<panels {
                let q0 = n0 + j * nr
                var i = r0
                while i < r1 {
                    ukernel(min(mr, r1 - i), min(nr, n1 - q0), kLen, a + i * lda + k0, lda,
                            packed + j * kLen * nr, bias.map { $0 + q0 }, y + i * ldy + q0, ldy, flags, parameters)
                    i += mr
                }
            }
            r0 = r1
        }
        k0 += kLen
    }
}
