import Testing
@testable import MattingEngine
import MattingTestSupport

/// One convolution test case: shape plus input size.
struct ConvolutionCase: CustomStringConvertible, Sendable {
    var shape: ReferenceConvolutionShape
    var batch = 1
    var height: Int
    var width: Int
    var description: String { "\(shape) on \(batch)×\(height)×\(width)" }

    init(_ ic: Int, _ oc: Int, k: Int, kw: Int? = nil, stride: Int = 1, strideW: Int? = nil, dilation: Int = 1,
         groups: Int = 1, pad: (Int, Int, Int, Int) = (0, 0, 0, 0), outputPadding: Int = 0,
         batch: Int = 1, height: Int, width: Int) {
        shape = ReferenceConvolutionShape(inputChannels: ic, outputChannels: oc, kernelHeight: k, kernelWidth: kw ?? k)
        shape.strideHeight = stride
        shape.strideWidth = strideW ?? stride
        shape.dilationHeight = dilation
        shape.dilationWidth = dilation
        shape.groups = groups
        (shape.padTop, shape.padLeft, shape.padBottom, shape.padRight) = pad
        shape.outputPaddingHeight = outputPadding
        shape.outputPaddingWidth = outputPadding
        self.batch = batch
        self.height = height
        self.width = width
    }
}

@Suite("Convolution kernel")
struct ConvolutionKernelTests {
    static let cases: [ConvolutionCase] = [
        // 1×1 stride 1: direct GEMM on the NHWC input.
        ConvolutionCase(1, 1, k: 1, height: 1, width: 1),
        ConvolutionCase(16, 16, k: 1, height: 6, width: 6),
        ConvolutionCase(17, 33, k: 1, batch: 2, height: 7, width: 11),
        ConvolutionCase(300, 20, k: 1, height: 9, width: 9),
        ConvolutionCase(24, 40, k: 1, groups: 4, height: 5, width: 13),
        // 1×1 with stride or padding: im2col with one tap.
        ConvolutionCase(8, 12, k: 1, stride: 2, height: 9, width: 10),
        ConvolutionCase(5, 7, k: 1, pad: (1, 0, 0, 2), height: 4, width: 5),
        // K×K.
        ConvolutionCase(3, 16, k: 3, stride: 2, pad: (1, 1, 1, 1), height: 17, width: 16),
        ConvolutionCase(16, 16, k: 3, pad: (1, 1, 1, 1), batch: 2, height: 12, width: 12),
        ConvolutionCase(64, 64, k: 3, pad: (1, 1, 1, 1), height: 10, width: 9),
        ConvolutionCase(29, 31, k: 3, height: 13, width: 7),
        ConvolutionCase(7, 9, k: 5, pad: (2, 1, 0, 3), height: 11, width: 8),
        ConvolutionCase(8, 8, k: 3, dilation: 2, pad: (2, 2, 2, 2), height: 9, width: 10),
        ConvolutionCase(3, 8, k: 7, stride: 2, pad: (3, 3, 3, 3), height: 23, width: 19),
        ConvolutionCase(4, 6, k: 2, kw: 3, stride: 1, strideW: 2, pad: (0, 1, 1, 0), height: 6, width: 9),
        ConvolutionCase(130, 17, k: 3, stride: 2, pad: (0, 0, 1, 1), height: 8, width: 8),
        // Groups (not depthwise).
        ConvolutionCase(12, 18, k: 3, groups: 3, pad: (1, 1, 1, 1), height: 7, width: 8),
        ConvolutionCase(8, 16, k: 3, stride: 2, groups: 2, pad: (1, 1, 1, 1), height: 9, width: 9),
        // Depthwise with a channel multiplier (groups == inC, outC = 2·inC): grouped GEMM.
        ConvolutionCase(6, 12, k: 3, groups: 6, pad: (1, 1, 1, 1), height: 5, width: 6),
        // Kernel larger than the padded input in one direction is invalid; kernel == input is fine.
        ConvolutionCase(4, 5, k: 3, height: 3, width: 3),
    ]

    /// Up to four output channels per group, stride 1: the per-pixel dot path. A head's
    /// 64 → 1 3×3 (the AVX-512 kernel's 16-pixel blocks inside, single pixels at the borders),
    /// channel counts around its 16-lane block, dilation, asymmetric padding, 1×1, groups.
    static let dotCases: [ConvolutionCase] = [
        ConvolutionCase(64, 1, k: 3, pad: (1, 1, 1, 1), height: 9, width: 37),
        ConvolutionCase(64, 1, k: 3, pad: (1, 1, 1, 1), batch: 2, height: 5, width: 16),
        ConvolutionCase(16, 1, k: 3, dilation: 4, pad: (4, 4, 4, 4), height: 10, width: 40),
        ConvolutionCase(17, 1, k: 3, pad: (1, 1, 1, 1), height: 6, width: 33),
        ConvolutionCase(3, 2, k: 5, pad: (2, 0, 1, 3), height: 11, width: 19),
        ConvolutionCase(40, 4, k: 3, pad: (0, 1, 2, 0), height: 7, width: 21),
        ConvolutionCase(6, 1, k: 1, height: 8, width: 23),
        ConvolutionCase(130, 3, k: 1, batch: 2, height: 3, width: 18),
        ConvolutionCase(12, 6, k: 3, groups: 3, pad: (1, 1, 1, 1), height: 6, width: 20),
        ConvolutionCase(32, 2, k: 2, kw: 3, dilation: 2, height: 9, width: 26),
    ]

    @Test("the few-output-channels dot path matches the reference", arguments: KernelISA.supported, dotCases.indices)
    func dotPath(isa: KernelISA, index: Int) {
        Self.check(Self.dotCases[index], isa: isa, label: "dot")
        Self.check(Self.dotCases[index], isa: isa, activation: .sigmoid, label: "dot sigmoid")
    }

    static let depthwiseCases: [ConvolutionCase] = [
        ConvolutionCase(1, 1, k: 3, pad: (1, 1, 1, 1), height: 5, width: 5),
        ConvolutionCase(8, 8, k: 3, pad: (1, 1, 1, 1), height: 9, width: 12),
        ConvolutionCase(3, 3, k: 3, pad: (1, 1, 1, 1), height: 7, width: 9),
        ConvolutionCase(13, 13, k: 3, stride: 2, pad: (0, 0, 1, 1), height: 10, width: 11),
        ConvolutionCase(16, 16, k: 5, pad: (2, 2, 2, 2), batch: 2, height: 8, width: 14),
        ConvolutionCase(32, 32, k: 5, stride: 2, pad: (2, 2, 2, 2), height: 13, width: 17),
        ConvolutionCase(129, 129, k: 3, pad: (1, 1, 1, 1), height: 6, width: 10),
        ConvolutionCase(24, 24, k: 3, dilation: 2, pad: (2, 2, 2, 2), height: 9, width: 12),
        ConvolutionCase(20, 20, k: 3, pad: (0, 3, 2, 0), height: 5, width: 12),
        ConvolutionCase(9, 9, k: 7, stride: 2, pad: (3, 3, 3, 3), height: 15, width: 15),
        ConvolutionCase(10, 10, k: 1, height: 4, width: 4),
        ConvolutionCase(12, 12, k: 3, kw: 5, stride: 1, strideW: 3, pad: (1, 2, 1, 2), height: 8, width: 20),
        // Around the AVX-512 kernel's 16-channel block: below, above, multiples, in the
        // unrolled 3×3 / 5×5 interiors (odd and even pixel counts) and the general path.
        ConvolutionCase(15, 15, k: 3, pad: (1, 1, 1, 1), height: 6, width: 11),
        ConvolutionCase(17, 17, k: 5, pad: (2, 2, 2, 2), height: 7, width: 12),
        ConvolutionCase(31, 31, k: 3, stride: 2, pad: (1, 1, 1, 1), height: 9, width: 13),
        ConvolutionCase(33, 33, k: 5, pad: (2, 2, 2, 2), height: 8, width: 11),
        ConvolutionCase(48, 48, k: 3, pad: (1, 1, 1, 1), height: 5, width: 16),
        ConvolutionCase(47, 47, k: 7, pad: (3, 3, 3, 3), height: 9, width: 9),
    ].map { c in
        var c = c
        c.shape.groups = c.shape.inputChannels
        return c
    }

    /// K×K convolutions with at least 8 input channels per group: the indirect (pointer-table)
    /// lowering on every path (6×16 and 8×32 tiles). U²-Net's dilated 3×3s (taps in the padding),
    /// several K blocks of whole taps (64 channels: K = 576 > kc), one tap's channels split in K
    /// blocks (300 and 520 channels > kc), more pixels than a task's rows (13×11, batch 2), output
    /// channels that leave a partial panel (of 16 and of 32 columns; at most 16 columns takes
    /// the 8×32 kernel's half-width loop), more output channels than a task's columns (264 > nc),
    /// strides, groups and asymmetric padding.
    static let indirectCases: [ConvolutionCase] = [
        ConvolutionCase(16, 16, k: 3, pad: (1, 1, 1, 1), batch: 2, height: 13, width: 11),
        ConvolutionCase(16, 16, k: 3, dilation: 2, pad: (2, 2, 2, 2), height: 10, width: 10),
        ConvolutionCase(16, 16, k: 3, dilation: 8, pad: (8, 8, 8, 8), height: 10, width: 10),
        ConvolutionCase(32, 16, k: 3, dilation: 4, pad: (4, 4, 4, 4), height: 9, width: 12),
        ConvolutionCase(64, 64, k: 3, pad: (1, 1, 1, 1), height: 17, width: 9),
        ConvolutionCase(64, 40, k: 3, pad: (1, 1, 1, 1), height: 8, width: 11),
        ConvolutionCase(300, 20, k: 3, pad: (1, 1, 1, 1), height: 6, width: 7),
        ConvolutionCase(520, 18, k: 3, stride: 2, pad: (0, 1, 1, 0), height: 7, width: 8),
        ConvolutionCase(8, 24, k: 5, stride: 2, pad: (2, 1, 0, 2), height: 12, width: 9),
        ConvolutionCase(16, 12, k: 3, groups: 2, pad: (1, 1, 1, 1), height: 7, width: 10),
        ConvolutionCase(9, 17, k: 3, strideW: 2, pad: (0, 1, 2, 1), height: 8, width: 15),
        ConvolutionCase(16, 264, k: 3, pad: (1, 1, 1, 1), height: 5, width: 7),
    ]

    @Test("the indirect lowering matches the reference and the im2col lowering bit for bit",
          arguments: KernelISA.supported, indirectCases.indices)
    func indirectLowering(isa: KernelISA, index: Int) {
        let c = Self.indirectCases[index]
        for activation in [Activation.relu, .sigmoid] {
            Self.check(c, isa: isa, activation: activation, label: "indirect")
        }
        var rng = SeededGenerator(seed: seed("indirect vs im2col \(c)"))
        let input = rng.floats(c.batch * c.height * c.width * c.shape.inputChannels)
        let weights = rng.floats(c.shape.weightCount), bias = rng.floats(c.shape.outputChannels)
        let g = geometry(c.shape)
        let indirect = ConvolutionKernel(geometry: g, weights: weights, bias: bias, activation: .relu, isa: isa)
        let im2col = ConvolutionKernel(geometry: g, weights: weights, bias: bias, activation: .relu, isa: isa,
                                       allowsIndirect: false)
        #expect(indirect.isIndirect == (isa.indirectGEMMMicrokernel != nil), "\(isa) \(c): lowering")
        #expect(!im2col.isIndirect)
        let a = runConvolution(indirect, input: input, batch: c.batch, height: c.height, width: c.width, threads: twoThreads)
        let b = runConvolution(im2col, input: input, batch: c.batch, height: c.height, width: c.width, threads: singleThread)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(isa) \(c): indirect and im2col differ")
    }

    /// Up to four input channels, one group, K×K: the few-input-channels kernel on the AVX2 and
    /// AVX-512 paths (GEMM lowerings on portable). Widths give runs of 8-pixel groups inside
    /// and single pixels at both edges; output channels below, at and across the 8- and
    /// 16-lane blocks; strides 1–3, dilation, rectangular kernels, asymmetric padding, a
    /// padded kernel wider than the picture's inside, batches.
    static let fewInputChannelsCases: [ConvolutionCase] = [
        ConvolutionCase(3, 16, k: 3, stride: 2, pad: (0, 0, 1, 1), height: 33, width: 64),
        ConvolutionCase(3, 16, k: 3, stride: 2, pad: (1, 1, 1, 1), batch: 2, height: 18, width: 41),
        ConvolutionCase(3, 24, k: 3, pad: (1, 1, 1, 1), height: 9, width: 30),
        ConvolutionCase(1, 5, k: 3, stride: 2, pad: (1, 1, 1, 1), height: 12, width: 37),
        ConvolutionCase(2, 17, k: 5, pad: (2, 1, 0, 3), height: 11, width: 29),
        ConvolutionCase(4, 40, k: 2, kw: 3, stride: 1, strideW: 3, pad: (0, 1, 1, 0), height: 7, width: 52),
        ConvolutionCase(3, 32, k: 7, stride: 2, pad: (3, 3, 3, 3), height: 23, width: 45),
        ConvolutionCase(3, 64, k: 3, pad: (1, 1, 1, 1), height: 6, width: 27),
        ConvolutionCase(3, 8, k: 3, dilation: 3, pad: (3, 3, 3, 3), height: 10, width: 31),
        ConvolutionCase(3, 12, k: 5, pad: (4, 4, 4, 4), height: 3, width: 4),
        ConvolutionCase(4, 9, k: 3, stride: 3, height: 14, width: 50),
    ]

    @Test("the few-input-channels kernel matches the reference", arguments: KernelISA.supported, fewInputChannelsCases.indices)
    func fewInputChannels(isa: KernelISA, index: Int) {
        let c = Self.fewInputChannelsCases[index]
        let kernel = ConvolutionKernel(geometry: geometry(c.shape), weights: .init(repeating: 0, count: c.shape.weightCount),
                                       bias: nil, activation: .identity, isa: isa)
        #expect(kernel.isFewInputChannels == (c.shape.outputChannels <= isa.fewInputChannels?.maxOutputs ?? -1),
                "\(isa) \(c): lowering")
        for activation in [Activation.identity, .hardSwish, .relu6, .sigmoid] {
            Self.check(c, isa: isa, activation: activation, label: "few input channels")
        }
    }

    static func check(_ c: ConvolutionCase, isa: KernelISA, activation: Activation = .identity, label: String) {
        let s = seed("conv \(c) \(activation)")
        var rng = SeededGenerator(seed: s)
        let input = rng.floats(c.batch * c.height * c.width * c.shape.inputChannels)
        let weights = rng.floats(c.shape.weightCount), bias = rng.floats(c.shape.outputChannels)
        let expected = ReferenceKernels.convolution(
            c.shape, input: input, batch: c.batch, height: c.height, width: c.width,
            weights: weights, bias: bias, activation: activation)
        let kernel = ConvolutionKernel(geometry: geometry(c.shape), weights: weights, bias: bias,
                                       activation: activation, isa: isa)
        let one = runConvolution(kernel, input: input, batch: c.batch, height: c.height, width: c.width, threads: singleThread)
        let two = runConvolution(kernel, input: input, batch: c.batch, height: c.height, width: c.width, threads: twoThreads)
        let error = ReferenceKernels.relativeError(one, expected)
        #expect(error <= kernelTolerance, "\(label) \(isa) \(c) \(activation): error \(error), seed \(s)")
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "\(label) \(isa) \(c): 1 vs 2 threads differ, seed \(s)")
    }

    @Test("GEMM lowerings match the reference", arguments: KernelISA.supported, cases.indices)
    func gemmLowerings(isa: KernelISA, index: Int) {
        Self.check(Self.cases[index], isa: isa, label: "conv")
    }

    @Test("depthwise matches the reference", arguments: KernelISA.supported, depthwiseCases.indices)
    func depthwise(isa: KernelISA, index: Int) {
        let c = Self.depthwiseCases[index]
        #expect(geometry(c.shape).isDepthwise || c.shape.inputChannels == 1)
        Self.check(c, isa: isa, label: "depthwise")
    }

    @Test("fused activations", arguments: KernelISA.supported, fusedActivations)
    func activations(isa: KernelISA, activation: Activation) {
        Self.check(ConvolutionCase(10, 21, k: 3, pad: (1, 1, 1, 1), height: 6, width: 7), isa: isa, activation: activation, label: "conv")
        Self.check(ConvolutionCase(19, 23, k: 1, height: 5, width: 5), isa: isa, activation: activation, label: "pointwise")
        Self.check(ConvolutionCase(32, 1, k: 3, pad: (1, 1, 1, 1), height: 4, width: 20), isa: isa, activation: activation, label: "dot")
        var dw = ConvolutionCase(19, 19, k: 3, pad: (1, 1, 1, 1), height: 6, width: 9)
        dw.shape.groups = 19
        Self.check(dw, isa: isa, activation: activation, label: "depthwise")
    }

    @Test("scratch is bounded by the tile, not the image")
    func scratchIsBounded() {
        let g = geometry(ConvolutionCase(64, 64, k: 3, pad: (1, 1, 1, 1), height: 1, width: 1).shape)
        let kernel = ConvolutionKernel(geometry: g, weights: .init(repeating: 0, count: g.weightCount), bias: nil, activation: .identity)
        let small = kernel.scratchByteCount(inputHeight: 8, inputWidth: 8, threadCount: 2)
        let large = kernel.scratchByteCount(inputHeight: 2048, inputWidth: 2048, threadCount: 2)
        #expect(small == large && large <= 2 * 128 * 1024)
    }
}

@Suite("Transposed convolution kernel")
struct TransposedConvolutionKernelTests {
    static let cases: [ConvolutionCase] = [
        ConvolutionCase(4, 4, k: 2, stride: 2, height: 5, width: 6),
        ConvolutionCase(64, 32, k: 2, stride: 2, height: 6, width: 7),
        ConvolutionCase(16, 8, k: 3, stride: 2, pad: (1, 1, 1, 1), outputPadding: 1, height: 7, width: 5),
        ConvolutionCase(8, 16, k: 4, stride: 2, pad: (1, 1, 1, 1), batch: 2, height: 6, width: 6),
        ConvolutionCase(5, 3, k: 3, stride: 1, pad: (1, 1, 1, 1), height: 6, width: 4),
        ConvolutionCase(6, 6, k: 3, stride: 2, groups: 2, height: 4, width: 5),
        ConvolutionCase(3, 5, k: 3, stride: 2, dilation: 2, pad: (0, 1, 2, 0), height: 5, width: 5),
        ConvolutionCase(7, 4, k: 3, stride: 3, pad: (0, 0, 0, 0), outputPadding: 2, height: 4, width: 3),
        ConvolutionCase(2, 3, k: 1, stride: 2, height: 4, width: 4),
        ConvolutionCase(300, 20, k: 2, kw: 3, stride: 2, strideW: 1, pad: (0, 1, 0, 1), height: 3, width: 9),
        ConvolutionCase(17, 33, k: 5, stride: 2, pad: (2, 2, 2, 2), outputPadding: 1, height: 5, width: 8),
        // Few output channels (the direct per-pixel path): 16 → 1 decoder head, 8/9/17 input
        // channels around the 8-lane dot, taps outside the image, groups.
        ConvolutionCase(16, 1, k: 2, stride: 2, height: 9, width: 13),
        ConvolutionCase(9, 4, k: 3, stride: 2, pad: (1, 1, 1, 1), outputPadding: 1, height: 5, width: 7),
        ConvolutionCase(17, 3, k: 4, stride: 2, pad: (1, 2, 1, 0), batch: 2, height: 4, width: 6),
        ConvolutionCase(8, 2, k: 3, stride: 3, dilation: 2, pad: (0, 1, 2, 0), height: 3, width: 4),
        ConvolutionCase(10, 4, k: 3, stride: 2, groups: 2, height: 4, width: 5),
        // The AVX-512 dot kernel's 16-pixel blocks (one output channel, whole 16-channel
        // blocks): rows of 15, 16, 17, 33, 37 pixels per phase, blocks whose taps leave the
        // image (padding, 3×3/4×4), 32 channels, and a 24-channel head that takes the general path.
        ConvolutionCase(16, 1, k: 2, stride: 2, height: 3, width: 37),
        ConvolutionCase(16, 1, k: 2, stride: 2, height: 2, width: 16),
        ConvolutionCase(16, 1, k: 2, stride: 2, height: 2, width: 15),
        ConvolutionCase(32, 1, k: 3, stride: 2, pad: (1, 1, 1, 1), outputPadding: 1, height: 4, width: 33),
        ConvolutionCase(16, 1, k: 4, stride: 2, pad: (1, 1, 1, 1), batch: 2, height: 3, width: 17),
        ConvolutionCase(24, 1, k: 2, stride: 2, height: 2, width: 20),
    ]

    @Test("matches the reference", arguments: KernelISA.supported, cases.indices)
    func matchesReference(isa: KernelISA, index: Int) {
        check(Self.cases[index], isa: isa, activation: .identity)
    }

    @Test("fused activations", arguments: KernelISA.supported, fusedActivations)
    func activations(isa: KernelISA, activation: Activation) {
        check(ConvolutionCase(12, 10, k: 4, stride: 2, pad: (1, 1, 1, 1), height: 5, width: 6), isa: isa, activation: activation)
        check(ConvolutionCase(16, 1, k: 2, stride: 2, height: 5, width: 6), isa: isa, activation: activation)
        check(ConvolutionCase(16, 1, k: 2, stride: 2, height: 3, width: 21), isa: isa, activation: activation)
    }

    func check(_ c: ConvolutionCase, isa: KernelISA, activation: Activation) {
        let s = seed("deconv \(c) \(activation)")
        var rng = SeededGenerator(seed: s)
        let input = rng.floats(c.batch * c.height * c.width * c.shape.inputChannels)
        let weights = rng.floats(c.shape.weightCount), bias = rng.floats(c.shape.outputChannels)
        let expected = ReferenceKernels.transposedConvolution(
            c.shape, input: input, batch: c.batch, height: c.height, width: c.width,
            weights: weights, bias: bias, activation: activation)
        let kernel = TransposedConvolutionKernel(geometry: geometry(c.shape), weights: weights, bias: bias,
                                                 activation: activation, isa: isa)
        let one = runTransposed(kernel, input: input, batch: c.batch, height: c.height, width: c.width, threads: singleThread)
        let two = runTransposed(kernel, input: input, batch: c.batch, height: c.height, width: c.width, threads: twoThreads)
        let error = ReferenceKernels.relativeError(one, expected)
        #expect(error <= kernelTolerance, "deconv \(isa) \(c) \(activation): error \(error), seed \(s)")
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "deconv \(isa) \(c): 1 vs 2 threads differ, seed \(s)")
    }
}
