import Foundation
import Testing
@testable import MattingImage
import MattingTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `OrientationSpill` and `MirroredRowReader`: a file with an EXIF orientation read upright,
/// a band of rows at a time, must give exactly the rows of the whole-picture decoder (which
/// applies the orientation with `applyingOrientation`).
@Suite("Orientation spill")
struct OrientationSpillTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let orientation: Int, format: ImageFormat, layout: PixelLayout, width: Int, height: Int, tileSide: Int
        var testDescription: String { "orientation \(orientation) \(format) \(layout) \(width)×\(height) tiles \(tileSide)" }
    }

    /// Every orientation; sizes that are no multiple of the tile side either way (partial tiles
    /// at the right and bottom, a short first or last strip), one that is, and one smaller
    /// than a tile.
    static let cases: [Case] = (1...8).flatMap { o in
        [Case(orientation: o, format: .png, layout: .rgb, width: 37, height: 23, tileSide: 8),
         Case(orientation: o, format: .png, layout: .rgba, width: 32, height: 16, tileSide: 8),
         Case(orientation: o, format: .jpeg, layout: .gray, width: 45, height: 61, tileSide: 16),
         Case(orientation: o, format: .jpeg, layout: .rgb, width: 5, height: 3, tileSide: 8)]
    }

    /// Seeded noise, so every pixel differs from its neighbours and a misplaced one shows.
    static func picture(_ c: Case) -> Image {
        var generator = SeededGenerator(seed: UInt64(c.orientation * 1000 + c.width))
        let bytes = (0..<(c.width * c.height * c.layout.channelCount)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Image(width: c.width, height: c.height, layout: c.layout) { x, y, ch in
            bytes[(y * c.width + x) * c.layout.channelCount + ch]
        }
    }

    /// The upright rows, read in batches of varying sizes (1, 2, 3, … rows).
    static func readAll(_ source: any ImageRowSource) throws -> Image {
        var result = Image(width: source.width, height: source.height, layout: source.layout)
        var band = Image(width: source.width, height: source.height, layout: source.layout)
        var y = 0, count = 1
        while y < source.height {
            let n = min(count, source.height - y)
            try source.readRows(n, into: &band)
            band.withUnsafeBufferPointer { src, stride in
                result.withUnsafeMutableBufferPointer { dst, dstStride in
                    for i in 0..<n { (dst + (y + i) * dstStride).update(from: src + i * stride, count: source.width * source.layout.channelCount) }
                }
            }
            y += n
            count += 1
        }
        return result
    }

    @Test(arguments: cases)
    func uprightRowsMatchTheWholeDecoder(_ c: Case) throws {
        let folder = try TemporaryFolder()
        let path = folder.path(c.format == .png ? "photo.png" : "photo.jpg")
        try Data(try OrientedFiles.file(Self.picture(c), orientation: c.orientation, format: c.format,
                                        options: .init(jpegQuality: 90))).write(to: URL(fileURLWithPath: path))
        let whole = try Image(contentsOfFile: path)
        let reader = try ImageRowReader(path: path)
        #expect(reader.orientation.rawValue == c.orientation)
        #expect(whole.width == c.width && whole.height == c.height)
        switch reader.orientation {
        case .up:
            #expect(try Self.readAll(reader) == whole)
        case .upMirrored:
            #expect(try Self.readAll(MirroredRowReader(reader)) == whole)
        default:
            let spillFolder = try TemporaryFolder()
            let spill = try OrientationSpill(reader, directory: spillFolder.url.path, tileSide: c.tileSide)
            #expect(spill.width == c.width && spill.height == c.height)
            var strips = 0
            while try spill.spillNextStrip() { strips += 1 }
            #expect(spill.fraction == 1)
            // Read twice (as the strip path's two passes do), each from the top.
            #expect(try Self.readAll(spill.makeReader()) == whole)
            #expect(try Self.readAll(spill.makeReader()) == whole)
            // The spill file has no name in the folder, during or after.
            #expect(spillFolder.contents.isEmpty, "\(spillFolder.contents)")
        }
    }

    /// The spill file lives only as long as the spill: an open descriptor to an unnamed
    /// (deleted or O_TMPFILE) file in the folder while it exists, none after.
    @Test func spillFileIsUnnamedAndClosedAfterwards() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("photo.png")
        let c = Case(orientation: 6, format: .png, layout: .rgb, width: 40, height: 30, tileSide: 8)
        try Data(try OrientedFiles.file(Self.picture(c), orientation: 6, format: .png)).write(to: URL(fileURLWithPath: path))
        let spillFolder = try TemporaryFolder()
        func openSpills() -> [String] { Self.openFiles().filter { $0.hasPrefix(spillFolder.url.path + "/") } }
        do {
            let spill = try OrientationSpill(try ImageRowReader(path: path), directory: spillFolder.url.path)
            while try spill.spillNextStrip() {}
            let open = openSpills()
            #expect(open.count == 1 && open.allSatisfy { $0.hasSuffix("(deleted)") }, "\(open)")
            #expect(spillFolder.contents.isEmpty, "\(spillFolder.contents)")
        }
        #expect(openSpills().isEmpty, "\(openSpills())")
    }

    /// Where this process's open descriptors lead (Linux: /proc/self/fd).
    static func openFiles() -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
    }

    /// No folder for the spill: a typed error that names the input and says what failed.
    @Test func missingFolderNamesTheInputAndTheSpill() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("turned.jpg")
        let c = Case(orientation: 8, format: .jpeg, layout: .rgb, width: 20, height: 10, tileSide: 8)
        try Data(try OrientedFiles.file(Self.picture(c), orientation: 8, format: .jpeg)).write(to: URL(fileURLWithPath: path))
        let missing = folder.path("no-such-folder")
        let error = try #require(throws: ImageError.self) {
            _ = try OrientationSpill(try ImageRowReader(path: path), directory: missing)
        }
        guard case let .spill(named, directory, action, detail) = error else { Issue.record("\(error)"); return }
        #expect(named == path && directory == missing && action == "create")
        #expect(detail.contains("No such file"), "\(detail)")
        let text = error.description
        #expect(text.hasPrefix(path + ": ") && text.contains("temporary spill file") && text.contains(missing), "\(text)")
    }
}
