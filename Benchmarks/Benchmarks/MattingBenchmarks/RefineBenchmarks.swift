import Benchmark
import Foundation
import MattingKit

// Refine-stage benchmarks on a synthetic 600×900 composite made here (no files needed):
// a soft disk with 1–2 px strands over a textured background, ~8 % unknown. The 1200×1800
// comparison with pymatting uses `refine-bench` and Scripts/bench-refine.py instead (see
// Docs/Benchmarks.md, "Refine"). Register with `registerRefineBenchmarks()` in
// MattingBenchmarks.swift.

/// Image, trimap and true alpha of the synthetic composite.
private func refineInput(width w: Int, height h: Int) -> (FloatImage, Trimap, FloatImage) {
    let cx = Float(w) / 2, cy = Float(h) / 2, radius = Float(min(w, h)) * 0.35
    var alpha = [Float](repeating: 0, count: w * h)
    for y in 0..<h {
        for x in 0..<w {
            let dx = Float(x) - cx, dy = Float(y) - cy
            let d = (dx * dx + dy * dy).squareRoot()
            var a = min(max((radius - d) / 1.5 + 0.5, 0), 1)
            // Strands: thin radial lines just outside the disk every 3 degrees.
            let angle = atan2(dy, dx) * 180 / .pi
            let offset = abs(angle - (angle / 3).rounded() * 3) * d * .pi / 180
            if d > radius && d < radius * 1.15 { a = max(a, min(max(1 - offset, 0), 1)) }
            alpha[y * w + x] = a
        }
    }
    let truth = (try? FloatImage(width: w, height: h, layout: .gray, components: alpha))
        ?? FloatImage(width: w, height: h, layout: .gray)
    let image = FloatImage(width: w, height: h, layout: .rgb) { x, y, c in
        let a = alpha[y * w + x]
        let f: Float = [0.55, 0.35, 0.25][c], b: Float = [0.2, 0.55, 0.75][c] + 0.1 * Float((x / 7 + y / 5) % 3) / 3
        return a * f + (1 - a) * b
    }
    let sure = (try? truth.eroded(radius: 4)) ?? truth
    let maybe = (try? truth.dilated(radius: 4)) ?? truth
    let values = (0..<w * h).map { i -> UInt8 in
        let x = i % w, y = i / w
        return sure[x, y, 0] > 0.99 ? 255 : (maybe[x, y, 0] < 0.01 ? 0 : 128)
    }
    let trimap = Trimap((try? Image(width: w, height: h, layout: .gray, components: values)) ?? Image(width: w, height: h, layout: .gray))
    return (image, trimap, truth)
}

func registerRefineBenchmarks() {
    let (image, trimap, truth) = refineInput(width: 600, height: 900)
    let pool = ThreadPool(threadCount: 2)
    Benchmark("refine.closedForm.600x900", configuration: .init(metrics: [.wallClock, .cpuTotal, .peakMemoryResident])) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ClosedFormMatting().alpha(for: image, trimap: trimap, pool: pool))
        }
    }
    Benchmark("refine.foregroundML.600x900", configuration: .init(metrics: [.wallClock, .cpuTotal, .peakMemoryResident])) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ForegroundEstimator().estimate(image, alpha: truth, pool: pool))
        }
    }
    Benchmark("refine.guidedFilter.r8.600x900", configuration: .init(metrics: [.wallClock, .cpuTotal])) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try GuidedFilter(radius: 8, epsilon: 1e-4).filtered(truth, guide: image))
        }
    }
    Benchmark("refine.portraitPreset.600x900", configuration: .init(metrics: [.wallClock, .cpuTotal])) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try MatteOperations.portrait.applied(to: truth))
        }
    }
}
