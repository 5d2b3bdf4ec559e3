import Foundation
import Testing
@testable import MattingImage

/// The strip path's writers against the whole-picture encoders: the same bytes, however the
/// rows are handed over and however many threads deflate the bands.
@Suite("Streaming writers")
struct StreamingWriterTests {
    static func pictures(width: Int, height: Int) -> (color: Image, alpha: Image) {
        let color = Image(width: width, height: height, layout: .rgb) { x, y, c in
            UInt8(truncatingIfNeeded: (x * (c + 1) + y * 3) / 4 + ((x &* 7919 &+ y &* 104_729 &+ c) % 5))
        }
        let alpha = Image(width: width, height: height, layout: .gray) { x, y, _ in
            UInt8(truncatingIfNeeded: (x + 2 * y) / 3 + (x &* 31 &+ y) % 3)
        }
        return (color, alpha)
    }

    /// 1000×5300 RGBA is 21 MB: five bands of about 4 MB, more than a two-thread stream holds
    /// (four), so slots are reused; 5300 gray rows are one band. Rows come in uneven batches
    /// that straddle band ends.
    @Test("streamed PNG equals the whole-picture PNG", arguments: [1, 2, 3])
    func streamedPNG(_ threads: Int) throws {
        let (color, alpha) = Self.pictures(width: 1000, height: 5300)
        let dir = try AtomicFileTests.folder()
        let cutoutPath = dir.appendingPathComponent("cutout.png").path, maskPath = dir.appendingPathComponent("mask.png").path
        let cutout = try StreamingPNGWriter(path: cutoutPath, width: 1000, height: 5300, layout: .rgba, colorProfile: nil, threads: threads)
        let mask = try StreamingPNGWriter(path: maskPath, width: 1000, height: 5300, layout: .gray, colorProfile: nil, threads: threads)
        var y = 0, batch = 1
        try color.withUnsafeBufferPointer { c, cStride in
            try alpha.withUnsafeBufferPointer { a, aStride in
                while y < 5300 {
                    let n = min(batch, 5300 - y)
                    try cutout.write(c + y * cStride, stride: cStride, alpha: a + y * aStride, alphaStride: aStride, count: n)
                    try mask.write(a + y * aStride, stride: aStride, count: n)
                    y += n
                    batch = batch * 3 % 701 + 1
                }
            }
        }
        try cutout.finish()
        try mask.finish()
        let expected = try color.encodedPNG(withAlpha: alpha, threads: 2)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: cutoutPath))) == expected, "\(threads) threads")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: maskPath))) == (try alpha.encoded(as: .png)))
        // Not vacuous: the file decodes to the pixels.
        let decoded = try Image(contentsOf: URL(fileURLWithPath: cutoutPath))
        #expect(decoded == color.converted(to: .rgba).replacingChannel(3, with: alpha))
    }

    /// A JPEG written a few rows at a time (batches not aligned to the 16-row MCUs), with a
    /// colour profile: the bytes of encoding the whole picture.
    @Test("streamed JPEG equals the whole-picture JPEG")
    func streamedJPEG() throws {
        var (color, _) = Self.pictures(width: 333, height: 517)
        let profile = try #require(try Image(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/jpeg/corpus/jpeg-icc-srgb.jpg")).colorProfile)
        color.colorProfile = profile
        let path = try AtomicFileTests.folder().appendingPathComponent("cutout.jpg").path
        let writer = try StreamingJPEGWriter(path: path, width: 333, height: 517, layout: .rgb, colorProfile: profile)
        try color.withUnsafeBufferPointer { p, stride in
            var y = 0
            while y < 517 {
                let n = min(7, 517 - y)
                try writer.write(p + y * stride, stride: stride, count: n)
                y += n
            }
        }
        try writer.finish()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes == (try color.encoded(as: .jpeg)))
        #expect(try Image(contentsOf: URL(fileURLWithPath: path)).colorProfile == profile)
    }
}
