import CMattingKernels

/// Prepared kernel workloads for the benchmark package and `kernel-bench` (not API).
///
/// Each workload owns its inputs, packed weights, output and scratch, so `run()` measures
/// only the kernel. Import with `@_spi(Benchmarks) import MattingEngine`.
@_spi(Benchmarks)
public enum KernelBenchmarks {
    /// One runnable, repeatable kernel invocation.
    public final class Workload: @unchecked Sendable {
        /// A short label, e.g. `gemm 1024x1024x1024`.
        public let name: String
        /// Floating-point operations per `run()` (multiply-add = 2).
        public let flops: Double
        private let body: () -> Void
        private let cleanup: () -> Void

        init(name: String, flops: Double, body: @escaping () -> Void, cleanup: @escaping () -> Void = {}) {
            self.name = name
            self.flops = flops
            self.body = body
            self.cleanup = cleanup
        }

        deinit { cleanup() }

        /// Runs the kernel once.
        public func run() { body() }
    }

    /// The instruction-set path kernels take by default here (`avx512`, `avx2` or `portable`).
    public static var defaultISA: String { KernelISA.current.rawValue }

    private static func isa(_ name: String?) -> KernelISA {
        name.flatMap { KernelISA(rawValue: $0) }.flatMap { $0.isSupported ? $0 : nil } ?? .current
    }

    private static func buffer(_ count: Int, seed: UInt32) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
        var x = seed | 1
        for i in 0..<max(count, 16) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5  // xorshift32: cheap, deterministic fill
            p[i] = Float(Int32(bitPattern: x) >> 8) / Float(1 << 23)
        }
        return p
    }

    /// `C[m×n] = A[m×k] · B[k×n]` (B packed once, identity activation, no bias).
    public static func gemm(m: Int, n: Int, k: Int, threads: Int, isa isaName: String? = nil) -> Workload {
        let a = buffer(m * k, seed: 1), c = buffer(m * n, seed: 3)
        let b = buffer(k * n, seed: 2)
        let kernel = GEMMKernel(k: k, n: n, b: Array(UnsafeBufferPointer(start: b, count: k * n)),
                                bias: nil, activation: .identity, isa: isa(isaName))
        b.deallocate()
        let pool = ThreadPool(threadCount: threads)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: kernel.scratchByteCount(threadCount: threads), alignment: 64)
        return Workload(name: "gemm \(m)x\(n)x\(k)", flops: 2.0 * Double(m) * Double(n) * Double(k),
                        body: { kernel.run(m: m, a: a, lda: k, c: c, ldc: n, scratch: scratch, threads: pool) },
                        cleanup: { a.deallocate(); c.deallocate(); scratch.deallocate() })
    }

    /// A convolution over a `1 × height × width × inputChannels` input, bias and ReLU fused.
    /// `groups == inputChannels == outputChannels` is depthwise. `indirect: false` keeps a
    /// K×K convolution on the im2col lowering (for before/after comparisons).
    public static func convolution(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, dilation: Int = 1, groups: Int = 1,
        height: Int, width: Int, threads: Int, isa isaName: String? = nil, indirect: Bool = true
    ) -> Workload {
        let pad = kernelSize / 2 * dilation
        let g = ConvolutionGeometry(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelHeight: kernelSize, kernelWidth: kernelSize, strideHeight: stride, strideWidth: stride,
            dilationHeight: dilation, dilationWidth: dilation,
            groups: groups, padTop: pad, padLeft: pad, padBottom: pad, padRight: pad)
        let w = buffer(g.weightCount, seed: 5)
        let kernel = ConvolutionKernel(geometry: g, weights: Array(UnsafeBufferPointer(start: w, count: g.weightCount)),
                                       bias: [Float](repeating: 0.1, count: outputChannels), activation: .relu,
                                       isa: isa(isaName), allowsIndirect: indirect)
        w.deallocate()
        let (oh, ow) = g.convolutionOutputSize(height: height, width: width)
        let input = buffer(height * width * inputChannels, seed: 6)
        let output = buffer(oh * ow * outputChannels, seed: 7)
        let scratchBytes = kernel.scratchByteCount(inputHeight: height, inputWidth: width, threadCount: threads)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(scratchBytes, 64), alignment: 64)
        let pool = ThreadPool(threadCount: threads)
        let macs = Double(oh * ow * outputChannels) * Double(kernelSize * kernelSize * inputChannels / groups)
        let kind = groups == inputChannels && groups == outputChannels && groups > 1 ? "depthwise"
            : kernel.isIndirect ? "conv indirect" : "conv"
        return Workload(
            name: "\(kind) \(kernelSize)x\(kernelSize)/\(stride)\(dilation > 1 ? " d\(dilation)" : "") \(inputChannels)->\(outputChannels) \(height)x\(width)",
            flops: 2 * macs,
            body: { kernel.run(input: input, batch: 1, inputHeight: height, inputWidth: width,
                               output: output, scratch: scratch, threads: pool) },
            cleanup: { input.deallocate(); output.deallocate(); scratch.deallocate() })
    }

    /// A transposed convolution (no padding) over a `1 × height × width × inputChannels` input.
    public static func transposedConvolution(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int,
        height: Int, width: Int, threads: Int, isa isaName: String? = nil
    ) -> Workload {
        let g = ConvolutionGeometry(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelHeight: kernelSize, kernelWidth: kernelSize, strideHeight: stride, strideWidth: stride)
        let w = buffer(g.weightCount, seed: 8)
        let kernel = TransposedConvolutionKernel(
            geometry: g, weights: Array(UnsafeBufferPointer(start: w, count: g.weightCount)),
            bias: [Float](repeating: 0.1, count: outputChannels), activation: .identity, isa: isa(isaName))
        w.deallocate()
        let (oh, ow) = g.transposedOutputSize(height: height, width: width)
        let input = buffer(height * width * inputChannels, seed: 9)
        let output = buffer(oh * ow * outputChannels, seed: 10)
        let scratchBytes = kernel.scratchByteCount(inputHeight: height, inputWidth: width, threadCount: threads)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(scratchBytes, 64), alignment: 64)
        let pool = ThreadPool(threadCount: threads)
        let macs = Double(height * width) * Double(kernelSize * kernelSize * inputChannels * outputChannels)
        return Workload(
            name: "deconv \(kernelSize)x\(kernelSize)/\(stride) \(inputChannels)->\(outputChannels) \(height)x\(width)",
            flops: 2 * macs,
            body: { kernel.run(input: input, batch: 1, inputHeight: height, inputWidth: width,
                               output: output, scratch: scratch, threads: pool) },
            cleanup: { input.deallocate(); output.deallocate(); scratch.deallocate() })
    }

    /// The softmax numerators of `rows` rows of `count` scores (attention's score block), on one
    /// core. `flops` counts one per value: the rate printed is values per second.
    public static func softmax(rows: Int, count: Int, isa isaName: String? = nil) -> Workload {
        let source = buffer(rows * count, seed: 4), scores = buffer(rows * count, seed: 5)
        for i in 0..<(rows * count) { source[i] *= 40 }  // scores in ±20, a spread like attention's
        let ukernel = isa(isaName).softmaxMicrokernel
        nonisolated(unsafe) var sink: Float = 0
        return Workload(name: "softmax \(rows)x\(count) (values)", flops: Double(rows * count),
                        body: {
                            scores.update(from: source, count: rows * count)
                            for r in 0..<rows { sink += ukernel(count, 0.125, scores + r * count) }
                        },
                        cleanup: { source.deallocate(); scores.deallocate() })
    }

    /// Independent FMAs on one core with no memory traffic: the machine's peak FMA rate per
    /// core on the widest path it supports (16-wide AVX-512F, else 8-wide AVX2; nil where
    /// neither is available).
    public static func fmaPeak(iterations: Int = 10_000_000) -> Workload? {
        nonisolated(unsafe) var sink: Float = 0
        if KernelISA.avx512.isSupported {
            return Workload(name: "fma peak avx512 (1 core)", flops: Double(iterations) * 12 * 16 * 2,
                            body: { sink += mk_f32_fma_peak_probe__avx512f(iterations) })
        }
        guard KernelISA.avx2.isSupported else { return nil }
        return Workload(name: "fma peak avx2 (1 core)", flops: Double(iterations) * 10 * 8 * 2,
                        body: { sink += mk_f32_fma_peak_probe__avx2_fma(iterations) })
    }
}
