import MattingThreads
import Foundation
import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

@Suite struct TrimapTests {
    @Test func userTrimapConventionAndCounts() throws {
        let values: [UInt8] = [0, 255, 128, 1, 254, 0]
        let trimap = Trimap(try Image(width: 3, height: 2, layout: .gray, components: values))
        #expect(trimap.backgroundCount == 2 && trimap.foregroundCount == 1 && trimap.unknownCount == 3)
        #expect(trimap.knownValues.map { $0 ?? -1 } == [0, 1, -1, -1, -1, 0])
    }

    @Test func bandAroundTheContourIsProportionalToSize() throws {
        var options = Trimap.Options()
        #expect(options.bandRadius(width: 1200, height: 1800) == 12)
        #expect(options.bandRadius(width: 100, height: 50) == 2)
        options.bandFraction = 0.05
        // A hard disk of radius 30 in 120×100: band radius 5 (0.05 × 100).
        let alpha = grayImage(120, 100) { x, y in
            let dx = Float(x - 60), dy = Float(y - 50)
            return dx * dx + dy * dy <= 900 ? 1 : 0
        }
        let trimap = try Trimap(coarseAlpha: alpha, options: options)
        let t = trimap.image
        for y in 0..<100 {
            for x in 0..<120 {
                // Square structuring element: foreground iff the 11×11 square fits in the disk.
                let fits = (-5...5).allSatisfy { v in (-5...5).allSatisfy { u in alpha[min(max(x + u, 0), 119), min(max(y + v, 0), 99), 0] == 1 } }
                let touches = (-5...5).contains { v in (-5...5).contains { u in
                    let xx = x + u, yy = y + v
                    return xx >= 0 && xx < 120 && yy >= 0 && yy < 100 && alpha[xx, yy, 0] == 1
                } }
                let expected: UInt8 = fits ? 255 : (touches ? Trimap.unknownValue : 0)
                #expect(t[x, y, 0] == expected, "at \(x),\(y)")
            }
        }
        #expect(trimap.unknownCount + trimap.foregroundCount + trimap.backgroundCount == 12_000)
    }

    /// The counting trimap against direct window scans (`ReferenceRefine.trimap`), on soft
    /// random blobs: odd shapes, radii from 1 to past the picture's size, 1–3 threads.
    @Test(arguments: [(1, 1, 1), (7, 5, 2), (37, 23, 3), (64, 65, 5), (31, 40, 12), (9, 13, 20)], [1, 2, 3])
    func countingTrimapEqualsWindowScans(_ shape: (Int, Int, Int), threads: Int) {
        let (w, h, r) = shape
        var rng = SeededGenerator(seed: UInt64(w * 1000 + h))
        let centres = (0..<4).map { _ in (Float.random(in: 0..<Float(w), using: &rng), Float.random(in: 0..<Float(h), using: &rng)) }
        let size = Float(max(w, h)) / 4
        let alpha = (0..<w * h).map { i -> Float in
            let x = Float(i % w), y = Float(i / w)
            var d = Float.infinity
            for (cx, cy) in centres {
                let dx = cx - x, dy = cy - y
                d = min(d, (dx * dx + dy * dy).squareRoot())
            }
            return min(max((size - d) / 3 + 0.5, 0), 1)
        }
        let options = Trimap.Options()
        let fast = Trimap.classify(alpha, width: w, height: h, radius: r, options: options, pool: ThreadPool(threadCount: threads))
        let slow = ReferenceRefine.trimap(alpha, width: w, height: h, radius: r, fg: options.foregroundThreshold, bg: options.backgroundThreshold)
        #expect(fast == slow, "\(w)×\(h), r \(r), \(threads) threads, seed \(w * 1000 + h)")
    }

    @Test func intermediateCoarseAlphaIsUnknown() throws {
        // A faint plateau (0.3) far from the contour and a 0.97 plateau deep inside.
        let alpha = grayImage(80, 80) { x, _ in x < 20 ? 0.3 : (x < 40 ? 0 : (x < 60 ? 1 : 0.9)) }
        let trimap = try Trimap(coarseAlpha: alpha)
        #expect(trimap.image[5, 40, 0] == Trimap.unknownValue)   // 0.3: unknown
        #expect(trimap.image[30, 40, 0] == 0)                    // 0 far from contour
        #expect(trimap.image[50, 40, 0] == 255)                  // 1 far from contour
        #expect(trimap.image[75, 40, 0] == Trimap.unknownValue)  // 0.9 < 0.95
        #expect(throws: ImageError.self) { try Trimap(coarseAlpha: FloatImage(width: 4, height: 4, layout: .rgb)) }
    }

    /// The coarse alpha is read in place, rows `rowStride` apart: a cropped view gives the
    /// trimap of its packed copy (with and without a bounded reach).
    @Test func croppedCoarseAlphaMatchesItsPackedCopy() throws {
        var rng = SeededGenerator(seed: 12)
        let alpha = grayImage(97, 83) { x, y in
            let d = Float((x - 50) * (x - 50) + (y - 40) * (y - 40)).squareRoot()
            return min(max((30 - d) / 8 + Float.random(in: -0.2...0.2, using: &rng), 0), 1)
        }
        let rect = ImageRect(x: 9, y: 3, width: 80, height: 71)
        let cropped = alpha.cropped(to: rect)
        let packed = try FloatImage(width: rect.width, height: rect.height, layout: .gray, components: cropped.packedComponents)
        var bounded = Trimap.Options()
        bounded.intermediateReach = 2
        for options in [Trimap.Options(), bounded] {
            let a = try Trimap(coarseAlpha: cropped, options: options), b = try Trimap(coarseAlpha: packed, options: options)
            #expect(a == b)
            #expect(a.unknownCount > 0 && a.foregroundCount > 0 && a.backgroundCount > 0)
        }
    }

    /// `intermediateReach`: intermediate alpha farther than reach × r from the 0.5 contour is
    /// decided by the mask; nearer, it stays unknown; the band itself is unchanged.
    @Test func boundedReachDecidesFarIntermediateAlphaByTheMask() throws {
        // 200×40, band radius 2: a solid block (x 100…139) with a 0.7 plateau (x 40…99) to its
        // left and a 0.3 plateau (x 140…199) to its right; 0 for x < 40. The 0.5 contours are at
        // x = 40 (0 | 0.7) and x = 140 (1 | 0.3).
        let alpha = grayImage(200, 40) { x, _ in x < 40 ? 0 : (x < 100 ? 0.7 : (x < 140 ? 1 : 0.3)) }
        var options = Trimap.Options()
        options.bandFraction = 0.05  // r = 2 at a 40 px short side
        let unbounded = try Trimap(coarseAlpha: alpha, options: options)
        options.intermediateReach = 5  // 10 px
        let bounded = try Trimap(coarseAlpha: alpha, options: options)
        let u = Trimap.unknownValue
        for x in [45, 70, 99, 150, 160, 199] { #expect(unbounded.image[x, 20, 0] == u, "unbounded at x \(x)") }
        // Within 10 px of a contour: unknown, as before.
        for x in [41, 49, 141, 149] { #expect(bounded.image[x, 20, 0] == u, "bounded, near, at x \(x)") }
        // Farther: the mask decides (0.7 → foreground, 0.3 → background).
        for x in [51, 70, 99] { #expect(bounded.image[x, 20, 0] == 255, "bounded, far 0.7, at x \(x)") }
        for x in [151, 170, 199] { #expect(bounded.image[x, 20, 0] == 0, "bounded, far 0.3, at x \(x)") }
        // Pixels the band already decided are the same either way.
        for x in [0, 20, 110, 120] { #expect(bounded.image[x, 20, 0] == unbounded.image[x, 20, 0], "at x \(x)") }
        #expect(bounded.unknownCount < unbounded.unknownCount)
        // Reach 1: only the band itself stays unknown; a huge reach is the same as none far away.
        options.intermediateReach = 1
        let bandOnly = try Trimap(coarseAlpha: alpha, options: options)
        for x in [45, 70, 150, 199] { #expect(bandOnly.image[x, 20, 0] != u, "reach 1 at x \(x)") }
        for x in [39, 41, 139, 141] { #expect(bandOnly.image[x, 20, 0] == u, "reach 1, band, at x \(x)") }
        options.intermediateReach = Int.max
        #expect(try Trimap(coarseAlpha: alpha, options: options).image == unbounded.image)
        for bad in [0, -3] {
            options.intermediateReach = bad
            #expect(throws: ImageError.self) { try Trimap(coarseAlpha: alpha, options: options) }
        }
    }
}

/// The solver on composites with known alpha. Bounds are mean absolute error over the
/// unknown pixels (SAD / unknown count), set with about 2× margin over what the solver reaches.
@Suite struct SyntheticMattingTests {
    /// Composites `alpha` of colour `f` over a textured background of colour `b`.
    static func composite(_ alpha: [Float], _ w: Int, _ h: Int, f: [Float], b: [Float], seed: UInt64) -> FloatImage {
        var rng = SeededGenerator(seed: seed)
        return FloatImage(width: w, height: h, layout: .rgb) { x, y, c in
            let a = alpha[y * w + x]
            let wave: Float = 0.08 * Float(sin(Double(x) * 0.3 + Double(c)) * cos(Double(y) * 0.2))
            let noise: Float = Float.random(in: -0.01...0.01, using: &rng)
            let background: Float = b[c] + wave + noise
            let foreground: Float = f[c] + 0.03 * Float(sin(Double(y) * 0.15 + Double(c)))
            return a * foreground + (1 - a) * background
        }
    }

    static func meanError(_ alpha: FloatImage, _ truth: [Float], _ trimap: Trimap) -> Double {
        let known = trimap.knownValues, values = alpha.packedComponents
        var sum = 0.0, n = 0
        for i in values.indices where known[i] == nil { sum += Double(abs(values[i] - truth[i])); n += 1 }
        return sum / Double(max(n, 1))
    }

    @Test func thinStrandsAreRecovered() throws {
        let w = 96, h = 80
        var alpha = [Float](repeating: 0, count: w * h)
        var trimap = [UInt8](repeating: 0, count: w * h)
        // A solid block at the bottom with 1–2 px strands rising from it.
        for y in 0..<h { for x in 0..<w {
            if y >= 60 { alpha[y * w + x] = 1 }
        } }
        for (k, x0) in stride(from: 8, to: 88, by: 10).enumerated() {
            let width = k % 2 == 0 ? 1 : 2
            for y in 20..<60 {
                let x = x0 + (y / 8) % 3
                for dx in 0..<width { alpha[y * w + x + dx] = 1 }
                // An anti-aliased half-covered neighbour on one side.
                alpha[y * w + x + width] = max(alpha[y * w + x + width], 0.5)
            }
        }
        for y in 0..<h { for x in 0..<w {
            trimap[y * w + x] = y >= 66 ? 255 : (y >= 16 ? 128 : 0)
        } }
        let image = Self.composite(alpha, w, h, f: [0.85, 0.7, 0.3], b: [0.15, 0.35, 0.75], seed: 1)
        let t = Trimap(try Image(width: w, height: h, layout: .gray, components: trimap))
        let result = try ClosedFormMatting().alpha(for: image, trimap: t)
        let error = Self.meanError(result, alpha, t)
        #expect(error <= 0.05, "mean |α − truth| over unknown \(error)")
        // Every strand survives: its pixels stay mostly opaque.
        var strandMean = 0.0, count = 0
        for (i, a) in alpha.enumerated() where a == 1 && i / w < 60 { strandMean += Double(result.packedComponents[i]); count += 1 }
        #expect(strandMean / Double(count) >= 0.8, "strand pixels average \(strandMean / Double(count))")
    }

    @Test func semiTransparentGradientIsRecovered() throws {
        let w = 90, h = 40
        let alpha = (0..<w * h).map { i -> Float in min(max(Float(i % w - 25) / 40, 0), 1) }
        let trimap = (0..<w * h).map { i -> UInt8 in i % w < 20 ? 0 : (i % w >= 70 ? 255 : 128) }
        let image = Self.composite(alpha, w, h, f: [0.9, 0.5, 0.2], b: [0.1, 0.3, 0.8], seed: 2)
        let t = Trimap(try Image(width: w, height: h, layout: .gray, components: trimap))
        // Coarse to fine matters here: a single level stopped at 1e-3 leaves ~0.13 error in
        // this smooth ramp (the slow modes of L); the pyramid solves them on coarse grids.
        let result = try ClosedFormMatting().alpha(for: image, trimap: t)
        let error = Self.meanError(result, alpha, t)
        #expect(error <= 0.04, "mean |α − truth| over unknown \(error)")
    }
}

@Suite struct RefinerTests {
    /// A blurred, shrunken disk mask (what an upsampled 256×256 segmentation looks like)
    /// refines towards the true soft disk.
    @Test func coarseMaskIsRefinedTowardsTheTruth() throws {
        let w = 120, h = 100
        let truth = (0..<w * h).map { i -> Float in
            let dx = Float(i % w - 60), dy = Float(i / w - 50)
            return min(max((30 - (dx * dx + dy * dy).squareRoot()) / 2 + 0.5, 0), 1)
        }
        let coarse = try FloatImage(width: w, height: h, layout: .gray, components: truth).eroded(radius: 2).boxFiltered(radius: 3)
        let image = SyntheticMattingTests.composite(truth, w, h, f: [0.8, 0.3, 0.3], b: [0.2, 0.6, 0.4], seed: 3)
        let refined = try Refiner().matte(image, coarseAlpha: coarse)
        let before = zip(coarse.packedComponents, truth).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        let after = zip(refined.packedComponents, truth).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        #expect(after <= 0.5 * before, "SAD coarse \(before), refined \(after)")
        #expect(throws: ImageError.self) { try Refiner().matte(image, coarseAlpha: FloatImage(width: 3, height: 3, layout: .gray)) }
    }
}

@Suite struct GuidedUpsamplingTests {
    /// A matte solved at half size, upsampled with the photo as guide, is much closer to the
    /// true full-size alpha than plain bilinear upsampling (SAD 8.9 vs 85 when written).
    @Test func guidedUpsamplingSharpensEdges() throws {
        let w = 128, h = 96
        let truth = (0..<w * h).map { i -> Float in (i % w) * 3 + (i / w) * 2 >= 250 ? 1 : 0 }
        let photo = SyntheticMattingTests.composite(truth, w, h, f: [0.9, 0.8, 0.2], b: [0.1, 0.2, 0.7], seed: 4)
        let half = grayImage(w / 2, h / 2) { x, y in
            (truth[2 * y * w + 2 * x] + truth[2 * y * w + 2 * x + 1] + truth[(2 * y + 1) * w + 2 * x] + truth[(2 * y + 1) * w + 2 * x + 1]) / 4
        }
        let guide = photo.converted(to: Image.self)
        let guided = try Refiner().upsampled(half, guide: guide)
        let bilinear = try Refiner().upsampled(half, guide: guide, radius: 0, epsilon: 1e-4)
        let sad = { (m: FloatImage) in zip(m.packedComponents, truth).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } }
        #expect(guided.width == w && guided.height == h)
        #expect(allValues(guided).allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(sad(guided) < 0.25 * sad(bilinear), "SAD guided \(sad(guided)), bilinear \(sad(bilinear))")
    }
}
