import Testing
import MattingImage
import MattingTestSupport

/// On float data OpenCV and Pillow compute what we compute, so results agree to float
/// rounding (1e-5 on 0…1). Their 8-bit paths are fixed point (OpenCV 11 fractional bits)
/// and Pillow rounds and clips to 8 bits between its horizontal and vertical passes, so on
/// 8-bit data a component may round the other way: within one level for the two-tap and
/// box filters; Lanczos overshoot clipped between passes makes larger, rare differences.
@Suite("Resampling")
struct ResamplingTests {
    @Test(arguments: [
        ("area_f_37x23", ResamplingFilter.area),
        ("linear_f_40x25", .bilinear),
        ("linear_f_150x90", .bilinear),
        ("lanczos_f_40x25", .lanczos3),
        ("lanczos_f_150x90", .lanczos3),
    ])
    func floatMatchesReference(expectedName: String, filter: ResamplingFilter) throws {
        let source = try PreprocessFixture.image("src").converted(to: FloatImage.self)
        let expected = try PreprocessFixture.array(expectedName)
        let ours = source.resized(width: expected.shape[1], height: expected.shape[0], filter: filter)
        let worst = zip(ours.packedComponents, expected.floats).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "\(filter) to \(expected.shape): max difference \(worst)")
    }

    @Test(arguments: [
        ("area_37x23", ResamplingFilter.area, 1),
        ("linear_40x25", .bilinear, 1),
        ("linear_150x90", .bilinear, 1),
        ("nearest_40x25", .nearest, 0),
        ("lanczos_40x25", .lanczos3, 1),
        ("lanczos_150x90", .lanczos3, 24),
    ])
    func eightBitMatchesReference(expectedName: String, filter: ResamplingFilter, tolerance: Int) throws {
        let source = try PreprocessFixture.image("src")
        let expected = try PreprocessFixture.image(expectedName)
        let ours = source.resized(width: expected.width, height: expected.height, filter: filter)
        let (worst, _) = PreprocessFixture.difference(ours, expected)
        let meanAbs = Double(zip(ours.packedComponents, expected.packedComponents)
            .reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(expected.packedComponents.count)
        #expect(worst <= tolerance, "\(filter) to \(expected.width)×\(expected.height): max difference \(worst)")
        #expect(meanAbs < 0.25, "\(filter): mean abs difference \(meanAbs)")
    }

    @Test func integerAreaFactorMatchesOpenCV() throws {
        let big = try PreprocessFixture.image("big").cropped(to: ImageRect(x: 0, y: 0, width: 144, height: 192))
        let expected = try PreprocessFixture.image("area_int_24x16")
        let ours = big.resized(width: expected.width, height: expected.height, filter: .area)
        #expect(PreprocessFixture.difference(ours, expected).max <= 1)
    }

    @Test func constantImageStaysConstant() {
        for filter in [ResamplingFilter.area, .bilinear, .lanczos3, .nearest] {
            let image = FloatImage(width: 37, height: 23, layout: .rgba, repeating: 0.25)
            for (w, h) in [(10, 7), (80, 51), (37, 5)] {
                let resized = image.resized(width: w, height: h, filter: filter)
                #expect(resized.packedComponents.allSatisfy { abs($0 - 0.25) < 1e-6 }, "\(filter) \(w)×\(h)")
            }
        }
    }

    @Test func areaAveragesExactly() throws {
        let image = try FloatImage(width: 4, height: 2, layout: .gray, components: [0, 1, 2, 3, 4, 5, 6, 7])
        let half = image.resized(width: 2, height: 1, filter: .area)
        #expect(half.packedComponents == [2.5, 4.5])
        // 4 → 3: output 0 covers [0, 4/3): 1·a + 1/3·b over 4/3.
        let row = try FloatImage(width: 4, height: 1, layout: .gray, components: [0, 3, 6, 9])
        let three = row.resized(width: 3, height: 1, filter: .area)
        #expect(abs(three[0, 0, 0] - (0 + 3.0 / 3) / (4.0 / 3)) < 1e-6)
    }

    @Test func asymmetricBilinearSamplesFromTheCorner() throws {
        let row = try FloatImage(width: 4, height: 1, layout: .gray, components: [0, 10, 20, 30])
        let up = row.resized(width: 8, height: 1, filter: .bilinear(alignment: .asymmetric))
        #expect(up.packedComponents == [0, 5, 10, 15, 20, 25, 30, 30])
        let corners = row.resized(width: 7, height: 1, filter: .bilinear(alignment: .alignCorners))
        #expect(corners.packedComponents.map { ($0 * 1000).rounded() / 1000 } == [0, 5, 10, 15, 20, 25, 30])
    }

    @Test func fitWithinKeepsAspectRatio() {
        let image = Image(width: 4000, height: 3000, layout: .gray)
        let small = image.resized(toFitWithin: 2048)
        #expect(small.width == 2048 && small.height == 1536)
        #expect(image.resized(toFitWithin: 5000).width == 4000)
    }
}
