/// How ``ImageBuffer/resized(width:height:filter:pool:)`` computes each output pixel.
///
/// | filter | downscale | upscale | matches |
/// | --- | --- | --- | --- |
/// | ``area`` | exact box coverage: each output pixel is the mean of the input area it covers | as ``bilinear`` | OpenCV `INTER_AREA` |
/// | ``bilinear`` | 2×2 taps, no antialiasing | 2×2 taps | OpenCV `INTER_LINEAR` (half-pixel centres) |
/// | ``lanczos3`` | Lanczos-3 widened by the scale (antialiased) | Lanczos-3 | Pillow `LANCZOS` |
/// | ``nearest`` | nearest input pixel | nearest input pixel | OpenCV `INTER_NEAREST` |
///
/// Use ``area`` to shrink photos (no aliasing, no ringing), ``lanczos3`` for the sharpest
/// scaling either way, ``nearest`` for label images such as trimaps.
public struct ResamplingFilter: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Where the sample points of the output grid fall on the input grid.
    public enum Alignment: Sendable, Hashable, Codable {
        /// Pixel centres line up: `source = (destination + 0.5) · scale − 0.5` (OpenCV, PIL,
        /// ONNX `half_pixel`).
        case halfPixel
        /// Pixel corners line up at the origin: `source = destination · scale` (TensorFlow's
        /// legacy `align_corners=False, half_pixel_centers=False`; MediaPipe's image-to-tensor).
        case asymmetric
        /// The outermost pixel centres line up:
        /// `source = destination · (inSize − 1) / (outSize − 1)`.
        case alignCorners
    }

    enum Kind: String, Sendable, Hashable, Codable { case nearest, bilinear, area, lanczos3 }

    let kind: Kind
    let alignment: Alignment

    /// Box-coverage averaging for downscaling; bilinear for upscaling.
    public static let area = ResamplingFilter(kind: .area, alignment: .halfPixel)
    /// Two-tap linear interpolation in each direction, half-pixel centres, no antialiasing.
    public static let bilinear = ResamplingFilter(kind: .bilinear, alignment: .halfPixel)
    /// Two-tap linear interpolation with the given sample alignment, no antialiasing.
    public static func bilinear(alignment: Alignment) -> ResamplingFilter {
        ResamplingFilter(kind: .bilinear, alignment: alignment)
    }
    /// Lanczos windowed sinc with 3 lobes, widened when downscaling so it does not alias.
    public static let lanczos3 = ResamplingFilter(kind: .lanczos3, alignment: .halfPixel)
    /// The nearest input pixel (rounding `source = (destination + 0.5) · scale` down).
    public static let nearest = ResamplingFilter(kind: .nearest, alignment: .halfPixel)

    public var description: String {
        switch kind {
        case .nearest: "nearest"
        case .area: "area"
        case .lanczos3: "lanczos3"
        case .bilinear: alignment == .halfPixel ? "bilinear" : "bilinear(\(alignment))"
        }
    }
}

/// For every output index along one axis, the span of input indices and their weights.
///
/// Weights of one output sum to 1 (up to rounding). Stored flat: output `i` reads inputs
/// `start[i] ..< start[i] + count[i]` with weights `weights[i * taps ..< i * taps + count[i]]`.
package struct ResamplingWeights {
    package let outputSize: Int
    package let taps: Int
    package var start: [Int32]
    package var count: [Int32]
    package var weights: [Float]

    package init(inputSize: Int, outputSize: Int, filter: ResamplingFilter) {
        precondition(inputSize > 0 && outputSize > 0)
        let scale = Double(inputSize) / Double(outputSize)
        var kind = filter.kind
        if kind == .area && scale <= 1 { kind = .bilinear }
        switch kind {
        case .nearest:
            self.init(outputSize: outputSize, taps: 1)
            for i in 0..<outputSize {
                let source = min(Int((Double(i) + 0.5) * scale), inputSize - 1)
                set(i, start: source, weights: [1])
            }
        case .bilinear:
            self.init(outputSize: outputSize, taps: 2)
            for i in 0..<outputSize {
                var source: Double
                switch filter.alignment {
                case .halfPixel: source = (Double(i) + 0.5) * scale - 0.5
                case .asymmetric: source = Double(i) * scale
                case .alignCorners:
                    source = outputSize > 1 ? Double(i) * Double(inputSize - 1) / Double(outputSize - 1) : 0
                }
                // Outside the first/last centre the edge pixel is repeated (OpenCV clamps).
                source = min(max(source, 0), Double(inputSize - 1))
                let left = min(Int(source), inputSize - 1)
                let fraction = Float(source - Double(left))
                if left + 1 < inputSize && fraction > 0 {
                    set(i, start: left, weights: [1 - fraction, fraction])
                } else {
                    set(i, start: left, weights: [1])
                }
            }
        case .area:
            // Output pixel i covers input interval [i·scale, (i+1)·scale).
            self.init(outputSize: outputSize, taps: Int(scale.rounded(.up)) + 2)
            for i in 0..<outputSize {
                let lo = Double(i) * scale, hi = min(Double(i + 1) * scale, Double(inputSize))
                let first = Int(lo), last = min(Int(hi.rounded(.up)) - 1, inputSize - 1)
                var w = [Float]()
                for j in first...last {
                    let overlap = min(hi, Double(j + 1)) - max(lo, Double(j))
                    w.append(Float(max(overlap, 0) / (hi - lo)))
                }
                set(i, start: first, weights: w)
            }
        case .lanczos3:
            let support = 3 * max(scale, 1)
            let inverse = 1 / max(scale, 1)
            self.init(outputSize: outputSize, taps: Int(support.rounded(.up)) * 2 + 2)
            for i in 0..<outputSize {
                let centre = (Double(i) + 0.5) * scale
                // The window [centre − support, centre + support), rounded to whole pixels.
                let first = max(Int((centre - support + 0.5).rounded(.down)), 0)
                let end = min(max(Int((centre + support + 0.5).rounded(.down)), first + 1), inputSize)
                var w = [Double]()
                var total = 0.0
                for j in first..<end {
                    let value = Self.lanczos3((Double(j) + 0.5 - centre) * inverse)
                    w.append(value)
                    total += value
                }
                set(i, start: first, weights: w.map { Float(total != 0 ? $0 / total : 0) })
            }
        }
    }

    private init(outputSize: Int, taps: Int) {
        self.outputSize = outputSize
        self.taps = taps
        start = [Int32](repeating: 0, count: outputSize)
        count = [Int32](repeating: 0, count: outputSize)
        weights = [Float](repeating: 0, count: outputSize * taps)
    }

    private mutating func set(_ i: Int, start first: Int, weights w: [Float]) {
        // Drop zero weights at either end so spans stay tight.
        var lo = 0, hi = w.count
        while hi - lo > 1 && w[lo] == 0 { lo += 1 }
        while hi - lo > 1 && w[hi - 1] == 0 { hi -= 1 }
        precondition(hi - lo <= taps)
        start[i] = Int32(first + lo)
        count[i] = Int32(hi - lo)
        for k in lo..<hi { weights[i * taps + k - lo] = w[k] }
    }

    static func lanczos3(_ x: Double) -> Double {
        if x == 0 { return 1 }
        if x <= -3 || x >= 3 { return 0 }
        let px = Double.pi * x
        return 3 * _sin(px) * _sin(px / 3) / (px * px)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
#else
import Foundation
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
#endif
