import MattingThreads
import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

/// The foreground estimator's C passes against ``ReferenceForeground`` (the plain Swift
/// original), bit for bit: the fast path changes where memory lives and how loops run,
/// never the arithmetic.
@Suite struct ForegroundEstimatorTests {
    struct Case: CustomStringConvertible, Sendable {
        var width: Int, height: Int
        var margin: Int?
        var seed: UInt64
        var description: String { "\(width)×\(height) margin \(margin.map(String.init) ?? "nil") seed \(seed)" }
    }

    /// Sizes around the 32-row band, the 32-pixel small level and the 128×128 threshold of the
    /// active-band shortcut (equal, below, above, primes), and margins nil, 0, the default,
    /// negative and larger than the picture.
    static let cases: [Case] = [
        Case(width: 1, height: 1, margin: 4, seed: 1), Case(width: 2, height: 1, margin: 4, seed: 2),
        Case(width: 1, height: 7, margin: 4, seed: 3), Case(width: 5, height: 4, margin: nil, seed: 4),
        Case(width: 32, height: 32, margin: 4, seed: 5), Case(width: 33, height: 31, margin: 4, seed: 6),
        Case(width: 128, height: 128, margin: 4, seed: 7), Case(width: 129, height: 128, margin: 4, seed: 8),
        Case(width: 131, height: 197, margin: 4, seed: 9), Case(width: 197, height: 131, margin: nil, seed: 10),
        Case(width: 160, height: 150, margin: 0, seed: 11), Case(width: 150, height: 160, margin: -1, seed: 12),
        Case(width: 140, height: 141, margin: 1000, seed: 13), Case(width: 257, height: 96, margin: 2, seed: 14),
        Case(width: 67, height: 389, margin: 4, seed: 15),
    ]

    /// A soft-edged disc and stripes of random alpha (fractional, 0 and 1 mixed; for seeds
    /// divisible by 5 also outside 0…1, which the clamps and the `α == 1` test must treat as
    /// the reference does) on a random photo: opaque, transparent and edge pixels at every level.
    static func inputs(_ c: Case) -> (FloatImage, FloatImage) {
        var rng = SeededGenerator(seed: c.seed)
        let image = try! FloatImage(width: c.width, height: c.height, layout: .rgb, components: rng.floats(c.width * c.height * 3, in: 0...1))
        let noise = rng.floats(c.width * c.height, in: -0.5...1.5)
        let cx = Float(c.width) * 0.45, cy = Float(c.height) * 0.55, r = Float(min(c.width, c.height)) * 0.3
        let alpha = FloatImage(width: c.width, height: c.height, layout: .gray) { x, y, _ in
            if x % 17 == 3 { return c.seed % 5 == 0 ? noise[y * c.width + x] : min(max(noise[y * c.width + x], 0), 1) }
            let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
            return min(max((r - d) / 3 + 0.5, 0), 1)
        }
        return (image, alpha)
    }

    /// The first component whose bits differ (nil when the pictures are identical), so a
    /// failure names a place rather than printing two arrays.
    static func firstDifference(_ a: FloatImage, _ b: FloatImage) -> String? {
        guard a.width == b.width, a.height == b.height, a.layout == b.layout else { return "sizes or layouts differ" }
        let (x, y) = (a.packedComponents, b.packedComponents)
        guard let i = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) else { return nil }
        let pixel = i / a.channelCount
        return "pixel (\(pixel % a.width), \(pixel / a.width)) channel \(i % a.channelCount): \(x[i]) vs \(y[i])"
    }

    @Test(arguments: cases) func matchesTheReferenceExactly(_ c: Case) throws {
        let (image, alpha) = Self.inputs(c)
        var estimator = ForegroundEstimator()
        estimator.activeMargin = c.margin
        let reference = ReferenceForeground(estimator: estimator).estimate(image, alpha: alpha)
        let ours = try estimator.estimate(image, alpha: alpha)
        let f = Self.firstDifference(ours.foreground, reference.foreground)
        #expect(f == nil, "\(c): foreground, \(f ?? "")")
        let b = Self.firstDifference(ours.background, reference.background)
        #expect(b == nil, "\(c): background, \(b ?? "")")
        let only = Self.firstDifference(try estimator.foreground(image, alpha: alpha), reference.foreground)
        #expect(only == nil, "\(c): foreground(_:alpha:), \(only ?? "")")
        estimator.usesScalarSweep = true
        let scalar = Self.firstDifference(try estimator.foreground(image, alpha: alpha), reference.foreground)
        #expect(scalar == nil, "\(c): scalar sweep, \(scalar ?? "")")
    }

    /// Any thread count gives the same floats (bands have one owner and a fixed order).
    @Test(arguments: [1, 3, 8]) func threadCountDoesNotMatter(_ threads: Int) throws {
        let (image, alpha) = Self.inputs(Case(width: 211, height: 307, margin: 4, seed: 21))
        let estimator = ForegroundEstimator(), pool = ThreadPool(threadCount: threads)
        let two = try estimator.foreground(image, alpha: alpha, pool: ThreadPool(threadCount: 2))
        #expect(Self.firstDifference(try estimator.foreground(image, alpha: alpha, pool: pool), two) == nil)
        #expect(Self.firstDifference(try estimator.estimate(image, alpha: alpha, pool: pool).foreground, two) == nil)
    }

    /// Views with padded rows (a crop) and RGBA photos read the same pixels as packed RGB.
    @Test func stridedAndRGBAInputs() throws {
        let (image, alpha) = Self.inputs(Case(width: 190, height: 170, margin: 4, seed: 31))
        let rect = ImageRect(x: 7, y: 5, width: 150, height: 140)
        let (croppedImage, croppedAlpha) = (image.cropped(to: rect), alpha.cropped(to: rect))
        let packedImage = try FloatImage(width: rect.width, height: rect.height, layout: .rgb, components: croppedImage.packedComponents)
        let packedAlpha = try FloatImage(width: rect.width, height: rect.height, layout: .gray, components: croppedAlpha.packedComponents)
        let estimator = ForegroundEstimator()
        let reference = ReferenceForeground(estimator: estimator).estimate(packedImage, alpha: packedAlpha).foreground
        #expect(Self.firstDifference(try estimator.foreground(croppedImage, alpha: croppedAlpha), reference) == nil)
        let rgba = packedImage.converted(to: .rgba)
        #expect(Self.firstDifference(try estimator.foreground(rgba, alpha: packedAlpha), reference) == nil)
    }

    /// The foreground-only entry rejects what `estimate` rejects, with a typed error.
    @Test func foregroundOnlyRejectsBadInput() throws {
        let (image, alpha) = Self.inputs(Case(width: 20, height: 16, margin: 4, seed: 3))
        let gray = FloatImage(width: 20, height: 16, layout: .gray, repeating: 0.5)
        let small = FloatImage(width: 19, height: 16, layout: .gray, repeating: 0.5)
        #expect(throws: ImageError.self) { try ForegroundEstimator().foreground(gray, alpha: alpha) }
        #expect(throws: ImageError.self) { try ForegroundEstimator().foreground(image, alpha: small) }
        #expect(throws: ImageError.self) { try ForegroundEstimator().foreground(image, alpha: image) }
        var negative = ForegroundEstimator()
        negative.bigIterations = -1
        #expect(throws: ImageError.self) { try negative.foreground(image, alpha: alpha) }
        #expect(try ForegroundEstimator().foreground(FloatImage(width: 0, height: 0, layout: .rgb),
                                                     alpha: FloatImage(width: 0, height: 0, layout: .gray)).pixelCount == 0)
    }
}
