import Foundation
import MattingImage
import MattingTestSupport
import MattingThreads
import Testing
@testable import MattingRefine

/// The hair-aware band (``HairBand``): narrow on smooth edges, wide on soft or strand-like
/// ones, never flipping a known pixel, the same for any thread count.
@Suite struct HairBandTests {
    static let size = 200
    /// Band radius 5 at 200 px; the hair band with explicit thresholds (not the defaults, which
    /// may be retuned): soft zone 0.8 band radii, texture 0.03, gate 0.5.
    static func options(hair: Bool) -> Trimap.Options {
        var options = Trimap.Options()
        options.bandFraction = 0.025
        if hair {
            var band = HairBand()
            band.widthFactor = 3
            band.partialWidth = 0.8
            band.texture = 0.03
            band.textureGate = 0.5
            options.hairBand = band
        }
        return options
    }

    /// A coarse alpha with a horizontal contour at row 100 (foreground below), linear over
    /// `ramp` rows.
    static func edge(ramp: Int) -> FloatImage {
        grayImage(size, size) { _, y in
            min(max((Float(y) - 100) / Float(ramp) + 0.5, 0), 1)
        }
    }

    /// RGB photo: foreground below row 100. `strands`: the foreground's rows 100…140 carry
    /// one-pixel vertical strands (bright/dark every other column, as fine hair does); else the
    /// foreground is flat. The background is flat.
    static func photo(strands: Bool) -> FloatImage {
        var image = FloatImage(width: size, height: size, layout: .rgb)
        for y in 0..<size {
            for x in 0..<size {
                let fg = y >= 100
                var value: [Float] = fg ? [0.6, 0.45, 0.3] : [0.2, 0.3, 0.6]
                if fg && strands && y < 140 {
                    let s: Float = x % 2 == 0 ? 0.25 : -0.25
                    value = value.map { $0 + s }
                }
                for c in 0..<3 { image[x, y, c] = value[c] }
            }
        }
        return image
    }

    static func unknownRows(_ trimap: Trimap, column x: Int) -> [Int] {
        (0..<size).filter { trimap.image[x, $0, 0] == Trimap.unknownValue }
    }

    @Test func smoothEdgeStaysNarrow() throws {
        // A 4-row ramp (soft zone 3 rows, 0.6 band radii: above the texture gate, below partialWidth)
        // between flat colours: no cue fires, the trimap is the narrow one exactly.
        let alpha = Self.edge(ramp: 4)
        let narrow = try Trimap(coarseAlpha: alpha, options: Self.options(hair: false))
        let hair = try Trimap(coarseAlpha: alpha, guide: Self.photo(strands: false), options: Self.options(hair: true))
        #expect(hair == narrow)
        #expect(Self.unknownRows(narrow, column: 100) == Array(95...104))
    }

    @Test func strandTextureWidensTheBand() throws {
        // The same contour, with fine strands on the foreground side: the band is three times
        // as wide (radius 15), all along the edge.
        let alpha = Self.edge(ramp: 4)
        let narrow = try Trimap(coarseAlpha: alpha, options: Self.options(hair: false))
        let hair = try Trimap(coarseAlpha: alpha, guide: Self.photo(strands: true), options: Self.options(hair: true))
        for x in [0, 57, 100, 199] {
            #expect(Self.unknownRows(hair, column: x) == Array(85...114), "column \(x)")
        }
        #expect(hair.unknownCount > 2 * narrow.unknownCount)
        // Without the photo the texture cue cannot fire: narrow again.
        #expect(try Trimap(coarseAlpha: alpha, guide: nil, options: Self.options(hair: true)) == narrow)
        // And with the texture cue off.
        var off = Self.options(hair: true)
        off.hairBand?.texture = .infinity
        #expect(try Trimap(coarseAlpha: alpha, guide: Self.photo(strands: true), options: off) == narrow)
    }

    @Test func broadPartialAlphaWidensTheBandWithoutAPhoto() throws {
        // A 12-row ramp: soft zone 9 rows, 1.8 band radii, above partialWidth (0.8).
        let alpha = Self.edge(ramp: 12)
        let narrow = try Trimap(coarseAlpha: alpha, options: Self.options(hair: false))
        let hair = try Trimap(coarseAlpha: alpha, options: Self.options(hair: true))
        #expect(Self.unknownRows(narrow, column: 100) == Array(95...105))
        #expect(Self.unknownRows(hair, column: 100) == Array(85...114))
        // A higher threshold keeps it narrow.
        var strict = Self.options(hair: true)
        strict.hairBand?.partialWidth = 2.5
        #expect(try Trimap(coarseAlpha: alpha, options: strict) == narrow)
    }

    @Test func regionsWidenOnlyInsideThemselves() throws {
        let alpha = Self.edge(ramp: 4)
        let region = ImageRect(x: 40, y: 60, width: 30, height: 50)
        let hair = try Trimap(coarseAlpha: alpha, guide: Self.photo(strands: false), hairRegions: [region], options: Self.options(hair: true))
        // Inside the region's columns: wide band, cut at the region's rows (60…109).
        #expect(Self.unknownRows(hair, column: 50) == Array(85...109))
        #expect(Self.unknownRows(hair, column: 39) == Array(95...104))
        #expect(Self.unknownRows(hair, column: 70) == Array(95...104))
        // A region off the picture changes nothing.
        let outside = ImageRect(x: -50, y: -50, width: 20, height: 20)
        let narrow = try Trimap(coarseAlpha: alpha, options: Self.options(hair: false))
        #expect(try Trimap(coarseAlpha: alpha, guide: nil, hairRegions: [outside], options: Self.options(hair: true)) == narrow)
    }

    /// On soft random blobs over a random photo, with a region: every pixel is the narrow
    /// trimap's value or unknown, every narrow unknown stays unknown, nothing is unknown
    /// outside the wide band, and 1, 2 and 3 threads give the same trimap.
    @Test(arguments: [UInt64(1), 2, 3])
    func knownPixelsNeverFlipAndThreadsAgree(seed: UInt64) throws {
        let w = 173, h = 131
        var rng = SeededGenerator(seed: seed)
        let centres = (0..<5).map { _ in (Float.random(in: 0..<Float(w), using: &rng), Float.random(in: 0..<Float(h), using: &rng)) }
        let softness = (0..<5).map { _ in Float.random(in: 0.5..<12, using: &rng) }
        let alpha = grayImage(w, h) { x, y in
            var best: Float = 0
            for (i, (cx, cy)) in centres.enumerated() {
                let d = ((cx - Float(x)) * (cx - Float(x)) + (cy - Float(y)) * (cy - Float(y))).squareRoot()
                best = max(best, min(max((25 - d) / softness[i] + 0.5, 0), 1))
            }
            return best
        }
        let guide = randomImage(w, h, layout: .rgb, seed: seed &+ 100)
        var options = Self.options(hair: false)
        options.bandFraction = 0.03
        let r = options.bandRadius(width: w, height: h)
        let narrow = try Trimap(coarseAlpha: alpha, options: options)
        options.hairBand = Self.options(hair: true).hairBand
        options.hairBand?.partialWidth = 1.2
        let regions = [ImageRect(x: 20, y: 10, width: 60, height: 40)]
        let hair = try Trimap(coarseAlpha: alpha, guide: guide, hairRegions: regions, options: options)
        let wide = Trimap.classify(
            allValues(alpha), width: w, height: h, radius: 3 * r, options: options)
        var widened = 0
        for y in 0..<h {
            for x in 0..<w {
                let n = narrow.image[x, y, 0], v = hair.image[x, y, 0]
                #expect(v == n || v == Trimap.unknownValue, "\(x),\(y): narrow \(n), hair \(v)")
                if v != n {
                    widened += 1
                    #expect(wide[y * w + x] == Trimap.unknownValue, "\(x),\(y) outside the wide band")
                }
            }
        }
        #expect(widened > 0, "seed \(seed): some pixels widen (the random photo is textured)")
        for threads in [2, 3] {
            let again = try Trimap(
                coarseAlpha: alpha, guide: guide, hairRegions: regions, options: options, pool: ThreadPool(threadCount: threads))
            #expect(again == hair, "\(threads) threads")
        }
    }

    @Test func settingsAreCheckedAndOlderOptionsDecode() throws {
        let alpha = Self.edge(ramp: 4)
        var options = Self.options(hair: true)
        options.hairBand?.widthFactor = 0
        #expect(throws: ImageError.self) { try Trimap(coarseAlpha: alpha, options: options) }
        options.hairBand?.widthFactor = 3
        options.hairBand?.textureGate = 2
        #expect(throws: ImageError.self) { try Trimap(coarseAlpha: alpha, options: options) }
        #expect(throws: ImageError.self) {
            try Trimap(coarseAlpha: alpha, guide: FloatImage(width: 3, height: 3, layout: .rgb), options: Self.options(hair: true))
        }
        // Options stored before the hair band existed decode with it off; with it, it round-trips.
        let old = #"{"bandFraction":0.01,"minimumBandRadius":2,"foregroundThreshold":0.95,"backgroundThreshold":0.05}"#
        let decoded = try JSONDecoder().decode(Trimap.Options.self, from: Data(old.utf8))
        #expect(decoded.hairBand == nil && decoded == Trimap.Options())
        let on = Self.options(hair: true)
        #expect(try JSONDecoder().decode(Trimap.Options.self, from: JSONEncoder().encode(on)) == on)
    }
}
