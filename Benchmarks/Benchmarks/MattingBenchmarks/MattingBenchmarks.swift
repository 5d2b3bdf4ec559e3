import Benchmark
import MattingKit

// One entry point; each area registers its benchmarks from its own file.
let benchmarks: @Sendable () -> Void = {
    registerCodecBenchmarks()
    registerKernelBenchmarks()
    registerGraphBenchmarks()
    registerRefineBenchmarks()
    registerPipelineBenchmarks()
}
