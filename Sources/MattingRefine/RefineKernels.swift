import CMattingKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The instruction-set path of MattingRefine's C kernels (CMattingKernels).
///
/// The default is the best the CPU supports; `MATTINGKIT_ISA=portable|avx2`, read once at
/// first use, forces a path (the same variable as the engine's kernels; `avx512`, which
/// the engine knows, selects the best path here, AVX2, as these kernels have no AVX-512
/// body: the same body compiled for AVX-512F measured no faster on Zen 5, 2 Dec 2026 — the
/// product is bound by memory traffic). Tests run every path in ``supported``.
enum RefineISA: String, Sendable, CaseIterable {
    /// Baseline C (SSE2 on x86_64, NEON on arm64).
    case portable
    /// AVX2 + FMA3.
    case avx2

    private static let cpuHasAVX2FMA = mk_cpu_supports_avx2_fma() != 0

    /// Whether this CPU can run the path.
    var isSupported: Bool { self == .portable || Self.cpuHasAVX2FMA }

    /// The path used unless told otherwise.
    static let current: RefineISA = {
        if let value = getenv("MATTINGKIT_ISA"), let isa = RefineISA(rawValue: String(cString: value).lowercased()) {
            return isa.isSupported ? isa : .portable
        }
        return cpuHasAVX2FMA ? .avx2 : .portable
    }()

    /// Every path this CPU can run.
    static var supported: [RefineISA] { allCases.filter(\.isSupported) }

    /// The closed-form Laplacian's per-tile window statistics for this path.
    var laplacianStatsKernel: mk_f64_cf_tile_stats_fn {
        switch self {
        case .portable: mk_f64_cf_tile_stats__portable
        case .avx2: mk_f64_cf_tile_stats__avx2_fma
        }
    }

    /// The closed-form Laplacian's per-tile diagonal and window counts for this path.
    var laplacianDiagonalKernel: mk_f64_cf_tile_diagonal_fn {
        switch self {
        case .portable: mk_f64_cf_tile_diagonal__portable
        case .avx2: mk_f64_cf_tile_diagonal__avx2_fma
        }
    }

    /// The closed-form Laplacian tile product for this path.
    var laplacianKernel: mk_f64_cf_laplacian_ukernel_fn {
        switch self {
        case .portable: mk_f64_cf_laplacian_ukernel__portable
        case .avx2: mk_f64_cf_laplacian_ukernel__avx2_fma
        }
    }
}
