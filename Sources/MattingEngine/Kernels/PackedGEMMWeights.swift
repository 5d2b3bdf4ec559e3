import CMattingKernels

/// Float storage aligned to 64 bytes (a cache line; microkernels use aligned 32- and 64-byte loads).
final class AlignedFloats: @unchecked Sendable {
    // Written only during the owner's initialisation, read-only afterwards.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 16))
        pointer.initialize(repeating: 0, count: max(count, 16))
    }

    deinit { pointer.deallocate() }
}

/// The B operand of a GEMM (`k × n`), packed once into panels of `nr` columns.
///
/// `nr` is the tile width of the microkernel that will read the panels (16 for the 6×16
/// AVX2/portable kernels, 32 for AVX-512: `KernelISA.gemmBlocking.nr`), so weights are
/// packed for the path a kernel runs on and the driver checks the two agree.
/// Panel `p` holds columns `nr·p ..< nr·p + nr` as `k` rows of `nr` floats (zero padded past
/// column `n`), so a microkernel streams it with aligned vector loads. Any K block
/// `k0 ..< k1` of a panel is the contiguous range starting at `nr · k0`. The bias follows,
/// padded to `nr` per panel. Weights are packed at load time, never per call.
struct PackedGEMMWeights: Sendable {
    let k: Int
    let n: Int
    /// Panel width (columns per panel).
    let nr: Int
    private let storage: AlignedFloats

    var panelCount: Int { (n + nr - 1) / nr }

    /// - Parameters:
    ///   - nr: panel width, a multiple of 16 (keeps every panel and the bias 64-byte aligned).
    ///   - value: `B[k][n]`.
    ///   - bias: per output column, or `nil` for zeros.
    init(k: Int, n: Int, nr: Int, bias: ((Int) -> Float)?, value: (_ k: Int, _ n: Int) -> Float) {
        precondition(k >= 0 && n >= 1 && nr > 0 && nr % 16 == 0)
        self.k = k
        self.n = n
        self.nr = nr
        let panels = (n + nr - 1) / nr
        storage = AlignedFloats(count: panels * nr * (k + 1))
        let p = storage.pointer
        for panel in 0..<panels {
            let base = p + panel * k * nr
            for col in 0..<min(nr, n - panel * nr) {
                let j = panel * nr + col
                for kk in 0..<k { base[kk * nr + col] = value(kk, j) }
            }
        }
        if let bias {
            let b = p + panels * k * nr
            for j in 0..<n { b[j] = bias(j) }
        }
    }

    /// Panel `panel`, starting at row `k0`.
    @inline(__always)
    func panel(_ panel: Int, k0: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage.pointer + (panel * k + k0) * nr)
    }

    /// The `nr` (zero-padded) bias values of panel `panel`.
    @inline(__always)
    func bias(panel: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage.pointer + panelCount * k * nr + panel * nr)
    }
}
