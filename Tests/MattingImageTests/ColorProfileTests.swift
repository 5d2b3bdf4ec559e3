import Foundation
import Testing
import CPNG
@testable import MattingImage

/// ICC profiles (issue 15): read from JPEG APP2 and PNG iCCP, kept with the picture, written
/// back byte for byte. Fixtures from Scripts/make-codec-fixtures.py (Pillow 13.0.0 writes them,
/// with Little CMS 2.19's sRGB profile; the padded one spans three APP2 markers).
@Suite("Colour profiles")
struct ColorProfileTests {
    static let srgb = (try? F.bytes("icc-srgb.icc")) ?? []
    static let padded = (try? F.bytes("icc-srgb-padded.icc")) ?? []

    @Test("Pillow's profiles are read byte for byte from JPEG (one marker, three markers) and PNG",
          arguments: [("jpeg-icc-srgb.jpg", "icc-srgb.icc"), ("jpeg-icc-split.jpg", "icc-srgb-padded.icc"),
                      ("png-icc-srgb.png", "icc-srgb.icc")])
    func reads(_ file: String, _ profile: String) throws {
        let expected = try F.bytes(profile)
        #expect(expected.count > 500)
        let decoded = try Image.decode(contentsOfFile: F.url(file).path)
        #expect(decoded.warnings.isEmpty, "\(decoded.warnings)")
        #expect(decoded.image.colorProfile?.data == expected)
        #expect(decoded.image.colorProfile?.colorSpace == .rgb)
        #expect(try FloatImage(contentsOfFile: F.url(file).path).colorProfile?.data == expected)
    }

    @Test("round trip: the profile read from a JPEG is written into PNG and JPEG outputs and read back identical",
          arguments: ["jpeg-icc-srgb.jpg", "jpeg-icc-split.jpg"])
    func roundTrip(_ file: String) throws {
        let photo = try Image(contentsOfFile: F.url(file).path)
        let profile = try #require(photo.colorProfile)
        let folder = try TemporaryFolder()
        for (name, format) in [("out.png", ImageFormat.png), ("out.jpg", .jpeg)] {
            let path = folder.path(name)
            try photo.write(toFile: path, format: format)
            let back = try Image.decode(contentsOfFile: path)
            #expect(back.warnings.isEmpty)
            #expect(back.image.colorProfile?.data == profile.data, "\(name)")
            #expect(back.image.width == photo.width && back.image.height == photo.height)
        }
        // The cut-out path (RGB + alpha interleaved while deflating) writes it too.
        let alpha = Image(width: photo.width, height: photo.height, layout: .gray, repeating: 200)
        let cutout = try photo.encodedPNG(withAlpha: alpha)
        #expect(try Image(decoding: cutout).colorProfile == profile)
        // And the libpng encoder (other filters): the same iCCP chunk, libpng reads it back.
        let other = try PNGCodec.inserting(profile, into: PNGCodec.encode(photo, compressionLevel: 6, destination: "x", threads: nil),
                                           destination: "x")
        #expect(try Image(decoding: other).colorProfile == profile)
    }

    @Test("a profile over 65,519 bytes is written as numbered APP2 markers of at most 65,519 profile bytes")
    func jpegMarkerSplit() throws {
        let profile = try ColorProfile(iccData: Self.padded)
        var image = Image(width: 8, height: 8, layout: .rgb, repeating: 90)
        image.colorProfile = profile
        let jpeg = try image.encoded(as: .jpeg)
        var position = 2, pieces: [(Int, Int, Int)] = []
        while position + 4 <= jpeg.count, jpeg[position] == 0xFF, jpeg[position + 1] != 0xDA {
            let length = Int(jpeg[position + 2]) << 8 | Int(jpeg[position + 3])
            if jpeg[position + 1] == 0xE2 { pieces.append((Int(jpeg[position + 16]), Int(jpeg[position + 17]), length - 16)) }
            position += 2 + length
        }
        #expect(pieces.map(\.0) == [1, 2, 3] && pieces.allSatisfy { $0.1 == 3 })
        #expect(pieces.map(\.2) == [65_519, 65_519, Self.padded.count - 2 * 65_519])
    }

    @Test("crops, resizes, orientation, alpha and storage changes keep the profile; colour↔gray drops it")
    func operationsKeepIt() throws {
        let photo = try Image(contentsOfFile: F.url("jpeg-icc-srgb.jpg").path)
        let profile = try #require(photo.colorProfile)
        let kept: [(String, ColorProfile?)] = [
            ("crop", photo.cropped(to: ImageRect(x: 1, y: 2, width: 5, height: 6)).colorProfile),
            ("resize", photo.resized(width: 10, height: 7).colorProfile),
            ("rotate", photo.rotatedClockwise().colorProfile),
            ("orientation", photo.applyingOrientation(.left).colorProfile),
            ("rgba", photo.converted(to: .rgba).colorProfile),
            ("float", photo.converted(to: FloatImage.self).colorProfile),
            ("flatten", photo.converted(to: .rgba).flattened(over: .white).colorProfile),
            ("enhance", try Enhancement().applied(to: photo).colorProfile),
        ]
        for (name, value) in kept { #expect(value == profile, "\(name)") }
        #expect(photo.converted(to: .gray).colorProfile == nil)
        #expect(photo.channel(1).colorProfile == nil)
        // Pixels decide equality, not the profile.
        var untagged = photo
        untagged.colorProfile = nil
        #expect(untagged == photo)
    }

    @Test("a gray JPEG with an RGB profile decodes, without the profile, and says why")
    func mismatchedProfileIsDropped() throws {
        let path = F.url("jpeg-icc-mismatch.jpg").path
        let decoded = try Image.decode(contentsOfFile: path)
        #expect(decoded.image.layout == .gray && decoded.image.colorProfile == nil)
        #expect(decoded.warnings == [DecodingWarning(
            kind: .colorProfileDropped, source: path,
            detail: "ICC profile dropped: it describes RGB pixels, the decoded picture is gray")])
    }

    /// `jpeg` with its APP2 markers replaced by `markers` (each a complete payload).
    static func replacingAPP2(in jpeg: [UInt8], with markers: [[UInt8]]) -> [UInt8] {
        var out = Array(jpeg[0..<2]), position = 2
        while jpeg[position] == 0xFF, jpeg[position + 1] != 0xDA {
            let length = Int(jpeg[position + 2]) << 8 | Int(jpeg[position + 3])
            if jpeg[position + 1] != 0xE2 { out += jpeg[position..<(position + 2 + length)] }
            position += 2 + length
        }
        for payload in markers { out += [0xFF, 0xE2, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload }
        return out + jpeg[position...]
    }

    static func piece(_ sequence: Int, of count: Int, _ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array("ICC_PROFILE\0".utf8) + [UInt8(sequence), UInt8(count)] + bytes
    }

    @Test("malformed APP2 sequences drop the profile with a warning; the pixels still decode")
    func malformedJPEGSequences() throws {
        let jpeg = try F.bytes("jpeg-icc-split.jpg")
        let pixels = try Image(decoding: jpeg)
        let p = Self.padded
        let parts = [p[0..<65_519], p[65_519..<131_038], p[131_038...]]
        let cases: [(String, [[UInt8]], String?)] = [
            ("in order", [Self.piece(1, of: 3, parts[0]), Self.piece(2, of: 3, parts[1]), Self.piece(3, of: 3, parts[2])], nil),
            ("shuffled", [Self.piece(3, of: 3, parts[2]), Self.piece(1, of: 3, parts[0]), Self.piece(2, of: 3, parts[1])], nil),
            ("missing", [Self.piece(1, of: 3, parts[0]), Self.piece(3, of: 3, parts[2])], "2 APP2 ICC_PROFILE markers, but they announce 3"),
            ("duplicate", [Self.piece(1, of: 3, parts[0]), Self.piece(1, of: 3, parts[1]), Self.piece(3, of: 3, parts[2])],
             "APP2 ICC_PROFILE markers numbered wrongly (marker 1 of 3)"),
            ("zero", [Self.piece(0, of: 1, parts[0])], "APP2 ICC_PROFILE markers numbered wrongly (marker 0 of 1)"),
            ("truncated", [Self.piece(1, of: 2, parts[0]), Self.piece(2, of: 2, parts[1])],
             "the header says 150612 bytes, the data has 131038"),
        ]
        for (name, markers, problem) in cases {
            let decoded = try Image.decode(bytes: Self.replacingAPP2(in: jpeg, with: markers))
            #expect(decoded.image == pixels, "\(name)")
            if let problem {
                #expect(decoded.image.colorProfile == nil, "\(name)")
                #expect(decoded.warnings.map(\.detail) == ["ICC profile dropped: " + problem], "\(name)")
                #expect(decoded.warnings.first?.kind == .colorProfileDropped && decoded.warnings.first?.source == "<memory>")
            } else {
                #expect(decoded.image.colorProfile?.data == p && decoded.warnings.isEmpty, "\(name)")
            }
        }
    }

    @Test("a profile over the 4 MiB limit is dropped with a warning")
    func oversizedProfile() throws {
        // A well-formed header declaring 4 MiB + 4 bytes, in 65 markers.
        var big = [UInt8](repeating: 0, count: ColorProfile.maximumByteCount + 4)
        big[0..<4] = [UInt8(big.count >> 24), UInt8(big.count >> 16 & 0xFF), UInt8(big.count >> 8 & 0xFF), UInt8(big.count & 0xFF)]
        big[16..<20] = ArraySlice("RGB ".utf8)
        big[36..<40] = ArraySlice("acsp".utf8)
        #expect(throws: ImageError.invalidArgument("ICC profile: 4194308 bytes is over the limit of 4194304")) {
            try ColorProfile(iccData: big)
        }
        let pieces = stride(from: 0, to: big.count, by: 65_519).map { big[$0..<min($0 + 65_519, big.count)] }
        let markers = pieces.enumerated().map { Self.piece($0.offset + 1, of: pieces.count, $0.element) }
        let decoded = try Image.decode(bytes: Self.replacingAPP2(in: F.bytes("jpeg-rgb-baseline.jpg"), with: markers))
        #expect(decoded.image.colorProfile == nil)
        #expect(decoded.warnings.map(\.detail) == ["ICC profile dropped: 4194308 bytes is over the limit of 4194304"])
    }

    @Test("ColorProfile refuses malformed data", arguments: [
        (0, "0 bytes is shorter than the 132-byte header and tag count"),
        (1, "the header says 588 bytes, the data has 587"),
        (2, "no 'acsp' signature"),
        (3, "its tag table (1000 tags) runs past the end"),
        (4, "tag 0 (4294967295 + 20 bytes) lies outside the profile"),
    ])
    func malformedProfiles(_ damage: Int, _ message: String) throws {
        var bytes = Self.srgb
        switch damage {
        case 0: bytes = []
        case 1: bytes.removeLast()
        case 2: bytes[36] = 0x41
        case 3: bytes[128..<132] = [0, 0, 0x03, 0xE8]
        default: bytes[136..<140] = [0xFF, 0xFF, 0xFF, 0xFF]
        }
        if damage == 4 { bytes[140..<144] = [0, 0, 0, 20] }
        #expect(throws: ImageError.invalidArgument("ICC profile: " + message)) { try ColorProfile(iccData: bytes) }
    }

    @Test("a damaged iCCP chunk: libpng drops it, the warning says so, the pixels decode")
    func damagedPNGProfile() throws {
        let png = try F.bytes("png-icc-srgb.png")
        // A re-made iCCP chunk (valid CRC, so only the profile check can object) whose
        // profile has lost its 'acsp' signature.
        var profile = Self.srgb
        profile[36] = 0x41
        let start = 33, length = Int(png[33]) << 24 | Int(png[34]) << 16 | Int(png[35]) << 8 | Int(png[36])
        #expect(png[37..<41].elementsEqual("iCCP".utf8))
        let deflated = try #require(Self.iccpChunk(profile))
        let damaged = Array(png[..<start]) + deflated + png[(start + 12 + length)...]
        let decoded = try Image.decode(bytes: damaged)
        #expect(decoded.image == (try Image(decoding: png)))
        #expect(decoded.image.colorProfile == nil)
        #expect(decoded.warnings.count == 1 && decoded.warnings[0].kind == .colorProfileDropped, "\(decoded.warnings)")
        #expect(decoded.warnings.first?.detail.hasPrefix("ICC profile dropped: iCCP") == true, "\(decoded.warnings)")
    }

    /// An iCCP chunk for `profile` made by the shim, which does not validate it.
    static func iccpChunk(_ profile: [UInt8]) -> [UInt8]? {
        var size = 0
        var chunk: UnsafeMutablePointer<UInt8>?
        let status = profile.withUnsafeBufferPointer { cpng_make_iccp_chunk($0.baseAddress, $0.count, &chunk, &size) }
        guard status == CPNG_OK, let chunk else { return nil }
        defer { cpng_free(chunk) }
        return Array(UnsafeBufferPointer(start: chunk, count: size))
    }

    @Test("writing a profile for other pixels is refused; writesColorProfile = false leaves it out")
    func encodingChecks() throws {
        var gray = Image(width: 4, height: 4, layout: .gray)
        gray.colorProfile = try ColorProfile(iccData: Self.srgb)
        #expect(throws: ImageError.unsupportedEncoding(
            destination: "<memory>", detail: "the colour profile describes RGB pixels, this picture is gray")) {
            try gray.encoded(as: .png)
        }
        var options = EncodingOptions()
        options.writesColorProfile = false
        #expect(try Image(decoding: gray.encoded(as: .png, options: options)).colorProfile == nil)
        #expect(try Image(decoding: gray.encoded(as: .jpeg, options: options)).colorProfile == nil)
    }
}
