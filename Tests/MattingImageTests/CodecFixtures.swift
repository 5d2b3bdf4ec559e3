import Foundation
@testable import MattingImage

/// Fixture files (made by Scripts/make-codec-fixtures.py) and the formulas they follow.
enum CodecFixtures {
    static func url(_ name: String) -> URL {
        guard let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("the Fixtures resource folder is missing from the test bundle")
        }
        return folder.appendingPathComponent(name)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(name)))
    }

    /// Size of every PNG fixture.
    static let width = 13, height = 11

    /// `(3x + 5y + 7c + 11(x XOR y)) mod 2^bits`, as in the generator.
    static func sample(_ x: Int, _ y: Int, _ c: Int, bits: Int) -> Int {
        (3 * x + 5 * y + 7 * c + 11 * (x ^ y)) % (1 << bits)
    }

    /// `(4099x + 7919y + 21011c + 3(x XOR y)) mod 65536`, as in the generator.
    static func sample16(_ x: Int, _ y: Int, _ c: Int) -> Int {
        (4099 * x + 7919 * y + 21011 * c + 3 * (x ^ y)) % 65536
    }

    /// A 16-bit value scaled to 8 bits with rounding: round(v · 255 / 65535).
    static func rounded16(_ v: Int) -> UInt8 { UInt8((v * 255 + 32767) / 65535) }

    /// A low-bit-depth gray value expanded to 8 bits the way PNG means it: v · 255 / (2^bits − 1).
    static func expanded(_ v: Int, bits: Int) -> UInt8 { UInt8(v * 255 / ((1 << bits) - 1)) }

    static func paletteEntry(_ i: Int) -> [UInt8] {
        [UInt8(37 * i % 256), UInt8(91 * i % 256), UInt8(53 * i % 256)]
    }

    static func paletteAlpha(_ i: Int) -> UInt8 { UInt8((67 * i + 5) % 256) }

    /// RGB of block k of the JPEG fixtures (16×16 flat blocks, k = bx + 4·by).
    static func blockColour(_ k: Int) -> [Int] {
        let table = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [128, 128, 128],
                     [255, 255, 0], [0, 255, 255], [255, 0, 255], [200, 120, 40], [40, 200, 120], [120, 40, 200]]
        return table[k % table.count]
    }

    /// CMYK ink amounts (0 = no ink) of block k of the CMYK fixtures.
    static func cmykBlock(_ k: Int) -> [Int] {
        let table = [[255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 255], [0, 0, 0, 0], [0, 0, 0, 128],
                     [128, 64, 0, 32], [10, 200, 90, 60], [255, 255, 0, 0], [0, 128, 255, 0], [64, 64, 64, 64],
                     [200, 0, 100, 20]]
        return table[k % table.count]
    }

    /// The RGB a CMYK ink mix shows: (255 − c)(255 − k) / 255 per channel, rounded.
    static func rgb(fromCMYK ink: [Int]) -> [Int] {
        (0..<3).map { Int((Double((255 - ink[$0]) * (255 - ink[3])) / 255).rounded()) }
    }

    /// Largest absolute difference between `image` and `expected(x, y, c)` over pixels that
    /// lie at least `margin` pixels inside their 16×16 block.
    static func maxBlockInteriorError(_ image: Image, margin: Int = 2, expected: (Int, Int, Int) -> Int) -> Int {
        var worst = 0
        for y in 0..<image.height where (y % 16) >= margin && (y % 16) < 16 - margin {
            for x in 0..<image.width where (x % 16) >= margin && (x % 16) < 16 - margin {
                for c in 0..<image.channelCount {
                    worst = max(worst, abs(Int(image[x, y, c]) - expected(x, y, c)))
                }
            }
        }
        return worst
    }
}
