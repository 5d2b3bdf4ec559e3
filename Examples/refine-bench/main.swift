// Measures MattingRefine's closed-form solver and foreground estimation on the inputs that
// Scripts/bench-refine.py saves (the same files pymatting is timed on):
//
//   .venv-refine/bin/python Scripts/bench-refine.py          # writes out/refine-bench/
//   swift run -c release refine-bench [out/refine-bench] [runs]
//
// A folder from a real photo (no alpha-true.npy) needs only image.npy (0…255) and
// trimap.npy; initial.npy (the pipeline's coarse alpha, 0…1) starts the solver and
// alpha-ref.npy, if present, is what SAD is taken against; the foreground part is skipped.
// CF_SAVE=path writes the solved alpha as raw little-endian Float32. TRIMAP_BENCH=1 times the
// trimap from initial.npy with and without the hair band instead.
//
// Prints median seconds, SAD against the true alpha, the edge-band foreground error, the
// solver's per-level iterations, and the process's peak resident memory (VmHWM).
import Foundation
import MattingImage
import MattingRefine
import MattingThreads
import MattingTestSupport

func peakResidentMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kib / 1024
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let arguments = CommandLine.arguments
let folder = URL(fileURLWithPath: arguments.count > 1 ? arguments[1] : "out/refine-bench")
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
do {
    let imageArray = try NumpyFile(contentsOf: folder.appendingPathComponent("image.npy"))
    let image = try imageArray.image(scale: 1 / 255)
    let t = try NumpyFile(contentsOf: folder.appendingPathComponent("trimap.npy"))
    let trimap = Trimap(try Image(width: t.shape[1], height: t.shape[0], layout: .gray, components: t.floats.map { UInt8($0) }))
    // A folder without a true alpha (a real photo) is scored against `alpha-ref.npy`
    // (for example a tightly solved reference) and skips the foreground part;
    // `initial.npy`, when present, starts the solver (the pipeline's coarse alpha).
    let fileManager = FileManager.default
    let hasTruth = fileManager.fileExists(atPath: folder.appendingPathComponent("alpha-true.npy").path)
    let referenceURL = folder.appendingPathComponent(hasTruth ? "alpha-true.npy" : "alpha-ref.npy")
    let truth = fileManager.fileExists(atPath: referenceURL.path) ? try NumpyFile(contentsOf: referenceURL).floats : nil
    let initialURL = folder.appendingPathComponent("initial.npy")
    let initial = fileManager.fileExists(atPath: initialURL.path) ? try NumpyFile(contentsOf: initialURL).image() : nil
    print("input \(image.width)x\(image.height), unknown \(String(format: "%.2f", 100 * Double(trimap.unknownCount) / Double(image.pixelCount))) %")
    let baseline = peakResidentMiB()

    // Solver settings may be overridden for experiments: CF_TOL, CF_MAXIT, CF_COARSEST.
    var solver = ClosedFormMatting()
    let environment = ProcessInfo.processInfo.environment
    // TRIMAP_BENCH=1: time only the model path's trimap from `initial.npy`, with and without the
    // hair band (`HairBand`, defaults; the image is the texture cue's guide), and exit.
    if environment["TRIMAP_BENCH"] == "1", let initial {
        let pool = ThreadPool(threadCount: environment["CF_THREADS"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount)
        let narrowOptions = Trimap.Options()
        var hairOptions = Trimap.Options()
        hairOptions.hairBand = HairBand()
        var narrowTimes: [Double] = [], hairTimes: [Double] = []
        var counts = (0, 0)
        for _ in 0..<max(1, runs) {
            var start = Date()
            let narrow = try Trimap(coarseAlpha: initial, options: narrowOptions, pool: pool)
            narrowTimes.append(Date().timeIntervalSince(start))
            start = Date()
            let hair = try Trimap(coarseAlpha: initial, guide: image, options: hairOptions, pool: pool)
            hairTimes.append(Date().timeIntervalSince(start))
            counts = (narrow.unknownCount, hair.unknownCount)
        }
        print(String(
            format: "trimap: narrow %.1f ms (unknown %d), hair band %.1f ms (unknown %d), medians of %d, %d threads",
            1000 * median(narrowTimes), counts.0, 1000 * median(hairTimes), counts.1, max(1, runs), pool.threadCount))
        exit(0)
    }
    if let v = environment["CF_TOL"].flatMap(Double.init) { solver.tolerance = v }
    if let v = environment["CF_MAXIT"].flatMap(Int.init) { solver.maxIterations = v }
    if let v = environment["CF_FINEST_MAXIT"].flatMap(Int.init) { solver.finestMaxIterations = v }
    if let v = environment["CF_RADIUS"].flatMap(Int.init) { solver.radius = v }
    if let v = environment["CF_COARSEST"].flatMap(Int.init) { solver.coarsestUnknownCount = v }
    // CF_EPS: the matting Laplacian's ε (default 1e-7; the information-flow paper uses 1e-6).
    if let v = environment["CF_EPS"].flatMap(Double.init) { solver.epsilon = v }
    // CF_IFM=1: the information-flow terms on the finest level (Docs/Quality.md, Build 3);
    // CF_IFM_KU=0/1 forces the known-to-unknown term off/on (default: the histogram test).
    if environment["CF_IFM"] == "1" {
        var flow = InformationFlow()
        if let v = environment["CF_IFM_KU"] { flow.usesKnownToUnknown = v == "1" }
        // CF_IFM_CM, CF_IFM_UU: σ_CM and σ_UU (0 drops the term).
        if let v = environment["CF_IFM_CM"].flatMap(Double.init) { flow.colourMixture = v }
        if let v = environment["CF_IFM_UU"].flatMap(Double.init) { flow.intraUnknown = v }
        solver.informationFlow = flow
    }
    // CF_THREADS: the pool's threads (default: the cores available); results do not depend on it.
    let pool = ThreadPool(threadCount: environment["CF_THREADS"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount)
    var times: [Double] = [], cpu: [Double] = []
    var result: (alpha: FloatImage, statistics: ClosedFormMatting.Statistics)?
    for _ in 0..<runs {
        let start = Date(), startCPU = cpuSeconds()
        // CF_PRECONDITIONER=multigrid: the multigrid-preconditioned solver (Docs/Quality.md, Build 2);
        // with CF_IFM=1, the terms' solve preconditioned by smoothed aggregation (branch `ifm-sa`).
        result = try solver.solve(
            image, trimap: trimap, initialAlpha: initial, pool: pool,
            multigrid: environment["CF_PRECONDITIONER"] == "multigrid",
            // CF_GALERKIN=0: the multigrid solver without its Galerkin level-1 operator.
            galerkin: environment["CF_GALERKIN"] != "0",
            // CF_SA=0: the V-cycle over the halved pyramid instead of smoothed aggregation
            // (CF_SA=3…5: blocks of that side; default 4).
            aggregationBlock: environment["CF_SA"].flatMap(Int.init) ?? ClosedFormMatting.aggregationBlock)
        times.append(Date().timeIntervalSince(start))
        cpu.append(cpuSeconds() - startCPU)
    }
    guard let (alpha, statistics) = result else { fatalError("no runs") }
    let ours = alpha.packedComponents
    let sad = truth.map { zip(ours, $0).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } } ?? .nan
    print("closed-form alpha: median \(String(format: "%.3f", median(times))) s over \(runs) runs \(times.map { String(format: "%.3f", $0) }), SAD \(hasTruth ? "" : "vs alpha-ref ")\(String(format: "%.1f", sad)); CPU time median \(String(format: "%.3f", median(cpu))) s; fastest run \(String(format: "%.3f", times.min() ?? 0)) s, least CPU \(String(format: "%.3f", cpu.min() ?? 0)) s")
    for level in statistics.levels {
        print("  level \(level.width)x\(level.height): \(level.unknown) unknown, \(level.iterations) iterations, residual \(String(format: "%.2e", level.residual))")
    }
    if let pymatting = try? NumpyFile(contentsOf: folder.appendingPathComponent("alpha-pymatting.npy")).floats {
        let difference = zip(ours, pymatting).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        print("  SAD ours vs pymatting's alpha: \(String(format: "%.1f", difference))")
    }
    let afterAlpha = peakResidentMiB()
    if let path = environment["CF_SAVE"] {
        try Data(ours.flatMap { withUnsafeBytes(of: $0) { Array($0) } }).write(to: URL(fileURLWithPath: path))
    }
    guard hasTruth, let truth else { exit(0) }
    let trueForeground = try NumpyFile(contentsOf: folder.appendingPathComponent("foreground-true.npy")).floats

    let trueAlpha = try FloatImage(width: image.width, height: image.height, layout: .gray, components: truth)
    var ftimes: [Double] = [], fcpu: [Double] = []
    var foreground: FloatImage?
    for _ in 0..<runs {
        let start = Date(), startCPU = cpuSeconds()
        var estimator = ForegroundEstimator()
        // FG_MARGIN: the estimator's activeMargin ("none" sweeps every pixel, as pymatting).
        if let v = environment["FG_MARGIN"] { estimator.activeMargin = Int(v) }
        foreground = try estimator.estimate(image, alpha: trueAlpha, pool: pool).foreground
        ftimes.append(Date().timeIntervalSince(start))
        fcpu.append(cpuSeconds() - startCPU)
    }
    let (estimated, naive) = ReferenceRefine.edgeBandForegroundError(
        foreground?.packedComponents ?? [], photo: image.packedComponents, trueForeground: trueForeground, trueAlpha: truth)
    print("foreground (ml): median \(String(format: "%.3f", median(ftimes))) s (CPU \(String(format: "%.3f", median(fcpu))) s), edge-band mean |F - F_true| \(String(format: "%.4f", estimated)) (F = image: \(String(format: "%.4f", naive)))")
    print("peak RSS: after loading \(Int(baseline)) MiB, after alpha \(Int(afterAlpha)) MiB, after foreground \(Int(peakResidentMiB())) MiB")
} catch {
    FileHandle.standardError.write(Data("refine-bench: \(error)\n".utf8))
    exit(1)
}
