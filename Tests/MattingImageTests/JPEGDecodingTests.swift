import Foundation
import Testing
@testable import MattingImage

// Tolerances. The fixtures are 16×16 flat blocks aligned to the JPEG MCU grid, so inside
// a block (2 px away from its edge, out of reach of chroma upsampling across blocks and
// of ringing) only DC quantisation (step ≤ 2 at quality 95) and the YCbCr↔RGB rounding
// on encode and decode remain: ≤ 1 level seen with libjpeg-turbo 2.1.5; 2 allows one more
// rounding step from another libjpeg build. A real decoding mistake (swapped channels,
// wrong colour transform, missing inversion) is off by tens to hundreds.
private let blockTolerance = 2
// CMYK: C and K may each be off by a level and their product can add one more.
private let cmykTolerance = 3

@Suite("JPEG decoding")
struct JPEGDecodingTests {
    @Test("baseline and progressive RGB", arguments: ["jpeg-rgb-baseline.jpg", "jpeg-rgb-progressive.jpg"])
    func rgb(_ file: String) throws {
        let image = try Image(contentsOf: F.url(file))
        #expect(image.width == 64 && image.height == 48 && image.layout == .rgb)
        let error = F.maxBlockInteriorError(image) { x, y, c in F.blockColour(x / 16 + 4 * (y / 16))[c] }
        #expect(error <= blockTolerance)
    }

    @Test("progressive decodes to exactly the baseline pixels (same coefficients)")
    func progressiveEqualsBaseline() throws {
        #expect(try Image(contentsOf: F.url("jpeg-rgb-progressive.jpg")) == Image(contentsOf: F.url("jpeg-rgb-baseline.jpg")))
    }

    @Test("grayscale stays one channel")
    func gray() throws {
        let image = try Image(contentsOf: F.url("jpeg-gray.jpg"))
        #expect(image.layout == .gray && image.width == 64 && image.height == 48)
        let error = F.maxBlockInteriorError(image) { x, y, _ in (x / 16 + 4 * (y / 16)) * 23 }
        #expect(error <= blockTolerance)
    }

    @Test("Adobe (inverted) CMYK becomes RGB")
    func cmyk() throws {
        let image = try Image(contentsOf: F.url("jpeg-cmyk-adobe.jpg"))
        #expect(image.layout == .rgb)
        let error = F.maxBlockInteriorError(image) { x, y, c in
            F.rgb(fromCMYK: F.cmykBlock(x / 16 + 4 * (y / 16)))[c]
        }
        #expect(error <= cmykTolerance)
    }

    @Test("YCCK (Adobe transform 2) becomes RGB")
    func ycck() throws {
        // Photoshop convention: the stored CMYK samples are inverted (255 = no ink).
        let stored = Image(width: 64, height: 48, layout: .rgba) { x, y, c in
            UInt8(255 - F.cmykBlock(x / 16 + 4 * (y / 16))[c])
        }
        let bytes = try JPEGCodec.encode(stored, quality: 95, destination: "<test>", cmykAsYCCK: true)
        // The file really is YCCK: its Adobe APP14 marker says transform 2.
        let adobe = try #require(bytes.firstRange(of: Array("Adobe".utf8)))
        #expect(bytes[adobe.lowerBound + 11] == 2)
        let image = try Image(decoding: bytes)
        #expect(image.layout == .rgb)
        let error = F.maxBlockInteriorError(image) { x, y, c in
            F.rgb(fromCMYK: F.cmykBlock(x / 16 + 4 * (y / 16)))[c]
        }
        #expect(error <= cmykTolerance)
    }

    /// (requested size, expected decoded width × height) for a 1000×600 picture.
    static let scaledCases: [(ReducedDecodeSize?, Int, Int)] = [
        (nil, 1000, 600),
        (.longSide(atLeast: 5000), 1000, 600),   // larger than the picture: full size
        (.longSide(atLeast: 1000), 1000, 600),
        (.longSide(atLeast: 876), 1000, 600),    // 7/8 gives 875: too small
        (.longSide(atLeast: 875), 875, 525),
        (.longSide(atLeast: 300), 375, 225),     // 2/8 gives 250: too small; 3/8 gives 375
        (.longSide(atLeast: 126), 250, 150),
        (.longSide(atLeast: 125), 125, 75),      // 1/8
        (.longSide(atLeast: 1), 125, 75),
        (.shortSide(atLeast: 76), 250, 150),
        (.shortSide(atLeast: 75), 125, 75),
        (.shortSide(atLeast: 600), 1000, 600),
    ]

    static let flatColour: [UInt8] = [30, 140, 220]
    /// A flat 1000×600 JPEG, made once (debug builds fill pictures slowly).
    static let flatJPEG = Result { () throws(ImageError) -> [UInt8] in
        var picture = Image(width: 1000, height: 600, layout: .rgb)
        picture.withUnsafeMutableBufferPointer { pixels, _ in
            for i in 0..<(1000 * 600 * 3) { pixels[i] = flatColour[i % 3] }
        }
        return try picture.encoded(as: .jpeg)
    }

    @Test("reduced-size decode picks the smallest sufficient N/8", arguments: scaledCases)
    func scaledDecode(_ target: ReducedDecodeSize?, _ width: Int, _ height: Int) throws {
        let colour = Self.flatColour
        let bytes = try Self.flatJPEG.get()
        let image = try Image(decoding: bytes, options: DecodingOptions(reducedSize: target))
        #expect(image.width == width && image.height == height)
        // Scaling keeps the content: a flat colour stays that colour.
        let worst = image.packedComponents.enumerated().map { abs(Int($0.element) - Int(colour[$0.offset % 3])) }.max() ?? 0
        #expect(worst <= 3)
    }

    @Test("the pixel limit uses the header, also for reduced-size decodes")
    func limitChecksFullSize() throws {
        let bytes = try Image(width: 400, height: 300, layout: .gray).encoded(as: .jpeg)
        var options = DecodingOptions(maximumPixelCount: 400 * 300 - 1, reducedSize: .longSide(atLeast: 50))
        #expect(throws: ImageError.tooLarge(source: "<memory>", width: 400, height: 300, limit: 400 * 300 - 1)) {
            try Image(decoding: bytes, options: options)
        }
        options.maximumPixelCount = 400 * 300
        #expect(try Image(decoding: bytes, options: options).width == 50)
    }
}
