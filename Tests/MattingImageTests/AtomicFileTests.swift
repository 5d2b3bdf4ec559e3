import Foundation
import Testing
import MattingImage

@Suite("AtomicFile")
struct AtomicFileTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func writesTheBytesAndLeavesNoTemporaryFile() throws {
        let dir = try Self.folder()
        let target = dir.appendingPathComponent("out.png")
        try AtomicFile.write([1, 2, 3], to: target)
        try AtomicFile.write([4, 5], to: target)     // replaces
        #expect(try Data(contentsOf: target) == Data([4, 5]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.png"])
        let mode = try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    @Test func recognisesItsOwnTemporaryNamesOnly() {
        #expect(AtomicFile.isTemporaryFile(".b.png.tmp-Ab12Yz", for: "b.png"))
        #expect(AtomicFile.isTemporaryFile(".b.png.tmp-000000", for: "b.png"))
        for name in [".b.png.tmp-Ab12Y", ".b.png.tmp-Ab12Yz7", ".b.png.tmp-Ab_2Yz", "b.png.tmp-Ab12Yz", ".c.png.tmp-Ab12Yz", ".b.png"] {
            #expect(!AtomicFile.isTemporaryFile(name, for: "b.png"), "\(name)")
        }
        // Long names are cut to 200 bytes in the temporary name, the same way on both sides.
        let long = String(repeating: "n", count: 240) + ".png"
        #expect(AtomicFile.isTemporaryFile("." + String(repeating: "n", count: 200) + ".tmp-Ab12Yz", for: long))
    }

    @Test func removesStaleTemporaryFilesOfTheGivenDestinationsOnly() throws {
        let dir = try Self.folder()
        for name in [".a.png.tmp-Ab12Yz", ".b.png.tmp-Qw34Er", "a.png", ".a.png.tmp-long-one"] {
            _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([0]))
        }
        let removed = AtomicFile.removeStaleTemporaryFiles(for: [dir.appendingPathComponent("a.png"), dir.appendingPathComponent("sub/x.png")])
        #expect(removed.map(\.lastPathComponent) == [".a.png.tmp-Ab12Yz"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [".a.png.tmp-long-one", ".b.png.tmp-Qw34Er", "a.png"])
    }
}
