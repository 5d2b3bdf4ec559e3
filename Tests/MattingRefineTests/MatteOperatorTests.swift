import Foundation
import MattingThreads
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
        #expect(identity.steps.isEmpty)
        #expect(try identity.applied(to: m) == m)
        #expect(try MatteOperation.erode(radius: 0).applied(to: m) == m)
        #expect(try MatteOperation.dilate(radius: 0).applied(to: m) == m)
        for preset in [MatteOperations.portrait, .product, .complexBackground] {
            let out = try preset.applied(to: m)
            #expect(allValues(out).allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        let guide = randomImage(33, 21, layout: .rgb, seed: 9)
        let g = try MatteOperation.guidedFilter(radius: 4, epsilon: 1e-4).applied(to: m, guide: guide)
        #expect(allValues(g).allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(throws: ImageError.self) { try MatteOperation.guidedFilter(radius: 4, epsilon: 1e-4).applied(to: m) }
        #expect(throws: ImageError.self) { try MatteOperations.portrait.applied(to: guide) }
    }

    @Test func presetsAreExactlyTheDesignTable() throws {
        #expect(MatteOperations.portrait.steps == [.threshold(12), .erode(radius: 1), .feather(sigma: 1.5)])
        #expect(MatteOperations.product.steps == [.threshold(8), .feather(sigma: 1.5)])
        #expect(MatteOperations.complexBackground.steps == [.threshold(22), .erode(radius: 2), .feather(sigma: 1.5)])
        #expect(try MatteOperations(threshold: 12, feather: true, erosion: 1) == MatteOperations.portrait)
        let extended = MatteOperations.portrait.appending(.dilate(radius: 1))
        #expect(extended.steps.count == 4)
        #expect(extended != .portrait)
    }

    /// Presets read back their parameters, are found by name, and survive a JSON round trip.
    @Test func presetsAreReadableCodableData() throws {
        let table: [(String, Int, Int, Bool)] = [
            ("portrait", 12, 1, true), ("product", 8, 0, true), ("complexBackground", 22, 2, true), ("none", 0, 0, false),
        ]
        for (name, threshold, erosion, feathers) in table {
            let preset = try #require(MatteOperations.preset(named: name))
            #expect(preset.threshold == threshold && preset.erosion == erosion && preset.feathers == feathers, "\(name)")
            #expect(MatteOperations.preset(named: name.uppercased()) == preset)
        }
        #expect(MatteOperations.preset(named: "studio") == nil)
        let custom = MatteOperations.product.appending(.guidedFilter(radius: 8, epsilon: 1e-4)).appending(.dilate(radius: 2))
        let json = try JSONEncoder().encode(custom)
        #expect(try JSONDecoder().decode(MatteOperations.self, from: json) == custom)
        #expect(String(decoding: json, as: UTF8.self).hasPrefix("["))
    }

    /// 8-bit compositing against the formula computed naively in Double:
    /// `round(F·a/255) + round(B·(255−a)/255)`, for every alpha and many colours, over a colour,
    /// a picture and a checkerboard, on 1 and 3 threads.
    @Test func compositingMatchesTheRoundedFormula() throws {
        let w = 256, h = 7
        let fg = Image(width: w, height: h, layout: .rgb) { x, y, c in UInt8((x * 7 + y * 31 + c * 85) % 256) }
        let matte = Image(width: w, height: h, layout: .gray) { x, _, _ in UInt8(x) }
        let picture = Image(width: w, height: h, layout: .rgb) { x, y, c in UInt8((x * 3 + y * 11 + c * 40) % 256) }
        func rounded(_ v: Int) -> Int { Int((Double(v) / 255).rounded()) }
        let colour = try RGBColor(parsing: "#7f10e0")
        let backgrounds: [(Compositing.Background, (Int, Int, Int) -> Int)] = [
            (.color(colour), { _, _, c in Int([colour.red, colour.green, colour.blue][c]) }),
            (.image(picture), { x, y, c in Int(picture[x, y, c]) }),
            (.checkerboard(size: 3, light: .white, dark: .black), { x, y, _ in (x / 3 + y / 3) % 2 == 0 ? 255 : 0 }),
        ]
        for (background, value) in backgrounds {
            for threads in [1, 3] {
                let out = try Compositing.composite(fg, matte: matte, over: background, pool: ThreadPool(threadCount: threads))
                for y in 0..<h { for x in 0..<w { for c in 0..<3 {
                    let a = Int(matte[x, y, 0])
                    let expected = min(255, rounded(Int(fg[x, y, c]) * a) + rounded(value(x, y, c) * (255 - a)))
                    #expect(Int(out[x, y, c]) == expected, "\(background) (\(x), \(y)) c\(c)")
                } } }
            }
        }
        let premultiplied = try Compositing.premultiplied(fg, matte: matte)
        #expect(try Compositing.composite(premultiplied: premultiplied, matte: matte, over: .color(colour))
            == Compositing.composite(fg, matte: matte, over: .color(colour)))
        let cut = try Compositing.cutout(fg, matte: matte)
        #expect(cut.layout == .rgba && cut.channel(3) == matte && cut.converted(to: .rgb) == fg)
        #expect(throws: ImageError.self) { try Compositing.cutout(fg, matte: Image(width: 3, height: 2, layout: .gray)) }
        #expect(throws: ImageError.self) { try Compositing.composite(fg, matte: fg, over: .color(.white)) }
        #expect(throws: ImageError.self) { try RGBColor(parsing: "#12345") }
    }
}
