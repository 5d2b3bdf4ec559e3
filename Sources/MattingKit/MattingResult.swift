import Foundation
import MattingImage
import MattingRefine

/// What the pipeline returns for one photo, at the photo's original size.
public struct MattingResult: Sendable {
    /// The alpha matte: single-channel 8-bit, 0 transparent … 255 opaque.
    public let matte: Image
    /// The subject's colours (RGB, 8-bit), with the old background's colour removed from
    /// semi-transparent edges when foreground estimation was on; the photo's colours otherwise.
    public let foreground: Image
    /// How long each stage took, in pipeline order.
    public let timings: MattingTimings

    /// Only the pipeline makes results, so a result always holds a single-channel matte and
    /// RGB colours of the same size: the compositing below cannot meet a mismatch.
    init(matte: Image, foreground: Image, timings: MattingTimings = MattingTimings()) {
        precondition(matte.layout == .gray && foreground.layout == .rgb
                     && matte.width == foreground.width && matte.height == foreground.height,
                     "a MattingResult pairs a gray matte with RGB colours of its size")
        self.matte = matte
        self.foreground = foreground
        self.timings = timings
    }

    /// The cut-out: straight-alpha RGBA, foreground colours with the matte as alpha
    /// (`Compositing.cutout(_:matte:)`).
    public var cutout: Image {
        // Cannot throw: the initialiser holds the sizes and layouts Compositing checks.
        (try? Compositing.cutout(foreground, matte: matte)) ?? foreground.converted(to: .rgba)
    }

    /// `cutout.encoded(as: .png)`: the same bytes, but the RGBA rows are interleaved as the
    /// encoder deflates them, so the 48 MB RGBA picture of a 12 MP photo is never built.
    ///
    /// - Parameter threads: threads to deflate on (the bytes do not depend on it).
    /// - Throws: `ImageError.unsupportedEncoding(destination:detail:)` as `encoded(as:)`.
    public func cutoutPNG(threads: Int = 1) throws -> [UInt8] {
        guard !foreground.isEmpty else { return try cutout.encoded(as: .png, options: EncodingOptions(threads: threads)) }
        return try foreground.encodedPNG(withAlpha: matte, threads: threads)
    }

    /// The cut-out composited over a solid colour (RGB, 8-bit), as written to JPEG
    /// (`Compositing.composite(_:matte:over:pool:)`).
    public func composited(over color: RGBColor, pool: ThreadPool = .serial) -> Image {
        // Cannot throw: the initialiser holds the sizes and layouts Compositing checks.
        (try? Compositing.composite(foreground, matte: matte, over: .color(color), pool: pool)) ?? foreground
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
        record(stage, seconds: (clock.now - start).seconds)
        return result
    }

    /// Adds a stage measured elsewhere.
    public mutating func record(_ stage: String, seconds: Double) { stages.append((stage, seconds)) }

    public var description: String {
        (stages.map { "\($0.name) \(String(format: "%.1f", $0.seconds * 1000)) ms" } + [String(format: "total %.1f ms", total * 1000)])
            .joined(separator: ", ")
    }
}
