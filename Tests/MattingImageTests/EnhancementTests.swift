import Testing
import MattingImage
import MattingTestSupport

@Suite("Colour conversion, CLAHE and sharpen against OpenCV")
struct EnhancementTests {
    /// OpenCV's 8-bit RGB↔Lab is fixed-point with table lookups; ours is float rounded
    /// once, so a component may differ by one level.
    @Test func rgbToLab8MatchesOpenCV() throws {
        let source = try PreprocessFixture.image("src")
        let expected = try PreprocessFixture.array("lab8")
        let lab = source.labComponents()
        var worst: Float = 0
        for (i, value) in expected.floats.enumerated() {
            let channel = i % 3, pixel = i / 3
            let v = lab[pixel % source.width, pixel / source.width, channel]
            let encoded = channel == 0 ? (v * 255 / 100).rounded() : (v + 128).rounded()
            worst = max(worst, abs(encoded - value))
        }
        #expect(worst <= 1, "max difference \(worst) levels")
    }

    /// The float path has no fixed point: agreement to 0.05 (L in 0…100, a/b ±128) covers
    /// OpenCV's float cube-root and gamma approximations.
    @Test func rgbToLabFloatMatchesOpenCV() throws {
        let source = try PreprocessFixture.image("src")
        let expected = try PreprocessFixture.array("labf").floats
        let ours = source.labComponents().packedComponents
        let worst = zip(ours, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 0.05, "max difference \(worst)")
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

    /// Lab rounding may move a lightness value by one level before CLAHE, which moves the
    /// output through the tile mapping: nearly all components agree exactly and the
    /// rest within a few levels.
    @Test func enhanceMatchesOpenCVRecipe() throws {
        let source = try PreprocessFixture.image("big")
        let expected = try PreprocessFixture.image("enhance_big")
        let ours = try Enhancement().applied(to: source)
        #expect(ours.width == source.width && ours.height == source.height && ours.layout == .rgb)
        let total = expected.packedComponents.count
        let (worst, differing) = PreprocessFixture.difference(ours, expected)
        let meanAbs = zip(ours.packedComponents, expected.packedComponents)
            .reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        #expect(Double(meanAbs) / Double(total) < 0.5, "mean abs difference too large")
        #expect(worst <= 12 && differing * 10 <= total, "max \(worst), \(differing) of \(total) differ")
    }

    @Test func enhanceKeepsAlphaAndSize() throws {
        let rgba = Image(width: 33, height: 17, layout: .rgba) { x, y, c in c == 3 ? UInt8(x * 7 % 256) : UInt8((x + y * 3) % 256) }
        let out = try Enhancement().applied(to: rgba)
        #expect(out.width == 33 && out.height == 17 && out.layout == .rgba)
        #expect(out.channel(3) == rgba.channel(3))
    }
}
