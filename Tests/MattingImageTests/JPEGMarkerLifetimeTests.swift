import CJPEG
import Foundation
import Testing
@testable import MattingImage

#if canImport(Glibc)
import Glibc
#endif

/// Regression test for a use-after-free fixed in the fuzzing branch: the shim handed out
/// pointers into libjpeg's saved-marker memory, which `jpeg_finish_decompress` frees, and the
/// EXIF orientation was read after the pixels. Under AddressSanitizer that is a report; here,
/// without it, the freed memory is handed out again by `malloc` and overwritten before the
/// markers are read back, so a dangling pointer shows up as changed bytes.
@Suite("CJPEG: saved markers outlive decoding")
struct JPEGMarkerLifetimeTests {
    /// An APP1 EXIF segment (orientation 6, little-endian) padded with a recognisable filler,
    /// so that its pool block is large and its bytes distinctive.
    static func exifPayload(padding: Int) -> [UInt8] {
        var tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0]
        tiff += [0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]      // Orientation = 6
        tiff += [0, 0, 0, 0]                                  // no IFD1
        return Array("Exif\0\0".utf8) + tiff + (0..<padding).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    }

    @Test func exifAndICCBytesSurviveTheEndOfDecoding() throws {
        let payload = Self.exifPayload(padding: 30_000)
        let profile = try ColorProfile(iccData: try F.bytes("icc-srgb.icc"))
        var photo = Image(width: 64, height: 48, layout: .rgb) { x, y, c in UInt8((x * 3 + y * 5 + c * 40) & 255) }
        photo.colorProfile = profile
        let jpeg = try photo.encoded(as: .jpeg)
        let segment = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 255)] + payload
        let bytes = Array(jpeg[0..<2]) + segment + Array(jpeg[2...])

        try bytes.withUnsafeBufferPointer { data in
            let decoder = try #require(cjpeg_decoder_create(data.baseAddress, data.count, 0))
            defer { cjpeg_decoder_destroy(decoder) }
            #expect(cjpeg_decoder_status(decoder) == CJPEG_OK)
            #expect(cjpeg_decoder_start(decoder, 8) == CJPEG_OK)
            var pixels = [UInt8](repeating: 0, count: 64 * 48 * 3)
            // Reads every row, then jpeg_finish_decompress frees libjpeg's image pool.
            #expect(cjpeg_decoder_read(decoder, &pixels, 64 * 3) == CJPEG_OK)
            // Take the freed memory back and scribble over it.
            var blocks: [UnsafeMutableRawPointer] = []
            for _ in 0..<16 {
                for size in [payload.count, payload.count + 64, 4096, 65_536, profile.data.count + 64] {
                    if let block = malloc(size) {
                        memset(block, 0xA5, size)
                        blocks.append(block)
                    }
                }
            }
            defer { for block in blocks { free(block) } }
            var size = 0
            let exif = try #require(cjpeg_decoder_exif(decoder, &size))
            #expect(Array(UnsafeBufferPointer(start: exif, count: size)) == payload)
            #expect(JPEGCodec.orientation(decoder) == ImageOrientation(rawValue: 6))
            let (read, _) = JPEGCodec.colorProfile(decoder, layout: .rgb, source: "test")
            #expect(read == profile)
        }
    }
}
