import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

/// Box, guided, min/max filters against the naive references and their properties.
///
/// Tolerance: 1e-5 absolute for box means (Double accumulation, Float output: ~1e-7 expected);
/// 1e-4 for the guided filter (Float box means of products, then Double coefficient maths).
@Suite struct FilterTests {
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 5, 1), (16, 16, 3), (17, 13, 4), (31, 8, 10), (5, 40, 2)]

    @Test(arguments: shapes)
    func boxFilterMatchesNaive(_ shape: (Int, Int, Int)) throws {
        let (w, h, r) = shape
        let image = randomImage(w, h, layout: .gray, seed: UInt64(w * 1000 + h * 10 + r))
        let fast = try image.boxFiltered(radius: r)
        let naive = ReferenceRefine.boxMean(doubles(image), width: w, height: h, radius: r)
        #expect(maxAbsDifference(doubles(fast), naive) <= 1e-5, "shape \(shape)")
    }

    @Test func boxFilterOfConstantIsConstantAndZeroRadiusIsIdentity() throws {
        let c = FloatImage(width: 23, height: 11, layout: .rgb, repeating: 0.37)
        for value in allValues(try c.boxFiltered(radius: 6)) { #expect(abs(value - 0.37) < 1e-6) }
        let image = randomImage(9, 9, layout: .rgb, seed: 3)
        #expect(try image.boxFiltered(radius: 0) == image)
        #expect(throws: ImageError.self) { try image.boxFiltered(radius: -1) }
    }

    @Test(arguments: [(12, 9, 2, Float(1e-2)), (20, 17, 4, Float(1e-3)), (8, 30, 1, Float(1e-4))])
    func guidedFilterGrayGuideMatchesNaive(_ c: (Int, Int, Int, Float)) throws {
        let (w, h, r, eps) = c
        let p = randomImage(w, h, layout: .gray, seed: 11), guide = randomImage(w, h, layout: .gray, seed: 12)
        let fast = try GuidedFilter(radius: r, epsilon: eps).filtered(p, guide: guide)
        let naive = ReferenceRefine.guidedFilter(
            doubles(p), guide: [doubles(guide)], width: w, height: h, radius: r, epsilon: Double(eps))
        #expect(maxAbsDifference(doubles(fast), naive) <= 1e-4, "case \(c)")
    }

    @Test(arguments: [(12, 9, 2, Float(1e-2)), (21, 16, 3, Float(1e-3)), (9, 9, 1, Float(1e-4))])
    func guidedFilterColourGuideMatchesNaive(_ c: (Int, Int, Int, Float)) throws {
        let (w, h, r, eps) = c
        let p = randomImage(w, h, layout: .gray, seed: 21), guide = randomImage(w, h, layout: .rgb, seed: 22)
        let fast = try GuidedFilter(radius: r, epsilon: eps).filtered(p, guide: guide)
        let naive = ReferenceRefine.guidedFilter(
            doubles(p), guide: (0..<3).map { doubles(guide, channel: $0) }, width: w, height: h,
            radius: r, epsilon: Double(eps))
        #expect(maxAbsDifference(doubles(fast), naive) <= 1e-4, "case \(c)")
    }

    @Test func guidedFilterPropertiesAndErrors() throws {
        let guide = randomImage(15, 10, layout: .rgb, seed: 5)
        let constant = FloatImage(width: 15, height: 10, layout: .gray, repeating: 0.6)
        for v in allValues(try GuidedFilter(radius: 3, epsilon: 1e-3).filtered(constant, guide: guide)) {
            #expect(abs(v - 0.6) < 1e-4)
        }
        let p = randomImage(15, 10, layout: .gray, seed: 6)
        #expect(try GuidedFilter(radius: 0, epsilon: 1e-3).filtered(p, guide: guide) == p)
        #expect(throws: ImageError.self) { try GuidedFilter(radius: 2, epsilon: 0).filtered(p, guide: guide) }
        let small = randomImage(5, 5, layout: .rgb, seed: 7)
        #expect(throws: ImageError.self) { try GuidedFilter(radius: 2, epsilon: 1e-3).filtered(p, guide: small) }
    }

    @Test(arguments: [(1, 1, 1), (9, 7, 1), (19, 23, 3), (40, 12, 5), (6, 6, 9)])
    func minMaxMatchNaive(_ shape: (Int, Int, Int)) throws {
        let (w, h, r) = shape
        let image = randomImage(w, h, layout: .gray, seed: 99)
        let eroded = try image.eroded(radius: r), dilated = try image.dilated(radius: r)
        for y in 0..<h {
            for x in 0..<w {
                var lo: Float = .infinity, hi: Float = -.infinity
                for v in max(0, y - r)...min(h - 1, y + r) {
                    for u in max(0, x - r)...min(w - 1, x + r) {
                        lo = min(lo, image[u, v, 0]); hi = max(hi, image[u, v, 0])
                    }
                }
                #expect(eroded[x, y, 0] == lo && dilated[x, y, 0] == hi, "shape \(shape) at \(x),\(y)")
                #expect(eroded[x, y, 0] <= image[x, y, 0] && image[x, y, 0] <= dilated[x, y, 0])
            }
        }
    }
}
