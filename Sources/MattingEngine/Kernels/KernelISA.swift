import CMattingKernels
import Foundation

/// The instruction-set path a kernel runs on.
///
/// The default is the best the CPU supports: AVX-512F, else AVX2+FMA, else portable.
/// `MATTINGKIT_ISA=portable|avx2|avx512` in the environment, read once at first use, forces a
/// path for tests and comparisons; asking for an unsupported path falls back to portable.
enum KernelISA: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Plain C with generic 128-bit vectors: SSE2 on x86_64, NEON on arm64.
    case portable
    /// AVX2 + FMA3 microkernels (x86_64).
    case avx2
    /// AVX-512F microkernels (x86_64 with AVX-512F and OS-enabled zmm state).
    case avx512

    /// Whether this CPU can run the path.
    var isSupported: Bool {
        switch self {
        case .portable: true
        case .avx2: KernelISA.cpuHasAVX2FMA
        case .avx512: KernelISA.cpuHasAVX512F
        }
    }

    private static let cpuHasAVX2FMA = mk_cpu_supports_avx2_fma() != 0
    // Every AVX-512F CPU has AVX2 and FMA; requiring them keeps the path a superset of avx2
    // (kernels without an AVX-512 twin may fall back to AVX2 ones).
    private static let cpuHasAVX512F = mk_cpu_supports_avx512f() != 0 && cpuHasAVX2FMA

    /// The path kernels use unless told otherwise.
    static let current = resolved(environmentValue: ProcessInfo.processInfo.environment["MATTINGKIT_ISA"])

    /// The best path this CPU supports.
    static var best: KernelISA { cpuHasAVX512F ? .avx512 : cpuHasAVX2FMA ? .avx2 : .portable }

    /// The path for a `MATTINGKIT_ISA` value: the named path if this CPU supports it,
    /// portable if it does not, the best supported if the value is absent or unknown.
    static func resolved(environmentValue: String?) -> KernelISA {
        if let value = environmentValue, let isa = KernelISA(rawValue: value.lowercased()) {
            return isa.isSupported ? isa : .portable
        }
        return best
    }

    /// Every path this CPU can run (what the tests iterate over).
    static var supported: [KernelISA] { allCases.filter(\.isSupported) }

    /// The GEMM microkernel for this path; its tile is `gemmBlocking.mr × gemmBlocking.nr`.
    var gemmMicrokernel: mk_f32_gemm_ukernel_fn {
        switch self {
        case .portable: mk_f32_gemm_ukernel_6x16__portable
        case .avx2: mk_f32_gemm_ukernel_6x16__avx2_fma
        case .avx512: mk_f32_gemm_ukernel_8x32__avx512f
        }
    }

    /// The indirect (implicit-GEMM) twin of `gemmMicrokernel`, same tile and packed weights,
    /// or `nil` where the path has none (its convolutions would keep the im2col lowering).
    var indirectGEMMMicrokernel: mk_f32_igemm_ukernel_fn? {
        switch self {
        case .portable: mk_f32_igemm_ukernel_6x16__portable
        case .avx2: mk_f32_igemm_ukernel_6x16__avx2_fma
        case .avx512: mk_f32_igemm_ukernel_8x32__avx512f
        }
    }

    /// Tile and cache blocking of this path's GEMM (the microkernel's MR × NR and the
    /// driver's task and K-block sizes). Weights are packed in panels of `nr` columns, so a
    /// kernel packs for the path it will run on.
    var gemmBlocking: GEMMBlocking {
        switch self {
        case .portable, .avx2: .zen3AVX2
        case .avx512: .zen5AVX512
        }
    }

    /// The few-input-channels convolution (`conv-hwc-body.h`): its microkernel, the output
    /// channels per vector (its weight blocks), and up to how many output channels a layer takes
    /// it — above, the GEMM lowerings win (each block of outputs reads every input value again;
    /// `kernel-bench --conv` on 3-channel 3×3 layers, Docs/Kernels.md: with AVX-512 it was faster
    /// up to 64 outputs, with AVX2 at 16, level at 32, slower at 64). `nil` where such layers take
    /// the GEMM lowerings (portable).
    var fewInputChannels: (microkernel: mk_f32_conv_hwc_ukernel_fn, lanes: Int, maxOutputs: Int)? {
        switch self {
        case .portable: nil
        case .avx2: (mk_f32_conv_hwc_ukernel__avx2_fma, 8, 16)
        case .avx512: (mk_f32_conv_hwc_ukernel__avx512f, 16, 64)
        }
    }

    /// The depthwise-convolution row microkernel for this path.
    var depthwiseMicrokernel: mk_f32_dwconv_ukernel_fn {
        switch self {
        case .portable: mk_f32_dwconv_ukernel_4c__portable
        case .avx2: mk_f32_dwconv_ukernel_8c__avx2_fma
        case .avx512: mk_f32_dwconv_ukernel_16c__avx512f
        }
    }

    /// The transposed convolution's few-output-channels dot microkernel, or `nil` where that
    /// path stays in Swift (portable: 8-lane dot products).
    var transposedDotMicrokernel: mk_f32_tconv_dot_ukernel_fn? {
        switch self {
        case .portable: nil
        case .avx2: mk_f32_tconv_dot_ukernel_8c__avx2_fma
        case .avx512: mk_f32_tconv_dot_ukernel_16c__avx512f
        }
    }

    /// The vectorised sigmoid of the kernels' activation post-passes
    /// (`Sources/CMattingKernels/vsigmoid.c`, `vsigmoid-body.h`).
    var sigmoidMicrokernel: mk_f32_vunary_ukernel_fn {
        switch self {
        case .portable: mk_f32_vsigmoid_ukernel_4__portable
        case .avx2: mk_f32_vsigmoid_ukernel_8__avx2_fma
        case .avx512: mk_f32_vsigmoid_ukernel_16__avx512f
        }
    }

    /// Exact GELU on vectors (`Sources/CMattingKernels/vgelu.c`). AVX-512 machines use the
    /// AVX2 one: GELU streams its values once, so the wider vector buys little.
    var geluMicrokernel: mk_f32_vunary_ukernel_fn {
        switch self {
        case .portable: mk_f32_vgelu_ukernel_4__portable
        case .avx2, .avx512: mk_f32_vgelu_ukernel_8__avx2_fma
        }
    }

    /// Layer normalisation of contiguous rows (`Sources/CMattingKernels/vlayernorm.c`).
    /// AVX-512 machines use the AVX2 one: it streams each row a few times, bound by memory.
    var layerNormMicrokernel: mk_f32_layernorm_ukernel_fn {
        switch self {
        case .portable: mk_f32_layernorm_rows__portable
        case .avx2, .avx512: mk_f32_layernorm_rows__avx2_fma
        }
    }

    /// A softmax row before its division (`Sources/CMattingKernels/vsoftmax.c`): the row's
    /// values replaced by `exp(scale · s − max)`, their sum returned. AVX-512 machines use the
    /// AVX2 one: a row is short and its two passes stay in L1.
    var softmaxMicrokernel: mk_f32_softmax_ukernel_fn {
        switch self {
        case .portable: mk_f32_softmax_numerators_4__portable
        case .avx2, .avx512: mk_f32_softmax_numerators_8__avx2_fma
        }
    }

    /// The 32-bit tile transpose for this path (AVX-512 machines use the AVX2 one: a
    /// transpose is bound by memory, not by vector width).
    var transposeMicrokernel: mk_x32_transpose_ukernel_fn {
        switch self {
        case .portable: mk_x32_transpose_ukernel_4x4__portable
        case .avx2, .avx512: mk_x32_transpose_ukernel_8x8__avx2
        }
    }

    /// Depthwise weights and bias are padded to a multiple of this many channels (the
    /// microkernel loads whole channel blocks of them).
    var depthwiseChannelPadding: Int {
        switch self {
        case .portable, .avx2: 8
        case .avx512: 16
        }
    }

    var description: String { rawValue }
}
