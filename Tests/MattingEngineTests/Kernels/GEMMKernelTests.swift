import Testing
import Foundation
@testable import MattingEngine
import MattingTestSupport

@Suite("GEMM kernel")
struct GEMMKernelTests {
    /// m × n × k around every path's microtile (6×16 for AVX2/portable, 8×32 for AVX-512), task
    /// (72 or 96 rows × 256 columns) and 256-deep K block: equal, below, above, multiples,
    /// primes and 1; n ≤ 16 and 17…31 exercise the AVX-512 kernel's half-width loop and masks.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 16, 1), (6, 16, 8), (5, 15, 7), (7, 17, 9), (12, 32, 16), (13, 33, 31),
        (6, 1, 256), (11, 47, 255), (18, 48, 257), (71, 64, 129), (72, 16, 512), (73, 29, 513),
        (144, 256, 64), (145, 257, 37), (97, 300, 600), (2, 5, 1031), (1, 512, 3), (200, 8, 2),
        (8, 32, 8), (7, 31, 5), (9, 33, 11), (16, 64, 17), (17, 65, 19), (1, 32, 1), (8, 1, 3),
        (3, 16, 300), (23, 48, 260), (95, 31, 257), (96, 32, 256), (97, 97, 513), (191, 288, 41),
    ]

    /// Every path this CPU supports runs against the same double-precision reference. On a CPU
    /// without AVX-512 (or AVX2) those paths are absent from `KernelISA.supported` and only the
    /// others run here; `KernelISATests` checks that detection agrees with /proc/cpuinfo, so a
    /// detection bug cannot quietly drop the AVX-512 path on a machine that has it.
    @Test("matches the double-precision reference", arguments: KernelISA.supported, shapes.indices)
    func matchesReference(isa: KernelISA, shapeIndex: Int) {
        let (m, n, k) = Self.shapes[shapeIndex]
        let s = seed("gemm \(m) \(n) \(k)")
        var rng = SeededGenerator(seed: s)
        let a = rng.floats(m * k), b = rng.floats(k * n), bias = rng.floats(n)
        let expected = ReferenceKernels.gemm(m: m, n: n, k: k, a: a, b: b, bias: bias)
        let kernel = GEMMKernel(k: k, n: n, b: b, bias: bias, activation: .identity, isa: isa)
        var first: [Float]? = nil
        for threads in [singleThread, twoThreads] {
            for packed in [false, true] {
                var c = [Float](repeating: .nan, count: m * n)
                withScratch(packed ? kernel.scratchByteCount(threadCount: threads.threadCount) : 0) { scratch in
                    a.withUnsafeBufferPointer { a in
                        c.withUnsafeMutableBufferPointer { c in
                            kernel.run(m: m, a: a.baseAddress!, lda: k, c: c.baseAddress!, ldc: n,
                                       scratch: scratch, threads: threads)
                        }
                    }
                }
                let error = ReferenceKernels.relativeError(c, expected)
                #expect(error <= kernelTolerance,
                        "\(isa) \(m)×\(n)×\(k) threads \(threads.threadCount) packed \(packed): error \(error), seed \(s)")
                // Thread count and A packing never change a bit of the result.
                if let first { #expect(c.map(\.bitPattern) == first.map(\.bitPattern), "\(isa) \(m)×\(n)×\(k), seed \(s)") }
                first = first ?? c
            }
        }
    }

    @Test("strided A and C, every fused activation", arguments: KernelISA.supported, fusedActivations)
    func stridedWithActivation(isa: KernelISA, activation: Activation) {
        let (m, n, k, lda, ldc) = (23, 37, 300, 311, 41)
        let s = seed("gemm strided \(activation)")
        var rng = SeededGenerator(seed: s)
        let a = rng.floats(m * lda), b = rng.floats(k * n), bias = rng.floats(n)
        let dense = (0..<m).flatMap { i in a[(i * lda)..<(i * lda + k)] }
        let expected = ReferenceKernels.gemm(m: m, n: n, k: k, a: dense, b: b, bias: bias, activation: activation)
        let kernel = GEMMKernel(k: k, n: n, b: b, bias: bias, activation: activation, isa: isa)
        var c = [Float](repeating: 12345, count: m * ldc)
        withScratch(kernel.scratchByteCount(threadCount: 2)) { scratch in
            a.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer { c in
                    kernel.run(m: m, a: a.baseAddress!, lda: lda, c: c.baseAddress!, ldc: ldc,
                               scratch: scratch, threads: twoThreads)
                }
            }
        }
        let got = (0..<m).flatMap { i in c[(i * ldc)..<(i * ldc + n)] }
        let error = ReferenceKernels.relativeError(got, expected)
        #expect(error <= kernelTolerance, "\(isa) \(activation): error \(error), seed \(s)")
        // Columns past n belong to someone else and must be untouched.
        #expect((0..<m).allSatisfy { i in c[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy { $0 == 12345 } })
    }

    @Test("no bias and K = 0 give zeros then the activation", arguments: KernelISA.supported)
    func emptyK(isa: KernelISA) {
        let kernel = GEMMKernel(k: 0, n: 20, b: [], bias: (0..<20).map { Float($0) - 10 }, activation: .relu, isa: isa)
        var c = [Float](repeating: .nan, count: 7 * 20)
        let a: [Float] = [0]
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                kernel.run(m: 7, a: a.baseAddress!, lda: 0, c: c.baseAddress!, ldc: 20, threads: singleThread)
            }
        }
        #expect(c == (0..<7).flatMap { _ in (0..<20).map { max(Float($0) - 10, 0) } })
    }
}

@Suite("Kernel ISA selection")
struct KernelISATests {
    @Test("MATTINGKIT_ISA values")
    func environmentValues() {
        #expect(KernelISA.resolved(environmentValue: "portable") == .portable)
        #expect(KernelISA.resolved(environmentValue: "PORTABLE") == .portable)
        #expect(KernelISA.resolved(environmentValue: "avx2") == (KernelISA.avx2.isSupported ? .avx2 : .portable))
        #expect(KernelISA.resolved(environmentValue: "avx512") == (KernelISA.avx512.isSupported ? .avx512 : .portable))
        let best: KernelISA = KernelISA.avx512.isSupported ? .avx512 : KernelISA.avx2.isSupported ? .avx2 : .portable
        #expect(KernelISA.resolved(environmentValue: nil) == best)
        #expect(KernelISA.resolved(environmentValue: "sse9") == best)
        #expect(KernelISA.supported.contains(.portable))
    }

    /// Detection agrees with what the Linux kernel reports (it lists `avx512f` only when it
    /// also enabled the zmm state), so on an AVX-512 machine the kernel tests really do run
    /// the AVX-512 path.
    @Test("detection matches /proc/cpuinfo")
    func detectionMatchesCPUInfo() throws {
        #if os(Linux) && arch(x86_64)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let set = Set(flags.split(separator: " ").map(String.init))
        #expect(KernelISA.avx2.isSupported == (set.contains("avx2") && set.contains("fma")))
        #expect(KernelISA.avx512.isSupported == (set.contains("avx512f") && set.contains("avx2") && set.contains("fma")))
        #endif
    }

    @Test("each path packs weights for its own tile", arguments: KernelISA.supported)
    func packingFollowsTile(isa: KernelISA) {
        let kernel = GEMMKernel(k: 3, n: 40, b: [Float](repeating: 1, count: 120), bias: nil, activation: .identity, isa: isa)
        #expect(kernel.weights.nr == isa.gemmBlocking.nr)
        #expect(kernel.weights.panelCount == (40 + isa.gemmBlocking.nr - 1) / isa.gemmBlocking.nr)
        #expect(isa.gemmBlocking.mc % isa.gemmBlocking.mr == 0 && isa.gemmBlocking.nc % isa.gemmBlocking.nr == 0)
    }
}
