import MattingThreads
import MattingImage
import MattingTestSupport
import Testing
@testable import MattingRefine

/// The banded 8-bit chain (`appliedQuantized`) against its slow twin: every step applied
/// to a full-size plane, then quantized. Bit for bit, for any band height and thread count.
@Suite struct BandedOperationsTests {
    static let chains: [(String, MatteOperations)] = [
        ("portrait", .portrait),
        ("product", .product),
        ("complexBackground", .complexBackground),
        ("none", .none),
        ("dilate2-feather3-erode1", MatteOperations([
            MatteOperation.dilate(radius: 2), MatteOperation.feather(sigma: 3), MatteOperation.erode(radius: 1),
        ])),
        ("feather0.4-threshold50-erode5-feather1.5", MatteOperations([
            MatteOperation.feather(sigma: 0.4), MatteOperation.threshold(50), MatteOperation.erode(radius: 5), MatteOperation.feather,
        ])),
        ("zero steps", MatteOperations([
            MatteOperation.threshold(0), MatteOperation.erode(radius: 0), MatteOperation.feather(sigma: 0),
        ])),
    ]

    /// A matte like the refiner's: opaque and clear regions with a soft random edge band.
    func matte(_ w: Int, _ h: Int, seed: UInt64) -> FloatImage {
        let noise = randomImage(w, h, layout: .gray, seed: seed)
        return grayImage(w, h) { x, y in
            let d = Float(x - w / 2) * Float(x - w / 2) + Float(y - h / 2) * Float(y - h / 2)
            let r = Float(min(w, h)) * 0.35
            if d < r * r * 0.5 { return 1 }
            if d > r * r * 1.5 { return noise[x, y, 0] < 0.2 ? noise[x, y, 0] * 0.1 : 0 }
            return noise[x, y, 0]
        }
    }

    @Test(arguments: [(1, 1), (2, 3), (7, 5), (31, 17), (64, 64), (97, 131), (130, 67)])
    func bandedChainMatchesStepByStep(_ size: (Int, Int)) throws {
        let (w, h) = size
        let seed = UInt64(w * 1000 + h)
        let m = matte(w, h, seed: seed)
        for (name, ops) in Self.chains {
            let slow = quantizedMatte(try ops.applied(to: m))
            for (bandRows, threads) in [(1, 1), (3, 2), (16, 2), (64, 1), (64, 3)] {
                let fast = try ops.appliedQuantized(to: m, bandRows: bandRows, pool: ThreadPool(threadCount: threads))
                #expect(fast.width == w && fast.height == h)
                #expect(fast.packedComponents == slow.packedComponents,
                        "\(name) \(w)×\(h) bands \(bandRows) threads \(threads) seed \(seed)")
            }
        }
    }

    @Test func generalPathAndErrorsAreKept() throws {
        let m = matte(20, 30, seed: 7)
        let guided = MatteOperations.portrait.appending(.guidedFilter(radius: 2, epsilon: 1e-3))
        #expect(try guided.appliedQuantized(to: m, guide: m).packedComponents
            == quantizedMatte(try guided.applied(to: m, guide: m)).packedComponents)
        let wide = MatteOperations([MatteOperation.erode(radius: 12), MatteOperation.feather])
        #expect(try wide.appliedQuantized(to: m).packedComponents == quantizedMatte(try wide.applied(to: m)).packedComponents)
        #expect(throws: ImageError.self) { try MatteOperations([MatteOperation.threshold(300)]).appliedQuantized(to: m) }
        #expect(throws: ImageError.self) { try MatteOperations([MatteOperation.feather(sigma: -1)]).appliedQuantized(to: m) }
        #expect(throws: ImageError.self) { try MatteOperations.portrait.appliedQuantized(to: randomImage(4, 4, layout: .rgb, seed: 1)) }
    }

    /// The vectorised quantizer against the scalar rule (`UInt8(unitValue:)`): a dense sweep of
    /// −0.01…1.01, every rounding boundary (k − ½)/255 and its float neighbours, specials (±0,
    /// ±∞, NaN, subnormals, huge values), in rows whose lengths are not multiples of 16. (All
    /// 2³² float bit patterns were checked once by hand; see `quantizeRow`.)
    @Test func quantizeRowMatchesScalarRule() {
        var values: [Float] = (0...102_000).map { -0.01 + Float($0) * 1e-5 }
        for k in 0...256 {
            let b = (Float(k) - 0.5) / 255
            values += [b.nextDown.nextDown, b.nextDown, b, b.nextUp, b.nextUp.nextUp]
        }
        values += [0, -0, .infinity, -.infinity, .nan, -.nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                   .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e20, -1e20, 2, 254.5 / 255, 255.5 / 255]
        for length in [values.count, values.count - 1, 15, 17, 1] {
            let row = Array(values.suffix(length))
            var out = [UInt8](repeating: 7, count: length)
            quantizeRow(row, &out, count: length)
            #expect(out == row.map { UInt8(unitValue: $0) }, "length \(length)")
        }
    }

    /// `quantizedMatte` on RGB and gray pictures, packed and as views, widths not multiples of 16.
    @Test(arguments: [(1, 1), (17, 3), (301, 200), (1024, 300)])
    func quantizedMatteMatchesScalarRule(_ size: (Int, Int)) throws {
        let (w, h) = size
        for layout in [PixelLayout.gray, .rgb] {
            var rng = SeededGenerator(seed: UInt64(w * 31 + h))
            let count = (w + 2) * (h + 1) * layout.channelCount
            // Past both ends of 0…1, so clamping is exercised too.
            let big = try FloatImage(width: w + 2, height: h + 1, layout: layout, components: rng.floats(count, in: -0.1...1.1))
            for image in [big, big.cropped(to: ImageRect(x: 1, y: 1, width: w, height: h))] {
                let ours = quantizedMatte(image)
                #expect(ours.isPacked && ours.layout == layout)
                #expect(ours.packedComponents == image.packedComponents.map { UInt8(unitValue: $0) }, "\(layout) \(image.width)×\(image.height)")
            }
        }
    }
}
