import Benchmark
import Foundation
import MattingKit

// The default model on the engine, and the whole pipeline end to end, as users run it:
// JPEG bytes in → decode → segment → refine → foreground → upsample → postprocess → RGBA PNG
// cut-out and 8-bit mask PNG encoded (to memory; the `matte` program adds only the writes).
//
// Both need the default model (`Scripts/fetch-models.sh`); the end-to-end inputs are the
// README's sample photo (`Scripts/fetch-sample.sh`), upscaled here with MattingKit's own
// Lanczos-3 to 1200×1800 (cropped to 2:3) and 4000×3000 (cropped to 4:3) and encoded as JPEG
// quality 95 — the same recipe as Scripts/compare.py, which times the `matte` program on them.
// A missing file makes the benchmark fail with the fetch command in its message.
// Register with `registerPipelineBenchmarks()` in MattingBenchmarks.swift.

/// The sample photo, from the cache `Scripts/fetch-sample.sh` fills.
private func samplePhoto() throws -> Image {
    let environment = ProcessInfo.processInfo.environment
    let cache = environment["MATTINGKIT_CACHE_DIR"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")).appendingPathComponent("mattingkit")
    let url = cache.appendingPathComponent("samples/astronaut.png")
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw MattingError.modelMissing(path: "\(url.path) (the sample photo: run Scripts/fetch-sample.sh)")
    }
    return try Image(contentsOf: url)
}

/// The sample cropped around its centre to `width:height` and resized to that size, as JPEG bytes.
private func photoJPEG(width: Int, height: Int) throws -> [UInt8] {
    let sample = try samplePhoto().converted(to: .rgb)
    let side = min(sample.width, sample.height)
    let (cw, ch) = height <= width ? (side, side * height / width) : (side * width / height, side)
    let cropped = sample.cropped(to: ImageRect(x: (sample.width - cw) / 2, y: (sample.height - ch) / 2, width: cw, height: ch))
    return try cropped.resized(width: width, height: height, filter: .lanczos3)
        .encoded(as: .jpeg, options: .init(jpegQuality: 95))
}

func registerPipelineBenchmarks() {
    for threads in [1, 2] {
        Benchmark(
            "model.selfie.256x256.\(threads)thread\(threads == 1 ? "" : "s")",
            configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
                                 maxDuration: .seconds(8), maxIterations: 500)
        ) { benchmark in
            let model = try Model(contentsOf: try DefaultModel.url())
            guard let port = model.inputs.first else { throw MattingError.unsuitableModel("the default model has no input") }
            let session = try model.compile(inputShapes: [port.name: [1, 256, 256, 3]], threads: threads).makeSession()
            let input = Tensor(shape: [1, 256, 256, 3], floats: (0..<(256 * 256 * 3)).map { Float(($0 * 7919) % 256) / 255 })
            var outputs: [String: Tensor] = [:]
            try session.run([port.name: input], outputs: &outputs)  // warm: outputs allocated once
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try session.run([port.name: input], outputs: &outputs)
                blackHole(outputs)
            }
        }
    }

    for (width, height) in [(1200, 1800), (4000, 3000)] {
        for threads in [1, 2] {
            Benchmark(
                "pipeline.endToEnd.\(width)x\(height).t\(threads)",
                configuration: .init(metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal],
                                     warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 10)
            ) { benchmark async throws in
                let jpeg = try photoJPEG(width: width, height: height)
                let matter = try Matter(threads: threads)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    let photo = try Image(decoding: jpeg)
                    let result = try await matter.matte(photo, options: MattingOptions())
                    blackHole(try result.cutoutPNG(threads: threads))
                    blackHole(try result.matte.encoded(as: .png))
                }
            }
        }
    }
}
