import CMattingKernels
import Foundation

/// The instruction-set path a kernel runs on.
///
/// The default is the best the CPU supports (AVX2+FMA on x86_64 CPUs that have it, else
/// portable). `MATTINGKIT_ISA=portable|avx2` in the environment, read once at first use,
/// forces a path for tests and comparisons; asking for an unsupported path falls back to
/// portable.
enum KernelISA: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Plain C with generic 128-bit vectors: SSE2 on x86_64, NEON on arm64.
    case portable
    /// AVX2 + FMA3 microkernels (x86_64).
    case avx2

    /// Whether this CPU can run the path.
    var isSupported: Bool {
        switch self {
        case .portable: true
        case .avx2: KernelISA.cpuHasAVX2FMA
        }
    }

    private static let cpuHasAVX2FMA = mk_cpu_supports_avx2_fma() != 0

    /// The path kernels use unless told otherwise.
    static let current = resolved(environmentValue: ProcessInfo.processInfo.environment["MATTINGKIT_ISA"])

    /// The path for a `MATTINGKIT_ISA` value: the named path if this CPU supports it,
    /// portable if it does not, the best supported if the value is absent or unknown.
    static func resolved(environmentValue: String?) -> KernelISA {
        if let value = environmentValue, let isa = KernelISA(rawValue: value.lowercased()) {
            return isa.isSupported ? isa : .portable
        }
        return cpuHasAVX2FMA ? .avx2 : .portable
    }

    /// Every path this CPU can run (what the tests iterate over).
    static var supported: [KernelISA] { allCases.filter(\.isSupported) }

    /// The GEMM microkernel (`MK_GEMM_MR × MK_GEMM_NR`) for this path.
    var gemmMicrokernel: mk_f32_gemm_ukernel_fn {
        switch self {
        case .portable: mk_f32_gemm_ukernel_6x16__portable
        case .avx2: mk_f32_gemm_ukernel_6x16__avx2_fma
        }
    }

    /// The depthwise-convolution row microkernel for this path.
    var depthwiseMicrokernel: mk_f32_dwconv_ukernel_fn {
        switch self {
        case .portable: mk_f32_dwconv_ukernel_4c__portable
        case .avx2: mk_f32_dwconv_ukernel_8c__avx2_fma
        }
    }

    var description: String { rawValue }
}
