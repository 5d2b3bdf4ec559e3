// kernel-bench: times MattingEngine's kernels on fixed shapes and prints one line per
// workload (name, threads, median seconds, GFLOP/s). Scripts/bench-gemm.py runs it next to
// numpy/OpenBLAS. Usage:
//   kernel-bench [--repeat N] [--threads 1,2] [--isa avx512|avx2|portable] [--gemm m,n,k ...]
//                [--conv ic,oc,k,stride,dilation,h,w ... [--im2col]] [groups...]
// groups: dispatch peak gemm conv (= conv3x3 depthwise deconv) softmax; default: peak gemm conv.
import Foundation
@_spi(Benchmarks) import MattingEngine

var repeats = 15
var threadCounts = [1, 2]
var isa: String? = nil
var groups: Set<String> = []
var gemmShapes = [(1024, 1024, 1024), (65536, 64, 576), (4096, 256, 2304)]
var convShapes: [[Int]] = []
var convIndirect = true
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--repeat": repeats = Int(args.popFirst() ?? "") ?? repeats
    case "--threads": threadCounts = (args.popFirst() ?? "1").split(separator: ",").compactMap { Int($0) }
    case "--isa": isa = args.popFirst()
    case "--gemm":  // m,n,k: time only this GEMM shape (repeatable)
        let v = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
        if v.count == 3 {
            if !groups.contains("gemm") { gemmShapes = [] }
            gemmShapes.append((v[0], v[1], v[2]))
            groups.insert("gemm")
        }
    case "--conv":  // ic,oc,k,stride,dilation,h,w: time only this convolution (bias, ReLU; repeatable)
        let v = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
        if v.count == 7 { convShapes.append(v); groups.insert("convshape") }
    case "--im2col": convIndirect = false  // --conv shapes on the im2col lowering
    default: groups.insert(arg)
    }
}
if groups.isEmpty { groups = ["peak", "gemm", "conv"] }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs once to warm up, then `repeats` times (fewer for slow workloads), and prints the median
/// wall time, the fastest run, and the median process CPU time per run. GFLOP/s per CPU-second
/// divided by nothing is per-core throughput: robust when other processes share the cores.
@MainActor func measure(_ w: KernelBenchmarks.Workload, threads: Int) {
    w.run()
    var times: [Double] = [], cpu: [Double] = []
    let budget = now() + 20
    for _ in 0..<repeats {
        let t0 = now(), c0 = cpuNow()
        w.run()
        times.append(now() - t0)
        cpu.append(cpuNow() - c0)
        if now() > budget && times.count >= 3 { break }
    }
    times.sort()
    cpu.sort()
    let median = times[times.count / 2], cpuMedian = cpu[cpu.count / 2]
    let line = String(format: "%@\tthreads=%d\tmedian_s=%.6f\tgflops=%.1f\tbest_gflops=%.1f\tcpu_gflops=%.1f\truns=%d\n",
                      w.name, threads, median, w.flops / median / 1e9, w.flops / times[0] / 1e9,
                      w.flops / cpuMedian / 1e9, times.count)
    FileHandle.standardOutput.write(Data(line.utf8))  // unbuffered: the script reads as it goes
}

FileHandle.standardOutput.write(Data("isa=\(isa ?? KernelBenchmarks.defaultISA)\n".utf8))
if groups.contains("dispatch") {
    // Cost of one empty parallel region on 2 threads (what each small layer pays).
    let pool = ThreadPool(threadCount: 2)
    let n = 20000
    var samples: [Double] = []
    for _ in 0..<5 {
        let t0 = now()
        for _ in 0..<n { pool.parallelFor(2) { _ in } }
        samples.append((now() - t0) / Double(n))
    }
    samples.sort()
    FileHandle.standardOutput.write(Data(String(format: "dispatch\tthreads=2\tmedian_us=%.2f\n", samples[2] * 1e6).utf8))
}
if groups.contains("peak"), let peak = KernelBenchmarks.fmaPeak() { measure(peak, threads: 1) }
// Values per second (printed as "gflops"), the copy of the scores into place included.
if groups.contains("softmax") { measure(KernelBenchmarks.softmax(rows: 48, count: 1024, isa: isa), threads: 1) }
for t in threadCounts {
    if groups.contains("gemm") {
        for (m, n, k) in gemmShapes {
            measure(KernelBenchmarks.gemm(m: m, n: n, k: k, threads: t, isa: isa), threads: t)
        }
    }
    for v in convShapes {
        measure(KernelBenchmarks.convolution(inputChannels: v[0], outputChannels: v[1], kernelSize: v[2], stride: v[3],
                                             dilation: v[4], height: v[5], width: v[6], threads: t, isa: isa,
                                             indirect: convIndirect), threads: t)
    }
    if groups.contains("conv") || groups.contains("conv3x3") {
        measure(KernelBenchmarks.convolution(inputChannels: 64, outputChannels: 64, kernelSize: 3,
                                             height: 256, width: 256, threads: t, isa: isa), threads: t)
    }
    if groups.contains("conv") || groups.contains("depthwise") {
        measure(KernelBenchmarks.convolution(inputChannels: 128, outputChannels: 128, kernelSize: 3, groups: 128,
                                             height: 128, width: 128, threads: t, isa: isa), threads: t)
    }
    if groups.contains("conv") || groups.contains("deconv") {
        measure(KernelBenchmarks.transposedConvolution(inputChannels: 64, outputChannels: 32, kernelSize: 2, stride: 2,
                                                       height: 128, width: 128, threads: t, isa: isa), threads: t)
    }
}
