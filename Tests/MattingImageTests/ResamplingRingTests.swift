import Testing
@testable import MattingImage
import MattingTestSupport

/// `resized` filters each thread's input rows into a ring of rows as it goes down; these
/// tests hold it to the plain two-pass form (every input row filtered into one plane, then
/// the vertical sums) that it replaced: bit-identical, for every filter,
/// both storage types, every layout, a cropped source, and heights around the two-thread
/// split (64 rows).
@Suite("Resampling, ring of filtered rows")
struct ResamplingRingTests {
    /// The two-pass reference: the same weights, the same per-row arithmetic, whole planes.
    static func twoPass<C: ImageComponent>(_ image: ImageBuffer<C>, width newWidth: Int, height newHeight: Int,
                                           filter: ResamplingFilter) -> ImageBuffer<C> {
        let horizontal = ResamplingWeights(inputSize: image.width, outputSize: newWidth, filter: filter)
        let vertical = ResamplingWeights(inputSize: image.height, outputSize: newHeight, filter: filter)
        let channels = image.channelCount, midStride = newWidth * channels
        var middle = [Float](repeating: 0, count: midStride * image.height)
        var line = [Float](repeating: 0, count: image.width * channels)
        image.withUnsafeBufferPointer { src, stride in
            for y in 0..<image.height {
                for i in 0..<image.width * channels { line[i] = src[y * stride + i].rawValue }
                for x in 0..<newWidth {
                    let first = Int(horizontal.start[x]), n = Int(horizontal.count[x])
                    for c in 0..<channels {
                        var s: Float = 0
                        for k in 0..<n { s += horizontal.weights[x * horizontal.taps + k] * line[(first + k) * channels + c] }
                        middle[y * midStride + x * channels + c] = s
                    }
                }
            }
        }
        var out = [C]()
        for y in 0..<newHeight {
            let first = Int(vertical.start[y]), n = max(Int(vertical.count[y]), 1)
            let w = Array(vertical.weights[y * vertical.taps..<y * vertical.taps + n])
            var acc = (0..<midStride).map { w[0] * middle[first * midStride + $0] }
            for k in 1..<n { for i in 0..<midStride { acc[i] += w[k] * middle[(first + k) * midStride + i] } }
            out += acc.map { C(rawValue: $0) }
        }
        return try! ImageBuffer<C>(width: newWidth, height: newHeight, layout: image.layout, components: out)
    }

    static let filters: [ResamplingFilter] = [.area, .bilinear, .lanczos3, .nearest, .bilinear(alignment: .asymmetric)]
    /// (source w×h, target w×h): shrink, enlarge, one axis each way, around 64 rows, primes.
    static let shapes: [(Int, Int, Int, Int)] = [
        (37, 23, 10, 7), (37, 23, 80, 51), (97, 131, 13, 63), (97, 131, 29, 64), (61, 200, 31, 65),
        (17, 19, 53, 131), (64, 64, 64, 17), (41, 7, 41, 97), (120, 180, 1, 1),
    ]

    @Test(arguments: filters, [PixelLayout.gray, .grayAlpha, .rgb, .rgba])
    func eightBitMatchesTwoPass(_ filter: ResamplingFilter, layout: PixelLayout) throws {
        for (w, h, W, H) in Self.shapes {
            var rng = SeededGenerator(seed: UInt64(w * 1000 + h * 10 + layout.channelCount))
            let image = try Image(width: w, height: h, layout: layout, components: rng.bytes(w * h * layout.channelCount))
            #expect(image.resized(width: W, height: H, filter: filter) == Self.twoPass(image, width: W, height: H, filter: filter),
                    "\(filter) \(w)×\(h)→\(W)×\(H) \(layout)")
        }
    }

    @Test(arguments: filters)
    func floatMatchesTwoPass(_ filter: ResamplingFilter) throws {
        for (w, h, W, H) in Self.shapes {
            var rng = SeededGenerator(seed: UInt64(w * 7 + h))
            let image = try FloatImage(width: w, height: h, layout: .rgb, components: rng.floats(w * h * 3, in: -0.2...1.2))
            let ours = image.resized(width: W, height: H, filter: filter)
            let reference = Self.twoPass(image, width: W, height: H, filter: filter)
            #expect(ours.packedComponents.map(\.bitPattern) == reference.packedComponents.map(\.bitPattern),
                    "\(filter) \(w)×\(h)→\(W)×\(H)")
        }
    }

    /// A view (row stride wider than the row) reads only its own pixels.
    @Test func croppedSourceMatchesItsCopy() throws {
        var rng = SeededGenerator(seed: 99)
        let big = try Image(width: 150, height: 140, layout: .rgb, components: rng.bytes(150 * 140 * 3))
        let view = big.cropped(to: ImageRect(x: 13, y: 9, width: 101, height: 117))
        let copy = try Image(width: 101, height: 117, layout: .rgb, components: view.packedComponents)
        for filter in Self.filters {
            #expect(view.resized(width: 37, height: 70, filter: filter) == copy.resized(width: 37, height: 70, filter: filter))
            #expect(view.resized(width: 37, height: 70, filter: filter) == Self.twoPass(copy, width: 37, height: 70, filter: filter))
        }
    }
}
