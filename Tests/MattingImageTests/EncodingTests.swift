import Foundation
import MattingTestSupport
import Testing
@testable import MattingImage

@Suite("Encoding")
struct EncodingTests {
    static func random(_ layout: PixelLayout, width: Int = 37, height: Int = 23, seed: UInt64) -> Image {
        var generator = SeededGenerator(seed: seed)
        let bytes = generator.bytes(width * height * layout.channelCount)
        return Image(width: width, height: height, layout: layout) { x, y, c in
            bytes[(y * width + x) * layout.channelCount + c]
        }
    }

    @Test("PNG round trip is lossless", arguments: PixelLayout.allCases, [0, 2, 9])
    func pngRoundTrip(_ layout: PixelLayout, _ level: Int) throws {
        let image = Self.random(layout, seed: 42)
        let bytes = try image.encoded(as: .png, options: .init(pngCompressionLevel: level))
        #expect(ImageFormat(sniffing: bytes) == .png)
        #expect(try Image(decoding: bytes) == image, "seed 42, \(layout), level \(level)")
    }

    @Test("PNG round trip of a cropped view (row stride > row length)")
    func pngOfView() throws {
        let image = Self.random(.rgba, width: 50, height: 40, seed: 7)
        let view = image.cropped(to: ImageRect(x: 3, y: 5, width: 31, height: 17))
        #expect(view.rowStride > view.rowLength)
        #expect(try Image(decoding: view.encoded(as: .png)) == view)
    }

    /// The banded, threaded encoder (the default path) against libpng's encoder with the same
    /// filter: same decoded pixels for 1–3 threads, one band or several (the large cases are
    /// over 4 MB, so they get several bands of ≥ 64 rows), odd shapes, every layout, a view with
    /// row stride > length; and the same bytes whatever the thread count.
    @Test("threaded PNG bands decode to libpng's pixels", arguments: [
        (PixelLayout.gray, 1, 1), (.grayAlpha, 3, 257), (.rgb, 1001, 700), (.rgba, 1203, 1801), (.rgb, 2003, 2101),
    ], [1, 2, 3])
    func threadedPNG(_ shape: (PixelLayout, Int, Int), _ threads: Int32) throws {
        let (layout, width, height) = shape
        let image = Image(width: width + 3, height: height, layout: layout) { x, y, c in
            // Smooth ramps with noise: compressible, so deflate emits back-references.
            UInt8(truncatingIfNeeded: (x * (c + 1) + y * 3) / 4 + ((x &* 7919 &+ y &* 104729 &+ c) % 5))
        }.cropped(to: ImageRect(x: 1, y: 0, width: width, height: height))
        let threaded = try PNGCodec.encode(image, compressionLevel: 2, destination: "test", threads: threads)
        let reference = try PNGCodec.encode(
            image, compressionLevel: 2, destination: "test", threads: nil)
        let decoded = try Image(decoding: threaded)
        #expect(decoded == image, "\(layout) \(width)×\(height), \(threads) threads")
        // The band layout depends on the picture only: same bytes as with one thread.
        #expect(threaded == (try PNGCodec.encode(image, compressionLevel: 2, destination: "test", threads: 1)))
        #expect(decoded == (try Image(decoding: reference)))
        // Bands cost a little compression, not much.
        #expect(Double(threaded.count) <= 1.05 * Double(reference.count) + 200)
    }

    /// The RGB + alpha encoder (rows interleaved while deflating) against interleaving first
    /// and encoding the RGBA picture: the same bytes, for one band or several (1203×1801 RGBA
    /// is over 4 MB), odd shapes, views with row stride > length, 1–3 threads.
    @Test("PNG of RGB + alpha planes equals the PNG of the interleaved RGBA", arguments: [
        (1, 1), (3, 257), (64, 65), (1203, 1801),
    ], [1, 2, 3])
    func rgbPlusAlphaPNG(_ shape: (Int, Int), _ threads: Int32) throws {
        let (width, height) = shape
        let color = Image(width: width + 3, height: height, layout: .rgb) { x, y, c in
            UInt8(truncatingIfNeeded: (x * (c + 1) + y * 3) / 4 + ((x &* 7919 &+ y &* 104729 &+ c) % 5))
        }.cropped(to: ImageRect(x: 2, y: 0, width: width, height: height))
        let alpha = Image(width: width + 1, height: height, layout: .gray) { x, y, _ in
            UInt8(truncatingIfNeeded: (x + 2 * y) / 3 + (x &* 31 &+ y) % 3)
        }.cropped(to: ImageRect(x: 1, y: 0, width: width, height: height))
        let rgba = color.converted(to: .rgba).replacingChannel(3, with: alpha)
        let planar = try PNGCodec.encode(color: color, alpha: alpha, compressionLevel: 2, destination: "test", threads: threads)
        #expect(planar == (try PNGCodec.encode(rgba, compressionLevel: 2, destination: "test", threads: threads)),
                "\(width)×\(height), \(threads) threads")
        #expect(try color.encodedPNG(withAlpha: alpha) == (try rgba.encoded(as: .png)))
        #expect(throws: ImageError.self) { try color.encodedPNG(withAlpha: color) }
    }

    @Test("higher PNG levels compress a smooth picture better")
    func pngLevels() throws {
        let image = Image(width: 256, height: 256, layout: .rgb) { x, y, c in UInt8((x * (c + 1) + y) & 255) }
        let stored = try image.encoded(as: .png, options: .init(pngCompressionLevel: 0)).count
        let fast = try image.encoded(as: .png, options: .init(pngCompressionLevel: 1)).count
        #expect(fast < stored / 4)
        #expect(stored > 256 * 256 * 3)
    }

    @Test("JPEG round trip within tolerance; quality changes the size", arguments: [PixelLayout.gray, .rgb])
    func jpegRoundTrip(_ layout: PixelLayout) throws {
        // Smooth content at quality 95: ≤ 1 level seen; 3 allows for other libjpeg builds.
        let image = Image(width: 96, height: 64, layout: layout) { x, y, c in UInt8(40 + x + y + 20 * c) }
        let high = try image.encoded(as: .jpeg)
        let low = try image.encoded(as: .jpeg, options: .init(jpegQuality: 30))
        #expect(low.count < high.count)
        let decoded = try Image(decoding: high)
        #expect(decoded.layout == layout && decoded.width == 96 && decoded.height == 64)
        let worst = zip(decoded.packedComponents, image.packedComponents).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 3)
    }

    @Test("alpha to JPEG needs a background", arguments: [PixelLayout.rgba, .grayAlpha])
    func jpegAlpha(_ layout: PixelLayout) throws {
        let image = Self.random(layout, seed: 3)
        #expect(throws: ImageError.self) { try image.encoded(as: .jpeg) }
        do {
            _ = try image.encoded(as: .jpeg)
        } catch let error {
            guard case .unsupportedEncoding(let destination, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(destination == "<memory>")
        }
        let flat = try Image(decoding: image.encoded(as: .jpeg, options: .init(background: .white)))
        #expect(flat.layout == .gray || flat.layout == .rgb)
    }

    @Test("flattening over a colour is exact straight-alpha compositing")
    func flatten() throws {
        let pixels: [UInt8] = [200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128, 10, 20, 30, 1]
        let image = try Image(width: 4, height: 1, layout: .rgba, components: pixels)
        let background = try RGBColor(parsing: "#204060")
        let flat = image.flattened(over: background)
        #expect(flat.layout == .rgb)
        let back = [0x20, 0x40, 0x60]
        for x in 0..<4 {
            let alpha = Double(pixels[x * 4 + 3])
            for c in 0..<3 {
                let expected = (Double(pixels[x * 4 + c]) * alpha + Double(back[c]) * (255 - alpha)) / 255
                #expect(Int(flat[x, 0, c]) == Int(expected.rounded()), "pixel \(x) channel \(c)")
            }
        }
        let grayAlpha = try Image(width: 2, height: 1, layout: .grayAlpha, components: [100, 128, 7, 0])
        #expect(grayAlpha.flattened(over: .white).layout == .gray)
        #expect(grayAlpha.flattened(over: background).layout == .rgb)
        #expect(grayAlpha.flattened(over: .white).packedComponents == [UInt8((100.0 * 128 + 255 * 127) / 255 + 0.5), 255])
    }

    @Test("PNG with a background loses its alpha")
    func pngBackground() throws {
        let image = Self.random(.rgba, seed: 9)
        let decoded = try Image(decoding: image.encoded(as: .png, options: .init(background: .black)))
        #expect(decoded == image.flattened(over: .black))
    }

    @Test("settings out of range are refused", arguments: [
        EncodingOptions(jpegQuality: 0), EncodingOptions(jpegQuality: 101),
        EncodingOptions(pngCompressionLevel: -1), EncodingOptions(pngCompressionLevel: 10),
    ])
    func outOfRange(_ options: EncodingOptions) throws {
        let image = Self.random(.rgb, seed: 1)
        let format: ImageFormat = options.jpegQuality != 95 ? .jpeg : .png
        #expect(throws: ImageError.self) { try image.encoded(as: format, options: options) }
    }

    @Test("an empty picture is refused")
    func empty() {
        #expect(throws: ImageError.self) { try Image(width: 0, height: 5, layout: .rgb).encoded(as: .png) }
    }

    @Test("float pictures are written as 8 bits")
    func floatPicture() throws {
        let image = FloatImage(width: 4, height: 1, layout: .gray) { x, _, _ in Float(x) / 3 }
        #expect(try Image(decoding: image.encoded(as: .png)).packedComponents == [0, 85, 170, 255])
    }
}

@Suite("Atomic writes")
struct AtomicWriteTests {
    @Test("write(to:) creates the file with the format of its extension", arguments: ["out.png", "out.jpg", "OUT.JPEG"])
    func writes(_ name: String) throws {
        let folder = try TemporaryFolder()
        let image = EncodingTests.random(.rgb, seed: 5)
        try image.write(to: folder.url.appendingPathComponent(name))
        #expect(folder.contents == [name])
        let bytes = try [UInt8](Data(contentsOf: folder.url.appendingPathComponent(name)))
        #expect(ImageFormat(sniffing: bytes) == (name.hasSuffix("png") ? .png : .jpeg))
        // An explicit format wins over the name.
        try image.write(toFile: folder.path(name), format: .png)
        #expect(ImageFormat(sniffing: try [UInt8](Data(contentsOf: folder.url.appendingPathComponent(name)))) == .png)
    }

    @Test("a 250-byte file name still gets a valid temporary name")
    func longName() throws {
        let folder = try TemporaryFolder()
        let name = String(repeating: "é", count: 123) + ".png"  // 250 bytes of UTF-8
        try EncodingTests.random(.gray, seed: 4).write(toFile: folder.path(name))
        #expect(folder.contents == [name])
    }

    @Test("a missing folder gives .io and creates nothing")
    func missingFolder() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("no/such/folder/out.png")
        let error = try #require(throws: ImageError.self) { try EncodingTests.random(.rgb, seed: 1).write(toFile: path) }
        guard case .io(let where_, _) = error else { Issue.record("wrong error \(error)"); return }
        #expect(where_ == path)
        #expect(folder.contents.isEmpty)
    }

    static let failures: [(String, Image, EncodingOptions)] = [
        ("alpha to JPEG without background", EncodingTests.random(.rgba, seed: 2), .init()),
        ("bad quality", EncodingTests.random(.rgb, seed: 2), .init(jpegQuality: 0)),
        ("empty picture", Image(width: 0, height: 0, layout: .rgb), .init()),
    ]

    @Test("an existing destination is untouched when encoding fails", arguments: failures.map(\.0))
    func existingUntouched(_ name: String) throws {
        let (_, image, options) = try #require(Self.failures.first { $0.0 == name })
        let folder = try TemporaryFolder()
        let path = folder.path("keep.jpg")
        let original = Array("precious".utf8)
        try Data(original).write(to: URL(fileURLWithPath: path))
        #expect(throws: ImageError.self) { try image.write(toFile: path, options: options) }
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == original)
        #expect(folder.contents == ["keep.jpg"])
    }

    @Test("a failing rename leaves the destination and no temporary file")
    func renameFails() throws {
        // The destination is a non-empty folder: everything succeeds up to rename(2).
        let folder = try TemporaryFolder()
        let target = folder.path("taken.png")
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        let error = try #require(throws: ImageError.self) { try EncodingTests.random(.rgb, seed: 1).write(toFile: target) }
        #expect(ErrorKind(error) == .io)
        #expect(folder.contents == ["taken.png"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["inside"])
    }

    @Test("an unknown extension without a format is refused before writing")
    func unknownExtension() throws {
        let folder = try TemporaryFolder()
        #expect(throws: ImageError.self) { try EncodingTests.random(.rgb, seed: 1).write(toFile: folder.path("out.tiff")) }
        #expect(folder.contents.isEmpty)
    }
}

@Suite("RGBColor")
struct RGBColorTests {
    @Test("parses", arguments: [
        ("#ffffff", RGBColor.white), ("#000000", .black), ("#1a2B3c", RGBColor(red: 0x1A, green: 0x2B, blue: 0x3C)),
        ("1a2b3c", RGBColor(red: 0x1A, green: 0x2B, blue: 0x3C)), (" #f00 ", RGBColor(red: 255, green: 0, blue: 0)),
    ])
    func parses(_ text: String, _ colour: RGBColor) throws {
        #expect(try RGBColor(parsing: text) == colour)
        #expect(RGBColor(colour.description) == colour)
    }

    @Test("refuses", arguments: ["", "#", "#ffff", "#fffffff", "#gggggg", "white", "#ff ff ff", "#ｆｆｆｆｆｆ"])
    func refuses(_ text: String) {
        #expect(throws: ImageError.self) { try RGBColor(parsing: text) }
        #expect(RGBColor(text) == nil)
    }

    @Test func description() {
        #expect(RGBColor(red: 1, green: 171, blue: 255).description == "#01abff")
    }
}
