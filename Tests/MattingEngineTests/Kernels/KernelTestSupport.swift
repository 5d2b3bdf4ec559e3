@testable import MattingEngine
import MattingTestSupport

/// Tolerance of every fast kernel against its double-precision reference, measured as
/// `max |fast − ref| / (max |ref| + 1e-6)` (`ReferenceKernels.relativeError`).
///
/// Why 1e-4: the kernels accumulate K products in float32 (ε = 6e-8), in a different order
/// from the reference and with FMA contraction on AVX2. Rounding error grows like √K·ε for
/// random data and at worst K·ε; with inputs in −1…1 and K ≤ ~2,500 in these tests the
/// observed error is around 1e-6, so 1e-4 leaves wide margin while still catching any wrong
/// tap, index or missing term (those produce errors of order 1e-2 or more).
let kernelTolerance = 1e-4

/// Converts a reference shape into the engine's geometry.
func geometry(_ s: ReferenceConvolutionShape) -> ConvolutionGeometry {
    ConvolutionGeometry(
        inputChannels: s.inputChannels, outputChannels: s.outputChannels,
        kernelHeight: s.kernelHeight, kernelWidth: s.kernelWidth,
        strideHeight: s.strideHeight, strideWidth: s.strideWidth,
        dilationHeight: s.dilationHeight, dilationWidth: s.dilationWidth, groups: s.groups,
        padTop: s.padTop, padLeft: s.padLeft, padBottom: s.padBottom, padRight: s.padRight,
        outputPaddingHeight: s.outputPaddingHeight, outputPaddingWidth: s.outputPaddingWidth)
}

/// Scratch memory, 64-byte aligned, as the runtime's memory plan provides it.
func withScratch<R>(_ bytes: Int, _ body: (UnsafeMutableRawPointer?) -> R) -> R {
    if bytes == 0 { return body(nil) }
    let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer { p.deallocate() }
    return body(p)
}

/// Runs a convolution kernel end to end with freshly allocated output and scratch.
func runConvolution(
    _ kernel: ConvolutionKernel, input: [Float], batch: Int, height: Int, width: Int, threads: ThreadPool
) -> [Float] {
    let (oh, ow) = kernel.geometry.convolutionOutputSize(height: height, width: width)
    return runKernel(
        input: input, outputCount: batch * oh * ow * kernel.geometry.outputChannels,
        scratchBytes: kernel.scratchByteCount(inputHeight: height, inputWidth: width, threadCount: threads.threadCount)
    ) { i, o, scratch in
        kernel.run(input: i, batch: batch, inputHeight: height, inputWidth: width, output: o, scratch: scratch, threads: threads)
    }
}

/// Runs a transposed convolution kernel end to end with freshly allocated output and scratch.
func runTransposed(
    _ kernel: TransposedConvolutionKernel, input: [Float], batch: Int, height: Int, width: Int, threads: ThreadPool
) -> [Float] {
    let (oh, ow) = kernel.geometry.transposedOutputSize(height: height, width: width)
    return runKernel(
        input: input, outputCount: batch * oh * ow * kernel.geometry.outputChannels,
        scratchBytes: kernel.scratchByteCount(inputHeight: height, inputWidth: width, threadCount: threads.threadCount)
    ) { i, o, scratch in
        kernel.run(input: i, batch: batch, inputHeight: height, inputWidth: width, output: o, scratch: scratch, threads: threads)
    }
}

/// Calls `run(input, output, scratch)` with NaN-filled output (so unwritten elements show)
/// and `scratchBytes` of scratch; returns the output.
private func runKernel(
    input: [Float], outputCount: Int, scratchBytes: Int,
    _ run: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutableRawPointer?) -> Void
) -> [Float] {
    var out = [Float](repeating: .nan, count: outputCount)
    withScratch(scratchBytes) { scratch in
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in run(i.baseAddress!, o.baseAddress!, scratch) }
        }
    }
    return out
}

/// A stable seed per test case, so each case is reproducible on its own.
func seed(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return h
}

/// Activations exercised by the kernels' fused stores (and the post-pass ones).
let fusedActivations: [Activation] = [
    .identity, .relu, .relu6, .clip(min: -0.25, max: 0.5), .hardSwish, .leakyRelu(alpha: 0.1),
    .hardSigmoid(alpha: 0.2, beta: 0.5), .sigmoid, .tanh,
]

/// Two pools, to check results do not depend on the thread count.
let singleThread = ThreadPool(threadCount: 1)
let twoThreads = ThreadPool(threadCount: 2)
