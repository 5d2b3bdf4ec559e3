import Benchmark
import Foundation
import MattingKit

// Decode and encode of a 1200×1800 photo-like picture: JPEG (quality 95) and RGBA PNG
// (default settings: zlib level 2, "Up" filter), from and to memory. One iteration is one
// picture of 2.16 megapixels, so MP/s = 2.16 × throughput (#/s) = 2.16 / wall-clock seconds.
//
// The inputs are synthesised deterministically (CodecBenchmarkInput) and written to
// $TMPDIR/mattingkit-codec-bench/, where Scripts/bench-codecs.py reads the very same files
// to time Pillow and OpenCV (interleaved with Benchmarks/Tools/codec-timer; see Docs/Benchmarks.md).

func registerCodecBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], timeUnits: .microseconds, warmupIterations: 2,
        maxDuration: .seconds(6), maxIterations: 40)

    Benchmark("Codec.decode.jpeg-q95.1200x1800", configuration: configuration) { benchmark in
        let bytes = codecBenchmarkData.jpeg
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try Image(decoding: bytes))
        }
    }
    Benchmark("Codec.encode.jpeg-q95.1200x1800", configuration: configuration) { benchmark in
        let image = codecBenchmarkData.rgb
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try image.encoded(as: .jpeg, options: .init(jpegQuality: 95)))
        }
    }
    Benchmark("Codec.decode.png-rgba.1200x1800", configuration: configuration) { benchmark in
        let bytes = codecBenchmarkData.png
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try Image(decoding: bytes))
        }
    }
    Benchmark("Codec.encode.png-rgba.1200x1800", configuration: configuration) { benchmark in
        let image = codecBenchmarkData.rgba
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try image.encoded(as: .png))
        }
    }
}

/// The inputs, made on first use (a global `let` is initialised lazily), so that running
/// other benchmark groups costs nothing; also written to disk for Scripts/bench-codecs.py.
let codecBenchmarkData = CodecBenchmarkInput.prepare()

struct CodecBenchmarkData: Sendable {
    let rgb: Image, rgba: Image, jpeg: [UInt8], png: [UInt8]
}

/// A deterministic, photo-like 1200×1800 picture: smooth shading, a mid-frequency texture,
/// fine noise, and a soft elliptical alpha (a cut-out), so compressors see realistic data.
enum CodecBenchmarkInput {
    static let width = 1200, height = 1800

    static var folder: String {
        (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/mattingkit-codec-bench"
    }

    static func prepare() -> CodecBenchmarkData {
        let (rgb, rgba) = make()
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let data = CodecBenchmarkData(
                rgb: rgb, rgba: rgba, jpeg: try rgb.encoded(as: .jpeg, options: .init(jpegQuality: 95)),
                png: try rgba.encoded(as: .png))
            try Data(data.jpeg).write(to: URL(fileURLWithPath: folder + "/photo-q95.jpg"), options: .atomic)
            try Data(data.png).write(to: URL(fileURLWithPath: folder + "/photo-rgba.png"), options: .atomic)
            return data
        } catch {
            fatalError("cannot prepare the codec benchmark inputs in \(folder): \(error)")
        }
    }

    static func make() -> (rgb: Image, rgba: Image) {
        var state: UInt64 = 0x5EED_C0DE
        func noise() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) - 0.5
        }
        var rgba = Image(width: width, height: height, layout: .rgba)
        rgba.withUnsafeMutableBufferPointer { pixels, stride in
            for y in 0..<height {
                let v = Float(y) / Float(height)
                for x in 0..<width {
                    let u = Float(x) / Float(width)
                    // Smooth structure: large soft blobs and a vertical light gradient.
                    let base = 0.45 + 0.25 * sin(3.1 * u + 1.7 * v) * cos(2.3 * v - 0.9 * u) + 0.15 * (1 - v)
                    // Texture: fabric-like stripes that vary across the picture.
                    let texture = 0.06 * sin(Float(x) * 0.21 + 8 * sin(v * 5)) * sin(Float(y) * 0.17 + 3 * u)
                    let shade = base + texture
                    let p = pixels + y * stride + x * 4
                    let tint: [Float] = [1.0 + 0.2 * u, 0.9, 0.8 - 0.2 * v]
                    for c in 0..<3 {
                        p[c] = UInt8(unitValue: shade * tint[c] + 0.03 * noise())
                    }
                    // A feathered ellipse: opaque subject, transparent background.
                    let dx = (u - 0.5) / 0.38, dy = (v - 0.55) / 0.42
                    let r = (dx * dx + dy * dy).squareRoot()
                    p[3] = UInt8(unitValue: min(max((1.0 - r) * 25, 0), 1))
                }
            }
        }
        return (rgba.converted(to: .rgb), rgba)
    }
}
