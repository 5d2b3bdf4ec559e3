import CMattingKernels

/// Float storage aligned to 64 bytes (a cache line; microkernels use aligned 32-byte loads).
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

/// The B operand of a GEMM (`k × n`), packed once into panels of `MK_GEMM_NR` columns.
///
/// Panel `p` holds columns `16p ..< 16p + 16` as `k` rows of 16 floats (zero padded past
/// column `n`), so a microkernel streams it with two aligned loads per k. Any K block
/// `k0 ..< k1` of a panel is the contiguous range starting at `16 · k0`. The bias follows,
/// padded to 16 per panel. Weights are packed at load time, never per call.
struct PackedGEMMWeights: Sendable {
    static let nr = Int(MK_GEMM_NR)

    let k: Int
    let n: Int
    private let storage: AlignedFloats

    var panelCount: Int { (n + Self.nr - 1) / Self.nr }

    /// - Parameters:
    ///   - value: `B[k][n]`.
    ///   - bias: per output column, or `nil` for zeros.
    init(k: Int, n: Int, bias: ((Int) -> Float)?, value: (_ k: Int, _ n: Int) -> Float) {
        precondition(k >= 0 && n >= 1)
        self.k = k
        self.n = n
        let panels = (n + Self.nr - 1) / Self.nr
        storage = AlignedFloats(count: panels * Self.nr * (k + 1))
        let p = storage.pointer
        for panel in 0..<panels {
            let base = p + panel * k * Self.nr
            for col in 0..<min(Self.nr, n - panel * Self.nr) {
                let j = panel * Self.nr + col
                for kk in 0..<k { base[kk * Self.nr + col] = value(kk, j) }
            }
        }
        if let bias {
            let b = p + panels * k * Self.nr
            for j in 0..<n { b[j] = bias(j) }
        }
    }

    /// Panel `panel`, starting at row `k0`.
    @inline(__always)
    func panel(_ panel: Int, k0: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage.pointer + (panel * k + k0) * Self.nr)
    }

    /// The 16 (zero-padded) bias values of panel `panel`.
    @inline(__always)
    func bias(panel: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage.pointer + panelCount * k * Self.nr + panel * Self.nr)
    }
}
