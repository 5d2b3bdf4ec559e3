import Foundation
import MattingImage

/// What the pipeline returns for one photo, at the photo's original size.
public struct MattingResult: Sendable {
    /// The alpha matte: single-channel 8-bit, 0 transparent … 255 opaque.
    public let matte: Image
    /// The subject's colours (RGB, 8-bit), with the old background's colour removed from
    /// semi-transparent edges when foreground estimation was on; the photo's colours otherwise.
    public let foreground: Image
    /// How long each stage took, in pipeline order.
    public let timings: MattingTimings

    /// The cut-out: straight-alpha RGBA, foreground colours with the matte as alpha.
    ///
    /// Built in one pointer pass (the same bytes as `foreground.converted(to: .rgba)
    /// .replacingChannel(3, with: matte)`, which took ~2 generic passes over 48 MB at 12 MP).
    public var cutout: Image {
        guard foreground.layout == .rgb, matte.layout == .gray,
              foreground.width == matte.width, foreground.height == matte.height
        else { return foreground.converted(to: .rgba).replacingChannel(3, with: matte) }
        // Every component is written below.
        var rgba = Image(uninitializedWidth: foreground.width, height: foreground.height, layout: .rgba)
        let width = foreground.width, height = foreground.height
        foreground.withUnsafeBufferPointer { f, fStride in
            matte.withUnsafeBufferPointer { a, aStride in
                rgba.withUnsafeMutableBufferPointer { d, dStride in
                    for y in 0..<height {
                        let fr = f + y * fStride, ar = a + y * aStride, dr = d + y * dStride
                        for x in 0..<width {
                            dr[4 * x] = fr[3 * x]
                            dr[4 * x + 1] = fr[3 * x + 1]
                            dr[4 * x + 2] = fr[3 * x + 2]
                            dr[4 * x + 3] = ar[x]
                        }
                    }
                }
            }
        }
        return rgba
    }

    /// `cutout.encoded(as: .png)`: the same bytes, but the RGBA rows are interleaved as the
    /// encoder deflates them, so the 48 MB RGBA picture of a 12 MP photo is never built.
    ///
    /// - Throws: ``ImageError/unsupportedEncoding(destination:detail:)`` as `encoded(as:)`.
    public func cutoutPNG() throws -> [UInt8] {
        guard foreground.layout == .rgb, matte.layout == .gray,
              foreground.width == matte.width, foreground.height == matte.height, !foreground.isEmpty
        else { return try cutout.encoded(as: .png) }
        return try foreground.encodedPNG(withAlpha: matte)
    }

    /// The cut-out composited over a solid colour (RGB, 8-bit), as written to JPEG.
    public func composited(over color: RGBColor) -> Image {
        // Every component is written below.
        var result = Image(uninitializedWidth: foreground.width, height: foreground.height, layout: .rgb)
        let background = [Float(color.red), Float(color.green), Float(color.blue)]
        let width = foreground.width, height = foreground.height
        foreground.withUnsafeBufferPointer { f, fStride in
            matte.withUnsafeBufferPointer { a, aStride in
                result.withUnsafeMutableBufferPointer { d, dStride in
                    for y in 0..<height {
                        for x in 0..<width {
                            let alpha = Float(a[y * aStride + x]) / 255
                            for c in 0..<3 {
                                let v = Float(f[y * fStride + 3 * x + c]) * alpha + background[c] * (1 - alpha)
                                d[y * dStride + 3 * x + c] = UInt8(v + 0.5)
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}

/// Wall-clock time per pipeline stage.
public struct MattingTimings: Sendable, CustomStringConvertible {
    /// `(stage, seconds)` in the order the stages ran.
    public private(set) var stages: [(name: String, seconds: Double)] = []

    public init() {}

    /// Total seconds over all stages.
    public var total: Double { stages.reduce(0) { $0 + $1.seconds } }

    /// Seconds spent in `stage`, or nil if it did not run.
    public subscript(stage: String) -> Double? { stages.first { $0.name == stage }?.seconds }

    /// Times `body` and records it as `stage`.
    public mutating func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try body()
        let elapsed = clock.now - start
        record(stage, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        return result
    }

    /// Adds a stage measured elsewhere.
    public mutating func record(_ stage: String, seconds: Double) { stages.append((stage, seconds)) }

    public var description: String {
        (stages.map { "\($0.name) \(String(format: "%.1f", $0.seconds * 1000)) ms" } + [String(format: "total %.1f ms", total * 1000)])
            .joined(separator: ", ")
    }
}
