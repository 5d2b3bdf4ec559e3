import Foundation
import Testing
@testable import MattingImage
import MattingTestSupport

/// `ImageRowReader` over an interlaced (Adam7) PNG: its passes decoded once into a spill file
/// (`InterlacedPNGSpill`) and each row put together from the passes' rows read back, or, when
/// that file cannot be made or written, one libpng decoder per pass (`InterlacedPNGRows`).
/// Both ways the rows must be exactly the whole-picture decode's, for every colour type and
/// bit depth and for sizes where some passes are empty, and a damaged file must fail with the
/// whole decode's error.
///
/// The files are written by `TestPNG` (the specification's filters and Adam7 layout, no
/// libpng); each interlaced file is first checked against the same samples written without
/// interlacing, so a wrong fixture cannot pass.
@Suite("Interlaced PNG rows")
struct InterlacedRowsTests {
    struct Format: Sendable, CustomTestStringConvertible {
        let colorType: TestPNG.ColorType, bitDepth: Int, transparency: Bool
        var testDescription: String { "\(colorType) \(bitDepth)-bit\(transparency ? " tRNS" : "")" }
    }

    static let formats: [Format] = [1, 2, 4, 8, 16].map { Format(colorType: .gray, bitDepth: $0, transparency: false) } + [
        Format(colorType: .gray, bitDepth: 8, transparency: true),
        Format(colorType: .gray, bitDepth: 16, transparency: true),
        Format(colorType: .grayAlpha, bitDepth: 8, transparency: false),
        Format(colorType: .grayAlpha, bitDepth: 16, transparency: false),
        Format(colorType: .rgb, bitDepth: 8, transparency: false),
        Format(colorType: .rgb, bitDepth: 16, transparency: false),
        Format(colorType: .rgb, bitDepth: 8, transparency: true),
        Format(colorType: .rgba, bitDepth: 8, transparency: false),
        Format(colorType: .rgba, bitDepth: 16, transparency: false),
    ] + [1, 2, 4, 8].flatMap { bits in
        [Format(colorType: .palette, bitDepth: bits, transparency: false), Format(colorType: .palette, bitDepth: bits, transparency: true)]
    }

    /// 1×1 (passes 2–7 empty), one row or one column (only the passes starting at row or
    /// column 0), fewer than 8 rows or columns (passes 2, 3 or 5 empty), and sizes that are no
    /// multiple of 8.
    static let sizes: [(Int, Int)] = [(1, 1), (2, 1), (1, 2), (1, 9), (9, 1), (2, 2), (3, 3), (3, 5), (5, 3), (7, 9), (9, 7),
                                      (4, 4), (6, 6), (13, 11), (33, 17), (64, 8), (8, 64), (17, 65), (71, 37)]

    /// The PNG of seeded samples of `format`, interlaced or not, optionally with an EXIF orientation.
    static func file(_ format: Format, width: Int, height: Int, interlaced: Bool, seed: Int, orientation: Int? = nil) -> [UInt8] {
        var generator = SeededGenerator(seed: UInt64(seed * 7919 + width * 131 + height))
        let isPalette = format.colorType == .palette
        let paletteSize = isPalette ? min(1 << format.bitDepth, 200) : 0
        let top = isPalette ? paletteSize - 1 : (1 << format.bitDepth) - 1
        let samples = (0..<(width * height * format.colorType.samples)).map { _ in UInt16(Int.random(in: 0...top, using: &generator)) }
        let palette = (0..<paletteSize).map { _ in
            (UInt8.random(in: 0...255, using: &generator), UInt8.random(in: 0...255, using: &generator), UInt8.random(in: 0...255, using: &generator))
        }
        var transparency: [UInt8]?
        if format.transparency {
            switch format.colorType {
            // Fewer alphas than entries: the rest are opaque.
            case .palette: transparency = (0..<max(1, paletteSize / 2)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // The first pixel's value, so that some pixels are transparent.
            case .gray: transparency = [UInt8(samples[0] >> 8), UInt8(samples[0] & 255)]
            default: transparency = samples[0..<3].flatMap { [UInt8($0 >> 8), UInt8($0 & 255)] }
            }
        }
        return TestPNG.encode(width: width, height: height, colorType: format.colorType, bitDepth: format.bitDepth,
                              samples: samples, interlaced: interlaced, palette: palette, transparency: transparency,
                              exifOrientation: orientation, idatSize: 97)
    }

    /// The rows, read in batches of 1, 2, 3, … rows (as the spill tests read them).
    static func readAll(_ source: any ImageRowSource) throws -> Image {
        try OrientationSpillTests.readAll(source)
    }

    @Test(arguments: formats)
    func rowsAreTheWholeDecodesForEverySize(_ format: Format) throws {
        let folder = try TemporaryFolder()
        for (seed, (width, height)) in Self.sizes.enumerated() {
            let bytes = Self.file(format, width: width, height: height, interlaced: true, seed: seed)
            let path = folder.path("\(width)x\(height).png")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let whole = try Image(contentsOfFile: path)
            // The fixture: the same samples without interlacing decode to the same picture.
            let plain = try Image(decoding: Self.file(format, width: width, height: height, interlaced: false, seed: seed))
            #expect(whole == plain, "\(width)×\(height): the interlaced fixture is not the plain one's picture")
            #expect(whole.width == width && whole.height == height)

            // Through the pass spill (a few rows a write, so that the writes are many).
            let reader = try ImageRowReader(path: path, temporaryDirectory: folder.url.path)
            reader.passSpillBufferBytes = 3 * width
            #expect(reader.layout == whole.layout && reader.isInterlaced)
            #expect(try Self.readAll(reader) == whole, "\(width)×\(height), file")
            let spill = try #require(reader.passSpill, "\(width)×\(height): not read through the spill")
            #expect(spill.byteCount == width * height * whole.layout.channelCount)
            // Read again, in bands of 8 and 16 upright rows as well as the default.
            for bandRows in [8, 16, 64] {
                #expect(try Self.readAll(spill.makeReader(bandRows: bandRows)) == whole, "\(width)×\(height), bands of \(bandRows)")
            }
            let fromMemory = try bytes.withUnsafeBytes { buffer in
                let reader = try ImageRowReader(bytes: buffer, temporaryDirectory: folder.url.path)
                let rows = try Self.readAll(reader)
                #expect(reader.passSpill != nil)
                return rows
            }
            #expect(fromMemory == whole, "\(width)×\(height), memory")
            // One decoder per pass: no spill folder, or one that cannot be used.
            for directory in [nil, folder.path("no-such-folder")] {
                let passes = try ImageRowReader(path: path, temporaryDirectory: directory)
                #expect(try Self.readAll(passes) == whole, "\(width)×\(height), passes (\(directory ?? "no spill"))")
                #expect(passes.passSpill == nil)
                let passesFromMemory = try bytes.withUnsafeBytes { buffer in
                    try Self.readAll(try ImageRowReader(bytes: buffer, temporaryDirectory: directory))
                }
                #expect(passesFromMemory == whole, "\(width)×\(height), memory, passes")
            }
        }
    }

    /// The spill's writes fail part way (its descriptor made read-only after the first
    /// write): the reader goes on with one decoder per pass, from the first stored row, and
    /// the rows are still the whole decode's; the spill is not kept.
    @Test(arguments: [false, true])
    func spillWriteFailureFallsBackToOneDecoderPerPass(_ fromMemory: Bool) throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgba, bitDepth: 16, transparency: false)
        let bytes = Self.file(format, width: 45, height: 37, interlaced: true, seed: 11)
        let path = folder.path("photo.png")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let whole = try Image(contentsOfFile: path)
        func check(_ reader: ImageRowReader) throws {
            reader.passSpillBufferBytes = 45 * 4 * 3
            #expect(try reader.decodeNextPassRows())
            let fd = try #require(reader.spill?.file.fd)
            let readOnly = open("/dev/null", O_RDONLY | O_CLOEXEC)
            #expect(readOnly >= 0 && dup2(readOnly, fd) == fd)
            close(readOnly)
            #expect(try !reader.decodeNextPassRows(), "the failed write ends the spill")
            #expect(reader.spill == nil && reader.passSpill == nil && reader.passFraction == 1)
            #expect(try Self.readAll(reader) == whole)
        }
        if fromMemory {
            try bytes.withUnsafeBytes { buffer in try check(try ImageRowReader(bytes: buffer, temporaryDirectory: folder.url.path)) }
        } else {
            try check(try ImageRowReader(path: path, temporaryDirectory: folder.url.path))
        }
    }

    /// The spill's progress rises from 0 to 1 over the calls, each writing about the buffer's
    /// bytes; a file that is not interlaced has nothing to decode first.
    @Test func passRowsAreDecodedInSteps() throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgb, bitDepth: 8, transparency: false)
        let path = folder.path("photo.png")
        try Data(Self.file(format, width: 40, height: 40, interlaced: true, seed: 2)).write(to: URL(fileURLWithPath: path))
        let reader = try ImageRowReader(path: path, temporaryDirectory: folder.url.path)
        reader.passSpillBufferBytes = 40 * 3 * 4
        var fractions = [reader.passFraction]
        while try reader.decodeNextPassRows() { fractions.append(reader.passFraction) }
        fractions.append(reader.passFraction)
        #expect(fractions.first == 0 && fractions.last == 1 && fractions == fractions.sorted())
        #expect(fractions.count > 8, "\(fractions)")
        #expect(try Self.readAll(reader) == (try Image(contentsOfFile: path)))
        let plainPath = folder.path("plain.png")
        try Data(Self.file(format, width: 40, height: 40, interlaced: false, seed: 2)).write(to: URL(fileURLWithPath: plainPath))
        let plain = try ImageRowReader(path: plainPath, temporaryDirectory: folder.url.path)
        #expect(try !plain.decodeNextPassRows() && !plain.isInterlaced && plain.passSpill == nil)
    }

    /// `UprightFile` (convert-image, enhance) decodes an interlaced file's passes once and
    /// reads every later reading from them: upright (1), mirrored (2) and turned (6, through
    /// its orientation spill) give the whole decode's picture each time, also once the file
    /// is gone.
    @Test(arguments: [1, 2, 6])
    func uprightFileReadsTheSpilledPassesAgain(_ orientation: Int) throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgb, bitDepth: 8, transparency: false)
        let path = folder.path("photo.png")
        try Data(Self.file(format, width: 29, height: 43, interlaced: true, seed: 4, orientation: orientation == 1 ? nil : orientation))
            .write(to: URL(fileURLWithPath: path))
        let whole = try Image(contentsOfFile: path)
        let file = try UprightFile(path: path, temporaryDirectory: folder.url.path)
        #expect(try file.withRows { try Self.readAll($0) } == whole)
        try FileManager.default.removeItem(atPath: path)
        #expect(try file.withRows { try Self.readAll($0) } == whole, "read again after the file is gone")
    }

    /// `UprightFile` over bytes in memory (an upload, as `Matter`'s strip path reads it): plain
    /// and interlaced PNGs, upright (1), mirrored (2) and turned (6) give the whole decode's
    /// upright picture on every reading; `prepare` reports its work within 0…1, never going
    /// back, and throws what its step throws (as cancellation does).
    @Test(arguments: [false, true], [1, 2, 6])
    func uprightBytesReadLikeTheWholeDecode(_ interlaced: Bool, _ orientation: Int) throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgba, bitDepth: 8, transparency: false)
        let bytes = Self.file(format, width: 31, height: 19, interlaced: interlaced, seed: 5,
                              orientation: orientation == 1 ? nil : orientation)
        let whole = try Image(decoding: bytes)
        let upright = try UprightFile(bytes: bytes, temporaryDirectory: folder.url.path)
        #expect(upright.name == "<memory>" && upright.isInterlaced == interlaced)
        #expect(upright.width == whole.width && upright.height == whole.height && upright.layout == whole.layout)
        #expect(upright.preparationParts == (interlaced ? 1 : 0) + (orientation == 6 ? 1 : 0))
        var steps: [Double] = []
        try upright.prepare { steps.append($0) }
        #expect(steps == steps.sorted() && steps.allSatisfy { (0...1).contains($0) })
        for reading in 0..<2 { #expect(try upright.withRows { try Self.readAll($0) } == whole, "reading \(reading)") }

        struct Stop: Error {}
        let stopped = try UprightFile(bytes: bytes, temporaryDirectory: folder.url.path)
        if !steps.isEmpty { #expect(throws: Stop.self) { try stopped.prepare { _ in throw Stop() } } }
    }

    /// Not vacuous: the samples vary, so a misplaced pixel shows (here: most rows differ from
    /// the row above).
    @Test func fixturesAreNotUniform() throws {
        let image = try Image(decoding: Self.file(Self.formats[9], width: 33, height: 17, interlaced: true, seed: 1))
        var differing = 0
        image.withUnsafeBufferPointer { p, stride in
            for y in 1..<image.height where memcmp(p + y * stride, p + (y - 1) * stride, image.width * 3) != 0 { differing += 1 }
        }
        #expect(differing >= 15)
    }

    /// With an EXIF orientation: mirrored rows (2) and the spill file (6, 3) give the whole
    /// decode's upright picture.
    @Test(arguments: [2, 3, 6])
    func orientedInterlacedFilesReadUpright(_ orientation: Int) throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgb, bitDepth: 8, transparency: false)
        let path = folder.path("photo.png")
        try Data(Self.file(format, width: 45, height: 29, interlaced: true, seed: 3, orientation: orientation))
            .write(to: URL(fileURLWithPath: path))
        let whole = try Image(contentsOfFile: path)
        let reader = try ImageRowReader(path: path)
        #expect(reader.orientation.rawValue == orientation)
        if orientation == 2 {
            #expect(try Self.readAll(MirroredRowReader(reader)) == whole)
        } else {
            let spillFolder = try TemporaryFolder()
            let spill = try OrientationSpill(reader, directory: spillFolder.url.path, tileSide: 8)
            while try spill.spillNextStrip() {}
            #expect(try Self.readAll(spill.makeReader()) == whole)
            #expect(whole.width == (orientation == 6 ? 29 : 45))
        }
    }

    /// The error from reading every row of `bytes` (as a file at `path`, or from memory), or
    /// nil; the passes spilled in `directory` (nil: one decoder per pass).
    static func readError(_ bytes: [UInt8], path: String?, directory: String?) -> ImageError? {
        do {
            if let path {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                _ = try readAll(try ImageRowReader(path: path, temporaryDirectory: directory))
            } else {
                _ = try bytes.withUnsafeBytes { buffer in try readAll(try ImageRowReader(bytes: buffer, temporaryDirectory: directory)) }
            }
            return nil
        } catch let error as ImageError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    /// Cut anywhere (in the header, in any pass's data, before IEND), or with a damaged IDAT
    /// chunk in pass 5's data: the rows fail with exactly the whole decode's error, naming the
    /// file (or `<memory>`), through the pass spill and through one decoder per pass.
    @Test func damagedFilesFailAsTheWholeDecodeDoes() throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgb, bitDepth: 8, transparency: false)
        let good = Self.file(format, width: 40, height: 37, interlaced: true, seed: 5)
        let path = folder.path("cut.png")
        var damaged: [[UInt8]] = stride(from: 20, to: good.count, by: 53).map { Array(good[..<$0]) }
        damaged.append(Array(good.dropLast(1)))
        // Pass 5 (rows 2, 6, …, columns 0, 2, …) is the raw data from 8/64 to 16/64 of it: a
        // byte flipped at 3/16 of the file breaks an IDAT chunk's CRC there.
        var flipped = good
        flipped[good.count * 3 / 16] ^= 0x10
        damaged.append(flipped)
        for (index, bytes) in damaged.enumerated() {
            let whole: ImageError
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                _ = try Image(contentsOfFile: path)
                Issue.record("damage \(index) (\(bytes.count) bytes) decodes whole")
                continue
            } catch let error as ImageError {
                whole = error
            }
            #expect("\(whole)".contains(path), "\(whole)")
            let memoryWhole = try #require(throws: ImageError.self) { _ = try Image(decoding: bytes) }
            for directory in [folder.url.path, nil] {
                #expect(Self.readError(bytes, path: path, directory: directory) == whole, "damage \(index), \(bytes.count) bytes, \(directory ?? "passes")")
                #expect(Self.readError(bytes, path: nil, directory: directory) == memoryWhole, "damage \(index) from memory")
            }
        }
        #expect(damaged.count > 20)
    }

    /// With one decoder per pass the file is opened again for each pass: if the path names
    /// another file by then, the read fails rather than mixing two pictures. Through the pass
    /// spill the file is read once, from the descriptor opened first: the rows are the first
    /// file's.
    @Test func replacedFileFailsCleanly() throws {
        let folder = try TemporaryFolder()
        let format = Format(colorType: .rgb, bitDepth: 8, transparency: false)
        let path = folder.path("photo.png")
        try Data(Self.file(format, width: 20, height: 20, interlaced: true, seed: 1)).write(to: URL(fileURLWithPath: path))
        let first = try Image(contentsOfFile: path)
        let spilled = try ImageRowReader(path: path, temporaryDirectory: folder.url.path)
        let reader = try ImageRowReader(path: path, temporaryDirectory: nil)
        // Moved aside (its inode stays in use, so the new file cannot get the same number).
        try FileManager.default.moveItem(atPath: path, toPath: folder.path("old.png"))
        try Data(Self.file(format, width: 20, height: 20, interlaced: true, seed: 2)).write(to: URL(fileURLWithPath: path))
        var band = Image(width: 20, height: 1, layout: .rgb)
        let error = try #require(throws: ImageError.self) { try reader.readRows(1, into: &band) }
        #expect(error == .corrupt(source: path, detail: "the file changed while it was read"))
        #expect(try Self.readAll(spilled) == first)
        #expect(try Image(contentsOfFile: path) != first)
    }
}
