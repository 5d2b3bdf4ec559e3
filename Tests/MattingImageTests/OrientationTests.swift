import Foundation
import Testing
@testable import MattingImage
import MattingTestSupport

/// An APP1 EXIF segment holding only an Orientation tag, in either byte order.
private func exifSegment(orientation: Int, bigEndian: Bool) -> [UInt8] {
    func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 255)] : [UInt8(v & 255), UInt8(v >> 8)] }
    func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
    var tiff: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
    tiff += u16(42) + u32(8)                                        // header, IFD0 at 8
    tiff += u16(2)                                                  // two entries
    tiff += u16(0x010F) + u16(2) + u32(4) + Array("Cam\0".utf8)      // Make (ASCII, inline)
    tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
    tiff += u32(0)                                                  // no IFD1
    let payload = Array("Exif\0\0".utf8) + tiff
    let length = payload.count + 2
    return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 255)] + payload
}

/// `jpeg` with `segment` inserted right after SOI.
private func inserting(_ segment: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
    Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
}

@Suite("EXIF orientation")
struct OrientationTests {
    /// 3×2 with all values distinct: every one of the eight transforms gives a different picture.
    static let small = Image(width: 3, height: 2, layout: .rgb) { x, y, c in UInt8(100 * c + 10 * y + x) }

    @Test("applyingOrientation undoes each stored orientation", arguments: 1...8)
    func transforms(_ o: Int) throws {
        let orientation = try #require(ImageOrientation(rawValue: o))
        let upright = Self.small.applyingOrientation(orientation)
        #expect(OrientedFiles.stored(Self.small, orientation: o).applyingOrientation(orientation) == Self.small)
        #expect(upright.width == (o >= 5 ? 2 : 3))
        // Each orientation's fix is a different picture (so none can stand in for another).
        let all = (1...8).compactMap { ImageOrientation(rawValue: $0) }.map { OrientedFiles.stored(Self.small, orientation: $0.rawValue) }
        #expect(Set(all.map(\.packedComponents)).count == 8)
    }

    /// A 4×3-block gray picture (16×16 blocks, 12 distinct levels): JPEG at quality 100
    /// reproduces flat, MCU-aligned blocks exactly, so the check can be pixel-exact.
    static let blocks = Image(width: 64, height: 48, layout: .gray) { x, y, _ in UInt8(20 + 19 * (x / 16 + 4 * (y / 16))) }

    @Test("JPEG with EXIF orientation decodes upright", arguments: 1...8, [false, true])
    func jpegUpright(_ o: Int, _ bigEndian: Bool) throws {
        let file = try OrientedFiles.stored(Self.blocks, orientation: o).encoded(as: .jpeg, options: .init(jpegQuality: 100))
        let bytes = inserting(exifSegment(orientation: o, bigEndian: bigEndian), into: file)
        let image = try Image(decoding: bytes)
        #expect(image == Self.blocks)
        let info = try ImageInfo(decoding: bytes)
        #expect(info.orientation.rawValue == o)
        #expect(info.uprightWidth == 64 && info.uprightHeight == 48)
        // Without orientation: the stored pixels.
        let raw = try Image(decoding: bytes, options: DecodingOptions(appliesOrientation: false))
        #expect(raw == OrientedFiles.stored(Self.blocks, orientation: o))
    }

    @Test("orientation and reduced-size decoding combine")
    func orientedAndReduced() throws {
        // Stored 48×64 with orientation 6 (upright 64×48); 1/2 scale keeps the long side ≥ 32.
        let file = try OrientedFiles.stored(Self.blocks, orientation: 6).encoded(as: .jpeg, options: .init(jpegQuality: 100))
        let bytes = inserting(exifSegment(orientation: 6, bigEndian: false), into: file)
        let image = try Image(decoding: bytes, options: DecodingOptions(reducedSize: .longSide(atLeast: 32)))
        #expect(image.width == 32 && image.height == 24)
        // Each 16×16 block became 8×8 and sits where the upright picture has it.
        for by in 0..<3 {
            for bx in 0..<4 {
                #expect(abs(Int(image[bx * 8 + 4, by * 8 + 4, 0]) - Int(Self.blocks[bx * 16 + 8, by * 16 + 8, 0])) <= 1)
            }
        }
    }

    @Test("ImageInfo finds a header that lies past its first read (large APP segments)")
    func infoPastPrefix() throws {
        let file = try OrientedFiles.stored(Self.blocks, orientation: 6).encoded(as: .jpeg)
        let filler: [UInt8] = [0xFF, 0xE2, 0xFF, 0xF0] + [UInt8](repeating: 0x41, count: 0xFFF0 - 2)
        let bytes = inserting(exifSegment(orientation: 6, bigEndian: true) + Array(repeating: filler, count: 6).flatMap { $0 }, into: file)
        #expect(bytes.count > 300_000)
        let folder = try TemporaryFolder()
        try Data(bytes).write(to: folder.url.appendingPathComponent("big.jpg"))
        let info = try ImageInfo(contentsOfFile: folder.path("big.jpg"))
        #expect(info == ImageInfo(format: .jpeg, width: 48, height: 64, orientation: .right))
        #expect(info.uprightWidth == 64 && info.uprightHeight == 48)
        // A truncated file is still reported as truncated.
        try Data(bytes.prefix(290_000)).write(to: folder.url.appendingPathComponent("cut.jpg"))
        let error = try #require(throws: ImageError.self) { try ImageInfo(contentsOfFile: folder.path("cut.jpg")) }
        #expect(ErrorKind(error) == .truncated)
    }

    @Test("malformed EXIF is ignored, never trusted", arguments: [
        Array("Exif\0\0".utf8),                                        // nothing after the prefix
        Array("Exif\0\0".utf8) + [0x49, 0x49, 42, 0, 0xFF, 0xFF, 0xFF, 0x7F],  // IFD far outside
        Array("Exif\0\0".utf8) + [0x49, 0x49, 42, 0, 8, 0, 0, 0, 0xFF, 0xFF],  // 65535 entries, none there
        Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 9, 0, 0],  // value 9
        Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0],  // cut in the value
        Array("Exif\0\0".utf8) + [0x58, 0x58, 0, 42, 0, 0, 0, 8],     // unknown byte order
    ])
    func malformed(_ payload: [UInt8]) throws {
        #expect(payload.withUnsafeBytes { EXIFReader.orientation(in: $0) } == nil)
        let segment = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 255)] + payload
        let bytes = inserting(segment, into: try Self.blocks.encoded(as: .jpeg, options: .init(jpegQuality: 100)))
        #expect(try Image(decoding: bytes) == Self.blocks)
    }
}
