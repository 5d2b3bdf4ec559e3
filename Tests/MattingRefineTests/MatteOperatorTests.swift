import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

@Suite struct MatteOperatorTests {
    /// A filled square [x0, x0+s) × [y0, y0+s) in a w×h matte.
    func square(_ w: Int, _ h: Int, x0: Int, y0: Int, side s: Int) -> FloatImage {
        grayImage(w, h) { x, y in (x >= x0 && x < x0 + s && y >= y0 && y < y0 + s) ? 1 : 0 }
    }

    func bounds(_ m: FloatImage) -> (Int, Int, Int, Int)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for y in 0..<m.height { for x in 0..<m.width where m[x, y, 0] >= 0.5 {
            x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x); y1 = max(y1, y)
        } }
        return x1 < 0 ? nil : (x0, y0, x1, y1)
    }

    @Test(arguments: 0...5)
    func erosionAndDilationRadiusIsExactOnASquare(_ n: Int) throws {
        let m = square(40, 40, x0: 10, y0: 12, side: 16)
        let e = try MatteOperation.erode(radius: n).applied(to: m)
        let d = try MatteOperation.dilate(radius: n).applied(to: m)
        let eb = try #require(bounds(e)), db = try #require(bounds(d))
        #expect(eb == (10 + n, 12 + n, 25 - n, 27 - n), "erode \(n)")
        #expect(db == (10 - n, 12 - n, 25 + n, 27 + n), "dilate \(n)")
        // Binary in, binary out, and the count is exact: (16 − 2n)².
        #expect(allValues(e).filter { $0 == 1 }.count == (16 - 2 * n) * (16 - 2 * n))
        #expect(allValues(e).allSatisfy { $0 == 0 || $0 == 1 })
    }

    /// A disk eroded by the square keeps exactly the centres whose square's four corners
    /// lie in the disk (a disk is convex), and its axis extent shrinks accordingly.
    @Test func erosionOfADiskIsTheSquareFitGeometry() throws {
        let radius: Float = 20
        func inside(_ x: Int, _ y: Int) -> Bool {
            let dx = Float(x - 30), dy = Float(y - 30)
            return dx * dx + dy * dy <= radius * radius
        }
        let m = grayImage(61, 61) { x, y in inside(x, y) ? 1 : 0 }
        for n in 1...5 {
            let e = try MatteOperation.erode(radius: n).applied(to: m)
            for y in 0..<61 { for x in 0..<61 {
                let fits = inside(x - n, y - n) && inside(x + n, y - n) && inside(x - n, y + n) && inside(x + n, y + n)
                #expect(e[x, y, 0] == (fits ? 1 : 0), "n \(n) at \(x),\(y)")
            } }
        }
    }

    @Test func thresholdBoundaryIsExact() throws {
        for t in [1, 12, 22, 50] {
            // v·(1/255) (as 8-bit conversion makes it) and v/255 both behave the same.
            let m = grayImage(4, 1) { x, _ in
                [Float(t - 1) / 255, Float(t) / 255, Float(t) * (1 / 255), Float(t - 1) * (1 / 255)][x]
            }
            let out = try MatteOperation.threshold(t).applied(to: m)
            #expect(out[0, 0, 0] == 0 && out[3, 0, 0] == 0, "t \(t): below is cleared")
            #expect(out[1, 0, 0] == m[1, 0, 0] && out[2, 0, 0] == m[2, 0, 0], "t \(t): equal is kept")
        }
        let m = randomImage(20, 20, layout: .gray, seed: 4)
        #expect(try MatteOperation.threshold(0).applied(to: m) == m)
        #expect(throws: ImageError.self) { try MatteOperation.threshold(-1).applied(to: m) }
        #expect(throws: ImageError.self) { try MatteOperations(threshold: 51, feather: false, erosion: 0) }
        #expect(throws: ImageError.self) { try MatteOperations(threshold: 0, feather: false, erosion: 6) }
    }

    @Test func featherTransitionIs3To5Pixels() throws {
        let m = grayImage(64, 8) { x, _ in x >= 32 ? 1 : 0 }
        let f = try MatteOperation.feather.applied(to: m)
        // 10–90 % width by linear interpolation along row 4.
        func crossing(_ level: Float) -> Float {
            for x in 1..<64 where f[x - 1, 4, 0] < level && f[x, 4, 0] >= level {
                let a = f[x - 1, 4, 0], b = f[x, 4, 0]
                return Float(x - 1) + (level - a) / (b - a)
            }
            return .nan
        }
        let width = crossing(0.9) - crossing(0.1)
        #expect(width >= 3 && width <= 5, "10–90 % width \(width)")
        #expect(try MatteOperation.feather(sigma: 0).applied(to: m) == m)
    }

    @Test func zeroParametersAreIdentityAndValuesStayInUnitRange() throws {
        let m = randomImage(33, 21, layout: .gray, seed: 8)
        let identity = try MatteOperations(threshold: 0, feather: false, erosion: 0)
        #expect(identity.operators.isEmpty)
        #expect(try identity.applied(to: m) == m)
        #expect(try MatteOperation.erode(radius: 0).applied(to: m) == m)
        #expect(try MatteOperation.dilate(radius: 0).applied(to: m) == m)
        for preset in [MatteOperations.portrait, .product, .complexBackground] {
            let out = try preset.applied(to: m)
            #expect(allValues(out).allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        let guide = randomImage(33, 21, layout: .rgb, seed: 9)
        let g = try MatteOperation.guidedFilter(radius: 4, epsilon: 1e-4, guide: guide).applied(to: m)
        #expect(allValues(g).allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(throws: ImageError.self) { try MatteOperations.portrait.applied(to: guide) }
    }

    @Test func presetsAreExactlyTheDesignTable() throws {
        #expect(MatteOperations.portrait.builtInSteps == [.threshold(12), .erode(radius: 1), .feather(sigma: 1.5)])
        #expect(MatteOperations.product.builtInSteps == [.threshold(8), .feather(sigma: 1.5)])
        #expect(MatteOperations.complexBackground.builtInSteps == [.threshold(22), .erode(radius: 2), .feather(sigma: 1.5)])
        #expect(try MatteOperations(threshold: 12, feather: true, erosion: 1).builtInSteps == MatteOperations.portrait.builtInSteps)
        let extended = MatteOperations.portrait.appending(MatteOperation.dilate(radius: 1))
        #expect(extended.operators.count == 4)
    }

    @Test func compositingAndPremultiplication() throws {
        let fg = FloatImage(width: 4, height: 2, layout: .rgb, repeating: 1)
        let alpha = grayImage(4, 2) { x, _ in Float(x) / 3 }
        let out = try Compositing.composite(fg, alpha: alpha, over: try RGBColor(parsing: "#000000"))
        for x in 0..<4 { #expect(abs(out[x, 1, 0] - Float(x) / 3) < 1e-6) }
        let red = try RGBColor(parsing: "ff0000")
        #expect(Compositing.floatComponents(of: red) == [1, 0, 0])
        #expect(throws: ImageError.self) { try RGBColor(parsing: "#12345") }
        let cut = try Compositing.cutout(randomImage(4, 2, layout: .rgb, seed: 1), alpha: alpha)
        let round = try Compositing.straightened(try Compositing.premultiplied(cut))
        for y in 0..<2 { for x in 1..<4 { for c in 0..<4 { #expect(abs(round[x, y, c] - cut[x, y, c]) < 1e-5) } } }
        #expect(throws: ImageError.self) { try Compositing.composite(fg, alpha: grayImage(3, 2) { _, _ in 1 }, over: .white) }
    }
}
