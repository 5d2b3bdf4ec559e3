import Foundation
import Testing
@testable import MattingImage

/// One PNG fixture and the value every pixel must decode to.
struct PNGCase: Sendable, CustomTestStringConvertible {
    let file: String
    let layout: PixelLayout
    let expected: @Sendable (_ x: Int, _ y: Int, _ c: Int) -> UInt8
    var testDescription: String { file }
}

typealias F = CodecFixtures

let pngCases: [PNGCase] = {
    var cases = [PNGCase]()
    for bits in [1, 2, 4] {
        cases.append(PNGCase(file: "png-gray-\(bits).png", layout: .gray) { x, y, c in
            F.expanded(F.sample(x, y, c, bits: bits), bits: bits)
        })
    }
    for (name, layout) in [("gray", PixelLayout.gray), ("grayalpha", .grayAlpha), ("rgb", .rgb), ("rgba", .rgba)] {
        cases.append(PNGCase(file: "png-\(name)-8.png", layout: layout) { x, y, c in UInt8(F.sample(x, y, c, bits: 8)) })
        cases.append(PNGCase(file: "png-\(name)-16.png", layout: layout) { x, y, c in F.rounded16(F.sample16(x, y, c)) })
    }
    cases.append(PNGCase(file: "png-gray-1-interlaced.png", layout: .gray) { x, y, c in
        F.expanded(F.sample(x, y, c, bits: 1), bits: 1)
    })
    cases.append(PNGCase(file: "png-gray-4-interlaced.png", layout: .gray) { x, y, c in
        F.expanded(F.sample(x, y, c, bits: 4), bits: 4)
    })
    cases.append(PNGCase(file: "png-rgba-8-interlaced.png", layout: .rgba) { x, y, c in UInt8(F.sample(x, y, c, bits: 8)) })
    cases.append(PNGCase(file: "png-rgb-16-interlaced.png", layout: .rgb) { x, y, c in F.rounded16(F.sample16(x, y, c)) })
    cases.append(PNGCase(file: "png-palette-2-interlaced.png", layout: .rgb) { x, y, c in
        F.paletteEntry(F.sample(x, y, 0, bits: 2))[c]
    })
    for bits in [1, 2, 4, 8] {
        cases.append(PNGCase(file: "png-palette-\(bits).png", layout: .rgb) { x, y, c in
            F.paletteEntry(F.sample(x, y, 0, bits: bits))[c]
        })
    }
    // tRNS with 100 entries for a 256-entry palette: the rest are opaque.
    cases.append(PNGCase(file: "png-palette-8-trns.png", layout: .rgba) { x, y, c in
        let index = F.sample(x, y, 0, bits: 8)
        return c < 3 ? F.paletteEntry(index)[c] : (index < 100 ? F.paletteAlpha(index) : 255)
    })
    cases.append(PNGCase(file: "png-palette-4-trns.png", layout: .rgba) { x, y, c in
        let index = F.sample(x, y, 0, bits: 4)
        return c < 3 ? F.paletteEntry(index)[c] : F.paletteAlpha(index)
    })
    // Colour keys: gray 40 and RGB (40, 47, 54) are fully transparent, all else opaque.
    cases.append(PNGCase(file: "png-gray-8-trns.png", layout: .grayAlpha) { x, y, c in
        let v = F.sample(x, y, 0, bits: 8)
        return c == 0 ? UInt8(v) : (v == 40 ? 0 : 255)
    })
    cases.append(PNGCase(file: "png-rgb-8-trns.png", layout: .rgba) { x, y, c in
        let v = (0..<3).map { F.sample(x, y, $0, bits: 8) }
        return c < 3 ? UInt8(v[c]) : (v == [40, 47, 54] ? 0 : 255)
    })
    // gAMA and iCCP present: samples pass through untouched.
    cases.append(PNGCase(file: "png-rgb-8-gamma.png", layout: .rgb) { x, y, c in UInt8(F.sample(x, y, c, bits: 8)) })
    // eXIf orientation 6 (big-endian TIFF): stored transposed-and-flipped, decoded upright.
    cases.append(PNGCase(file: "png-rgb-8-exif6.png", layout: .rgb) { x, y, c in UInt8(F.sample(x, y, c, bits: 8)) })
    cases.append(PNGCase(file: "png-gray-16-exif7.png", layout: .gray) { x, y, c in F.rounded16(F.sample16(x, y, c)) })
    // APNG: the default image, not the second frame (which is the inverse).
    cases.append(PNGCase(file: "png-apng.png", layout: .rgba) { x, y, c in UInt8(F.sample(x, y, c, bits: 8)) })
    return cases
}()

@Suite("PNG decoding")
struct PNGDecodingTests {
    @Test("every pixel of the fixture", arguments: pngCases)
    func decodesEveryPixel(_ testCase: PNGCase) throws {
        let image = try Image(contentsOf: F.url(testCase.file))
        #expect(image.width == F.width && image.height == F.height)
        #expect(image.layout == testCase.layout)
        guard image.layout == testCase.layout, image.width == F.width, image.height == F.height else { return }
        var mismatches = [String]()
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<image.channelCount where image[x, y, c] != testCase.expected(x, y, c) {
                    mismatches.append("(\(x), \(y), \(c)): \(image[x, y, c]) != \(testCase.expected(x, y, c))")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
    }

    @Test("bytes and file decode alike", arguments: ["png-rgba-8.png", "png-palette-4-trns.png", "jpeg-gray.jpg"])
    func bytesMatchFile(_ file: String) throws {
        let fromFile = try Image(contentsOfFile: F.url(file).path)
        let bytes = try F.bytes(file)
        #expect(try Image(decoding: bytes) == fromFile)
        #expect(try Image(decoding: Data(bytes)) == fromFile)
        #expect(try Image(decoding: bytes[...]) == fromFile)  // an ArraySlice
    }

    @Test("colour keys and partial tRNS produce both transparent and opaque pixels")
    func transparencyIsExercised() throws {
        for file in ["png-gray-8-trns.png", "png-rgb-8-trns.png", "png-palette-8-trns.png"] {
            let image = try Image(contentsOf: F.url(file))
            let alpha = image.channel(image.channelCount - 1).packedComponents
            #expect(alpha.contains(0) || alpha.contains { $0 != 255 }, "\(file) has no transparency")
            #expect(alpha.contains(255), "\(file) has no opaque pixel")
        }
    }

    @Test("16-bit into FloatImage keeps every bit", arguments: [
        ("png-gray-16.png", PixelLayout.gray), ("png-grayalpha-16.png", .grayAlpha),
        ("png-rgb-16.png", .rgb), ("png-rgba-16.png", .rgba), ("png-rgb-16-interlaced.png", .rgb),
    ])
    func sixteenBitFloat(_ file: String, _ layout: PixelLayout) throws {
        let image = try FloatImage(contentsOf: F.url(file))
        #expect(image.layout == layout)
        var worst: Float = 0
        var distinct = Set<Float>()
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<image.channelCount {
                    let expected = Float(F.sample16(x, y, c)) / 65535
                    worst = max(worst, abs(image[x, y, c] - expected))
                    distinct.insert(image[x, y, c])
                }
            }
        }
        // Float has 24 bits of mantissa: v / 65535 is represented to well under 1e-7.
        #expect(worst < 1e-7)
        // More distinct values than 8 bits could hold would be lost in an 8-bit decode.
        #expect(distinct.count > 256 || image.channelCount == 1)
    }

    @Test("eXIf orientation: applied to float decodes, skipped on request, reported by ImageInfo")
    func exifOrientation() throws {
        let deep = try FloatImage(contentsOf: F.url("png-gray-16-exif7.png"))
        #expect(deep.width == F.width && deep.height == F.height)
        #expect(abs(deep[5, 3, 0] - Float(F.sample16(5, 3, 0)) / 65535) < 1e-7)
        let stored = try Image(contentsOf: F.url("png-rgb-8-exif6.png"), options: DecodingOptions(appliesOrientation: false))
        #expect(stored.width == F.height && stored.height == F.width)
        #expect(stored.applyingOrientation(.right) == (try Image(contentsOf: F.url("png-rgb-8-exif6.png"))))
        let info = try ImageInfo(contentsOf: F.url("png-rgb-8-exif6.png"))
        #expect(info.orientation == .right && info.uprightWidth == F.width && info.uprightHeight == F.height)
    }

    @Test("8-bit files into FloatImage are v / 255")
    func eightBitFloat() throws {
        let image = try FloatImage(contentsOf: F.url("png-rgba-8.png"))
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<4 {
                    #expect(abs(image[x, y, c] - Float(F.sample(x, y, c, bits: 8)) / 255) < 1e-6)
                }
            }
        }
    }

    @Test("concurrent decodes give the serial results")
    func concurrent() async throws {
        let files = pngCases.map(\.file) + ["jpeg-rgb-progressive.jpg", "jpeg-cmyk-adobe.jpg", "bad-crc.png", "bad-huffman.jpg"]
        func decode(_ file: String) -> String {
            do { return "\(try Image(contentsOf: F.url(file)).packedComponents.hashValue)" } catch { return "\(error)" }
        }
        let serial = files.map(decode)
        let parallel = await withTaskGroup(of: (Int, String).self) { group in
            for _ in 0..<4 {
                for (index, file) in files.enumerated() { group.addTask { (index, decode(file)) } }
            }
            var results = [Int: [String]]()
            for await (index, result) in group { results[index, default: []].append(result) }
            return results
        }
        for (index, file) in files.enumerated() {
            #expect(parallel[index] == Array(repeating: serial[index], count: 4), "\(file)")
        }
    }

    @Test("header-only info")
    func info() throws {
        let info = try ImageInfo(contentsOf: F.url("png-rgba-16.png"))
        #expect(info == ImageInfo(format: .png, width: 13, height: 11, orientation: .up))
        #expect(try ImageInfo(decoding: F.bytes("jpeg-gray.jpg")).format == .jpeg)
    }

    @Test("format sniffing ignores the file name")
    func sniffing() throws {
        #expect(ImageFormat(sniffing: try F.bytes("png-gray-1.png")) == .png)
        #expect(ImageFormat(sniffing: try F.bytes("jpeg-gray.jpg")) == .jpeg)
        #expect(ImageFormat(sniffing: try F.bytes("bad-text.png")) == nil)
        #expect(ImageFormat(sniffing: [UInt8]()) == nil)
        #expect(ImageFormat(sniffing: [0x89, 0x50, 0x4E]) == nil)
        // A JPEG saved under a .png name decodes as JPEG.
        let folder = try TemporaryFolder()
        let misnamed = folder.path("photo.png")
        try Data(F.bytes("jpeg-gray.jpg")).write(to: URL(fileURLWithPath: misnamed))
        #expect(try Image(contentsOfFile: misnamed).layout == .gray)
    }
}

/// A fresh folder under the system temporary folder, removed when the value is released.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mattingkit-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    var contents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path).sorted()) ?? [] }

    deinit { try? FileManager.default.removeItem(at: url) }
}
