import Foundation
import Testing
@testable import MattingImage
import MattingTestSupport

/// `RowSpill` and `SpillingRowSource`: the rows a pass reads are passed on unchanged while
/// they are written to the spill file, and read back (by several readers, from the top or
/// after skipping rows) they are the same rows.
@Suite("Row spill")
struct RowSpillTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let width: Int, height: Int, layout: PixelLayout, tileRows: Int
        var testDescription: String { "\(width)×\(height) \(layout) tiles of \(tileRows) rows" }
    }

    /// Heights that are and are not a multiple of the tile's rows, and one smaller than a tile.
    static let cases = [
        Case(width: 37, height: 23, layout: .rgb, tileRows: 8),
        Case(width: 32, height: 16, layout: .rgba, tileRows: 8),
        Case(width: 45, height: 61, layout: .gray, tileRows: 16),
        Case(width: 5, height: 3, layout: .rgb, tileRows: 8),
    ]

    @Test(arguments: cases)
    func rowsReadBackAreTheRowsPassedThrough(_ c: Case) throws {
        let folder = try TemporaryFolder()
        let picture = OrientationSpillTests.picture(
            OrientationSpillTests.Case(orientation: 1, format: .png, layout: c.layout, width: c.width, height: c.height, tileSide: c.tileRows))
        let path = folder.path("photo.png")
        try Data(try picture.encoded(as: .png)).write(to: URL(fileURLWithPath: path))
        let spill = try RowSpill(width: c.width, height: c.height, layout: c.layout, input: path, directory: folder.url.path,
                                 tileRows: c.tileRows)
        #expect(!spill.isComplete)
        // Passed on as read (batches of 1, 2, 3, … rows), and written on the way.
        #expect(try OrientationSpillTests.readAll(SpillingRowSource(try ImageRowReader(path: path), into: spill)) == picture)
        #expect(spill.isComplete && spill.failure == nil)
        // Read back, twice, each reader from the top.
        #expect(try OrientationSpillTests.readAll(spill.makeReader()) == picture)
        #expect(try OrientationSpillTests.readAll(spill.makeReader()) == picture)
        // From the middle: the rows after those skipped.
        let reader = spill.makeReader(), skipped = c.height / 2 + 1
        reader.skipRows(skipped)
        var band = Image(width: c.width, height: c.height - skipped, layout: c.layout)
        try reader.readRows(c.height - skipped, into: &band)
        #expect(band == picture.cropped(to: ImageRect(x: 0, y: skipped, width: c.width, height: c.height - skipped)))
        // The spill file has no name: nothing is left in the folder but the input.
        #expect(folder.contents == ["photo.png"])
    }

    /// No folder for the spill: the typed error names the input, the folder and what failed.
    @Test func missingFolderIsATypedErrorNamingTheInputAndTheFolder() throws {
        let folder = try TemporaryFolder()
        let missing = folder.path("no-such-folder")
        let error = try #require(throws: ImageError.self) {
            _ = try RowSpill(width: 4, height: 4, layout: .rgb, input: "photo.png", directory: missing)
        }
        guard case let .spill(input, directory, action, detail) = error else { Issue.record("\(error)"); return }
        #expect(input == "photo.png" && directory == missing && action == "create" && detail.contains("No such file"), "\(error)")
        #expect(error.description.hasPrefix("photo.png: ") && error.description.contains(missing), "\(error)")
    }
}
