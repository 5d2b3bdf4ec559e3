import MattingThreads
import Testing
import MattingImage
import MattingTestSupport
@testable import MattingRefine

/// The banded 8-bit paths against the whole-image float formulas they replace in the pipeline.
@Suite struct BandedUpsamplingTests {
    /// Sizes around the 64-row band (below, equal, above, several bands, odd ratios).
    static let sizes: [(w: Int, h: Int, W: Int, H: Int)] = [
        (16, 12, 37, 29), (32, 32, 64, 64), (40, 33, 97, 131), (50, 70, 101, 200), (7, 5, 7, 5),
    ]

    /// Seeded 8-bit picture.
    static func photo(_ W: Int, _ H: Int, layout: PixelLayout, seed: UInt64) -> Image {
        var rng = SeededGenerator(seed: seed)
        let values = rng.floats(W * H * layout.channelCount, in: 0...255).map { UInt8($0) }
        return try! Image(width: W, height: H, layout: layout, components: values)
    }

    /// Guided-filter coefficients in row bands (with their 2r halo) against the whole-plane
    /// computation: heights below, at and across several bands, band heights 1…16, radii
    /// 1…3, gray and colour guides. Only the order of the Double running sums differs, so
    /// the Float results agree to rounding (1e-5 relative to the coefficient scale).
    @Test(arguments: [(9, 40, 1, 7), (13, 33, 2, 5), (20, 64, 3, 16), (11, 17, 1, 1), (8, 100, 2, 9)], [1, 3])
    func bandedCoefficientsMatchWholePlane(_ shape: (Int, Int, Int, Int), channels: Int) {
        let (w, h, r, bandRows) = shape
        var rng = SeededGenerator(seed: UInt64(w * h + r))
        let p = Plane(width: w, height: h, data: rng.floats(w * h, in: 0...1))
        let guide = (0..<channels).map { _ in Plane(width: w, height: h, data: rng.floats(w * h, in: 0...1)) }
        let whole = GuidedFilter.coefficients(p, guide: guide, radius: r, epsilon: 1e-3, pool: ThreadPool(threadCount: 2))
        let banded = GuidedFilter.bandedCoefficients(p, guide: guide, radius: r, epsilon: 1e-3, pool: ThreadPool(threadCount: 2), bandRows: bandRows)
        #expect(banded.count == whole.count)
        for (a, b) in zip(whole, banded) {
            let scale = max(1, a.data.map(abs).max() ?? 0)
            let worst = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "\(w)×\(h) r \(r) bands of \(bandRows), \(channels) channels: \(worst) of \(scale)")
        }
    }

    /// Guided upsampling from the 8-bit photo equals the float-guide version up to the rounding
    /// of the area average (integer sums here, ~1e-7 relative): 1e-3 abs, because on a
    /// random-noise guide the coefficients `a = Σ⁻¹cov` amplify that rounding by up to ~1/ε
    /// (on the 12 MP benchmark photo 37 of 12 M mask pixels differ, by 1 level); radius 0 is
    /// bit-identical.
    @Test(arguments: sizes.indices) func eightBitGuideMatchesFloatGuide(_ i: Int) throws {
        let (w, h, W, H) = Self.sizes[i]
        for layout in [PixelLayout.rgb, .gray, .rgba] {
            let guide = Self.photo(W, H, layout: layout, seed: UInt64(10 + i))
            let alpha = randomImage(w, h, layout: .gray, seed: UInt64(20 + i))
            for radius in [0, 1, 2] {
                let banded = try Refiner().upsampled(alpha, guide: guide, radius: radius)
                let whole = referenceUpsampled(alpha, guide: guide.converted(to: FloatImage.self), radius: radius)
                let error = maxAbsDifference(doubles(banded), doubles(whole))
                #expect(error <= (radius == 0 ? 0 : 1e-3), "\(w)×\(h)→\(W)×\(H) \(layout) r=\(radius): \(error)")
            }
        }
    }

    /// The result does not depend on the thread count.
    @Test func threadCountIndependent() throws {
        let guide = Self.photo(301, 203, layout: .rgb, seed: 5)
        let alpha = randomImage(150, 101, layout: .gray, seed: 6)
        let refiner = Refiner()
        #expect(try refiner.upsampled(alpha, guide: guide, pool: ThreadPool(threadCount: 1))
            == refiner.upsampled(alpha, guide: guide, pool: ThreadPool(threadCount: 2)))
    }

    /// The banded foreground correction equals the whole-image formula (bilinear resize of the
    /// correction, add, round, clamp): at most 1 level where a sum lands on a rounding boundary.
    @Test(arguments: sizes.indices) func correctedForegroundMatchesWholeImage(_ i: Int) throws {
        let (w, h, W, H) = Self.sizes[i]
        let original = Self.photo(W, H, layout: .rgb, seed: UInt64(30 + i))
        let working = original.resized(width: w, height: h, filter: .area).converted(to: FloatImage.self)
        let foreground = randomImage(w, h, layout: .rgb, seed: UInt64(40 + i))
        let banded = try Refiner.correctedForeground(original: original, working: working, foreground: foreground)
        var correction = foreground
        let base = working.packedComponents
        correction.withUnsafeMutableBufferPointer { f, _ in
            for k in 0..<base.count { f[k] = (f[k] - base[k]) * 255 }
        }
        let full = correction.resized(width: W, height: H, filter: .bilinear).packedComponents
        let photo = original.packedComponents, ours = banded.packedComponents
        var worst = 0
        for k in 0..<photo.count {
            let v = Float(photo[k]) + full[k] + 0.5
            let expected = v <= 0 ? 0 : (v >= 255 ? 255 : Int(v))
            worst = max(worst, abs(expected - Int(ours[k])))
        }
        #expect(worst <= 1, "\(w)×\(h)→\(W)×\(H): \(worst)")
    }

    /// The correction reads the photo row by row into a new picture: a view of a larger photo
    /// (rows not contiguous) gives the same bytes as its packed copy, and the photo is unchanged.
    @Test func correctedForegroundFromAViewMatchesItsCopy() throws {
        let big = Self.photo(120, 90, layout: .rgb, seed: 77)
        let view = big.cropped(to: ImageRect(x: 7, y: 5, width: 101, height: 67))
        let copy = try Image(width: 101, height: 67, layout: .rgb, components: view.packedComponents)
        let working = copy.resized(width: 40, height: 27, filter: .area).converted(to: FloatImage.self)
        let foreground = randomImage(40, 27, layout: .rgb, seed: 78)
        let fromView = try Refiner.correctedForeground(original: view, working: working, foreground: foreground)
        let fromCopy = try Refiner.correctedForeground(original: copy, working: working, foreground: foreground)
        #expect(fromView == fromCopy)
        #expect(view == copy && big == Self.photo(120, 90, layout: .rgb, seed: 77))
    }

    /// The vectorised correction row against the scalar rule it replaced, on random
    /// corrections, corrections that land within 1e-5 of a rounding boundary, large ones that
    /// clamp, both tap counts, and lengths that are not multiples of the vector width.
    @Test func correctRowMatchesScalarRule() {
        var rng = SeededGenerator(seed: 2026)
        let n = 20_011
        let photo = rng.bytes(n)
        var top = rng.floats(n, in: -300...300), bottom = rng.floats(n, in: -300...300)
        for i in stride(from: 0, to: n, by: 3) {
            // p + c + 0.5 within a few ulps of an integer.
            top[i] = Float(Int(rng.next() % 521) - 260) - 0.5 + Float(Int(rng.next() % 21) - 10) * 1e-6
            bottom[i] = top[i]
        }
        for (w0, w1) in [(Float(1), Float(0)), (0.25, 0.75), (0.6180339, 0.3819661), (0, 1)] {
            for count in [n, n - 1, 15, 16, 17, 1] {
                var ours = [UInt8](repeating: 9, count: count)
                Refiner.correctRow(photo, top, bottom, w0: w0, w1: w1, count: count, into: &ours)
                let expected = (0..<count).map { i -> UInt8 in
                    var c: Float = 0
                    c += w0 * top[i]
                    if w1 != 0 { c += w1 * bottom[i] }
                    let v = Float(photo[i]) + c + 0.5
                    return v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
                }
                #expect(ours == expected, "w \(w0), \(w1), \(count) values")
            }
        }
    }
}
