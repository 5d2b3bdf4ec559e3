import Benchmark
@_spi(Benchmarks) import MattingEngine

// Engine kernels: GEMM on model-shaped problems, the convolution lowerings, and the FMA peak
// probe that each figure's fraction of peak is computed from. package-benchmark reports time
// per run; GFLOP/s = the workload's flops (2·M·N·K for a GEMM) / time. Run from Benchmarks/:
//   swift package benchmark --filter 'kernel.*'
// Scripts/bench-gemm.py runs the same workloads (via kernel-bench) next to numpy/OpenBLAS and
// prints GFLOP/s directly (see Docs/Benchmarks.md).
func registerKernelBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], timeUnits: .microseconds,
        warmupIterations: 2, scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 200)

    func register(_ name: String, _ make: @escaping @Sendable () -> KernelBenchmarks.Workload?) {
        Benchmark(name, configuration: configuration) { benchmark in
            guard let workload = make() else { return }
            // Workload preparation (weight packing, buffers) stays outside the measured region.
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { workload.run() }
            benchmark.stopMeasurement()
            blackHole(workload)
        }
    }

    register("kernel.fmaPeak.1core") { KernelBenchmarks.fmaPeak(iterations: 10_000_000) }
    for threads in [1, 2] {
        for (m, n, k) in [(1024, 1024, 1024), (65536, 64, 576), (4096, 256, 2304)] {
            register("kernel.gemm.\(m)x\(n)x\(k).t\(threads)") {
                KernelBenchmarks.gemm(m: m, n: n, k: k, threads: threads)
            }
        }
        register("kernel.conv3x3.64to64.256x256.t\(threads)") {
            KernelBenchmarks.convolution(inputChannels: 64, outputChannels: 64, kernelSize: 3,
                                         height: 256, width: 256, threads: threads)
        }
        register("kernel.depthwise3x3.128ch.128x128.t\(threads)") {
            KernelBenchmarks.convolution(inputChannels: 128, outputChannels: 128, kernelSize: 3, groups: 128,
                                         height: 128, width: 128, threads: threads)
        }
        register("kernel.deconv2x2s2.64to32.128x128.t\(threads)") {
            KernelBenchmarks.transposedConvolution(inputChannels: 64, outputChannels: 32, kernelSize: 2, stride: 2,
                                                   height: 128, width: 128, threads: threads)
        }
    }
}
