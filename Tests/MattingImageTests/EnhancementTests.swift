import Testing
@testable import MattingImage
import MattingTestSupport

@Suite("Colour conversion, CLAHE and sharpen against OpenCV")
struct EnhancementTests {
    /// Our fixed-point 8-bit RGB→Lab reproduces OpenCV's: L exactly (it feeds CLAHE);
    /// a and b within one level, differing on a few hundredths of a percent of colours
    /// because OpenCV fills its cube-root table with its own software cbrt.
    @Test func rgbToLab8MatchesOpenCV() throws {
        for (sourceName, expectedName) in [("src", "lab8"), ("lab8_sample_rgb", "lab8_sample")] {
            let source = try PreprocessFixture.image(sourceName)
            let expected = try PreprocessFixture.image(expectedName)
            var ours = Image(width: source.width, height: source.height, layout: .rgb)
            OpenCVLab8.withTables { gamma, cubeRoot, c in
                for y in 0..<source.height {
                    for x in 0..<source.width {
                        let lab = OpenCVLab8.lab(source[x, y, 0], source[x, y, 1], source[x, y, 2],
                                                 gamma: gamma, cubeRoot: cubeRoot, c: c)
                        ours[x, y, 0] = lab.l
                        ours[x, y, 1] = lab.a
                        ours[x, y, 2] = lab.b
                    }
                }
            }
            #expect(ours.channel(0) == expected.channel(0), "\(sourceName): lightness differs")
            let (worst, differing) = PreprocessFixture.difference(ours, expected)
            #expect(worst <= 1 && differing * 1000 < expected.packedComponents.count,
                    "\(sourceName): max \(worst), \(differing) components differ")
        }
    }

    /// The float conversion is the CIE definition: it equals a float64 evaluation to float
    /// rounding. OpenCV's own float path interpolates a 3-D table in fixed point (errors up
    /// to 0.3 on this data), so against it we allow 0.35.
    @Test func rgbToLabFloatIsExactAndNearOpenCV() throws {
        let source = try PreprocessFixture.image("src")
        let ours = source.labComponents().packedComponents
        let exact = try PreprocessFixture.array("labf_exact").floats
        let opencv = try PreprocessFixture.array("labf").floats
        let worstExact = zip(ours, exact).map { abs($0 - $1) }.max() ?? .infinity
        let worstOpenCV = zip(ours, opencv).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worstExact < 2e-3, "max difference from float64 \(worstExact)")
        #expect(worstOpenCV < 0.35, "max difference from OpenCV \(worstOpenCV)")
    }

    @Test func labToRGBMatchesOpenCV() throws {
        let lab8 = try PreprocessFixture.array("lab8").floats
        let expected = try PreprocessFixture.image("lab8_to_rgb")
        var lab = FloatImage(width: expected.width, height: expected.height, layout: .rgb)
        lab.withUnsafeMutableBufferPointer { p, _ in
            for i in 0..<lab8.count {
                p[i] = i % 3 == 0 ? lab8[i] * 100 / 255 : lab8[i] - 128
            }
        }
        let rgb = Image(labComponents: lab)
        #expect(PreprocessFixture.difference(rgb, expected).max <= 1)
    }

    @Test(arguments: [
        ("gray_big", "clahe_gray_big", 2.0, 8, 8),
        ("gray_big", "clahe_gray_big_clip4_3x5", 4.0, 3, 5),
    ])
    func claheIsExact(sourceName: String, expectedName: String, clip: Double, tilesX: Int, tilesY: Int) throws {
        let source = try PreprocessFixture.image(sourceName)
        let expected = try PreprocessFixture.image(expectedName)
        let ours = try CLAHE(clipLimit: clip, tilesX: tilesX, tilesY: tilesY).applied(to: source)
        #expect(ours == expected, "differences: \(PreprocessFixture.difference(ours, expected))")
    }

    @Test func claheOnDivisibleSizeIsExact() throws {
        let source = try PreprocessFixture.image("gray_big").cropped(to: ImageRect(x: 0, y: 0, width: 128, height: 96))
        let expected = try PreprocessFixture.image("clahe_gray_128x96")
        #expect(try CLAHE().applied(to: source) == expected)
    }

    @Test func claheOnOpenCVLightnessIsExact() throws {
        let lab8 = try PreprocessFixture.image("lab8")
        let expected = try PreprocessFixture.image("clahe_L")
        #expect(try CLAHE().applied(to: lab8.channel(0)) == expected)
    }

    @Test func claheRejectsColourAndBadGrids() {
        #expect(throws: ImageError.self) { try CLAHE().applied(to: Image(width: 4, height: 4, layout: .rgb)) }
        #expect(throws: ImageError.self) { try CLAHE(tilesX: 0).applied(to: Image(width: 4, height: 4, layout: .gray)) }
    }

    @Test func sharpenIsExact() throws {
        let source = try PreprocessFixture.image("src")
        let expected = try PreprocessFixture.image("sharpen")
        let ours = try Enhancement(clahe: nil, sharpen: true).applied(to: source)
        #expect(ours == expected)
    }

    /// L and CLAHE are exactly OpenCV's; the way back (Lab→RGB) is float here and fixed
    /// point in OpenCV, within one level, and the sharpen kernel (centre 5, four −1 taps)
    /// turns a one-level difference into up to five (nine where neighbours differ in
    /// opposite directions). Measured on this image: max 10 levels, mean 0.28, 14 % of
    /// components not identical.
    @Test func enhanceMatchesOpenCVRecipe() throws {
        let source = try PreprocessFixture.image("big")
        let expected = try PreprocessFixture.image("enhance_big")
        let ours = try Enhancement().applied(to: source)
        #expect(ours.width == source.width && ours.height == source.height && ours.layout == .rgb)
        let total = expected.packedComponents.count
        let (worst, differing) = PreprocessFixture.difference(ours, expected)
        let meanAbs = Double(zip(ours.packedComponents, expected.packedComponents)
            .reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(total)
        #expect(meanAbs < 0.4, "mean abs difference \(meanAbs)")
        #expect(worst <= 12 && differing * 5 <= total, "max \(worst), \(differing) of \(total) differ")
    }

    @Test func enhanceKeepsAlphaAndSize() throws {
        let rgba = Image(width: 33, height: 17, layout: .rgba) { x, y, c in c == 3 ? UInt8(x * 7 % 256) : UInt8((x + y * 3) % 256) }
        let out = try Enhancement().applied(to: rgba)
        #expect(out.width == 33 && out.height == 17 && out.layout == .rgba)
        #expect(out.channel(3) == rgba.channel(3))
    }

    /// The threshold table's sRGB encoding against `powf`'s (the reference): every `Float`
    /// within 3000 units in the last place of each of the 255 steps (where an off-by-one
    /// `powf` could make the encoding step back), the curve's extremes, and seeded random
    /// values across and beyond 0…1.
    @Test func srgbThresholdsMatchTheReference() {
        SRGBEncoding8.withTables { t, starts in
            func encode(_ c: Float) -> UInt8 { SRGBEncoding8.encode(c, thresholds: t, cellStarts: starts) }
            var checked = 0, mismatches = 0
            for k in 1...255 {
                let bits = t[k].bitPattern
                for offset in -3000...3000 {
                    let c = Float(bitPattern: UInt32(Int(bits) + offset))
                    if encode(c) != SRGBEncoding8.reference(c) { mismatches += 1 }
                    checked += 1
                }
                // The step itself: k at the threshold, k − 1 just below it.
                #expect(SRGBEncoding8.reference(t[k]) == UInt8(k) && SRGBEncoding8.reference(t[k].nextDown) == UInt8(k - 1))
            }
            var generator = SeededGenerator(seed: 24)
            for _ in 0..<200_000 {
                let c = Float(Double(generator.next() % 1_000_001) / 1_000_000 * 1.4 - 0.2)
                if encode(c) != SRGBEncoding8.reference(c) { mismatches += 1 }
                checked += 1
            }
            let edges: [Float] = [-1, 0, .leastNonzeroMagnitude, 0.0031308, Float(0.0031308).nextUp, 1, 1.5, .greatestFiniteMagnitude]
            for c in edges {
                #expect(encode(c) == SRGBEncoding8.reference(c), "\(c)")
            }
            #expect(mismatches == 0, "\(mismatches) of \(checked)")
        }
    }

    /// Lab back to RGB through the threshold table: the bytes of `LabColor.rgb` rounded as
    /// before, on a grid of 8-bit Lab values (every L, every fifth a and b).
    @Test func labToRGBRowMatchesTheReference() {
        var lightness: [UInt8] = [], ab: [UInt8] = []
        for l in 0..<256 {
            for a in stride(from: 0, to: 256, by: 5) {
                for b in stride(from: 0, to: 256, by: 5) {
                    lightness.append(UInt8(l))
                    ab += [UInt8(a), UInt8(b)]
                }
            }
        }
        let width = lightness.count
        var row = [UInt8](repeating: 7, count: width * 4)
        Enhancement.rgb(lightness: lightness, ab: ab, width: width, into: &row, channels: 4)
        var mismatches = 0
        for x in 0..<width {
            let lab = LabColor(l: Float(lightness[x]) * (100 / 255), a: Float(ab[2 * x]) - 128, b: Float(ab[2 * x + 1]) - 128)
            let rgb = lab.rgb
            let expected = [rgb.red, rgb.green, rgb.blue].map { CLAHE.saturatedRound($0 * 255) }
            if Array(row[(x * 4)..<(x * 4 + 3)]) != expected { mismatches += 1 }
            if row[x * 4 + 3] != 7 { mismatches += 1 }  // alpha untouched
        }
        #expect(mismatches == 0, "\(mismatches) of \(width) colours")
    }
}
