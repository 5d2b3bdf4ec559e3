import Foundation
import MattingTestSupport
import Testing
import MattingImage

@Suite("AtomicFile")
struct AtomicFileTests {
    static func folder() throws -> URL {
        try ScratchFolders.make("atomic")
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

#if canImport(Glibc)
import Glibc
#endif

/// Issue 15: what is at the output path decides whether it may be replaced.
@Suite("AtomicFile: what may be replaced")
struct AtomicFileDestinationTests {
    static func refusal(_ path: String, _ kind: String) -> ImageError {
        .io(path: path, detail: "is \(kind); refusing to replace it with a picture")
    }

    /// Writing to `path` is refused with the message for `kind`, and no temporary file is left.
    static func expectRefused(_ path: String, _ kind: String, in folder: URL) throws {
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(throws: refusal(path, kind)) { try AtomicFile.write([1, 2, 3], to: URL(fileURLWithPath: path)) }
        #expect(throws: refusal(path, kind)) {
            try Image(width: 2, height: 2, layout: .gray).write(toFile: path, format: .png)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == before)
    }

    @Test("a FIFO at the output path is refused and stays a FIFO (no hang, no replacement)")
    func fifo() throws {
        let dir = try AtomicFileTests.folder()
        let path = dir.appendingPathComponent("out.png").path
        #expect(mkfifo(path, 0o600) == 0)
        try Self.expectRefused(path, "a FIFO (named pipe)", in: dir)
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
    }

    @Test("a symbolic link at the output path is refused; neither it nor its target changes")
    func symlinkDestination() throws {
        let dir = try AtomicFileTests.folder()
        let target = dir.appendingPathComponent("precious.txt")
        try Data("keep".utf8).write(to: target)
        let link = dir.appendingPathComponent("out.png").path
        #expect(symlink(target.path, link) == 0)
        try Self.expectRefused(link, "a symbolic link", in: dir)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target.path)
        #expect(try Data(contentsOf: target) == Data("keep".utf8))
        // A dangling link too: it must not be replaced (nor followed to create its target).
        let dangling = dir.appendingPathComponent("dangling.png").path
        #expect(symlink(dir.appendingPathComponent("nowhere.png").path, dangling) == 0)
        try Self.expectRefused(dangling, "a symbolic link", in: dir)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("nowhere.png").path))
    }

    @Test("a directory at the output path is refused")
    func directoryDestination() throws {
        let dir = try AtomicFileTests.folder()
        let sub = dir.appendingPathComponent("out.png")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
        try Self.expectRefused(sub.path, "a directory", in: dir)
    }

    @Test("a device node at the output path is refused and is still the device afterwards")
    func deviceDestination() throws {
        let dir = try AtomicFileTests.folder()
        var null = stat()
        #expect(stat("/dev/null", &null) == 0)
        let path = dir.appendingPathComponent("out.png").path
        if mknod(path, S_IFCHR | 0o666, null.st_rdev) == 0 {
            try Self.expectRefused(path, "a character device", in: dir)
            var info = stat()
            #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == null.st_rdev)
        } else {
            // Not root (or no CAP_MKNOD): /dev/null itself then; refusing it writes nothing there.
            #expect(throws: Self.refusal("/dev/null", "a character device")) {
                try AtomicFile.write([1], to: URL(fileURLWithPath: "/dev/null"))
            }
        }
        // /dev/null itself, in any case: refused before a temporary file is made in /dev.
        #expect(throws: Self.refusal("/dev/null", "a character device")) {
            try Image(width: 1, height: 1, layout: .gray).write(toFile: "/dev/null", format: .png)
        }
        var after = stat()
        #expect(stat("/dev/null", &after) == 0 && after.st_mode & S_IFMT == S_IFCHR)
    }

    @Test("an existing regular file is replaced atomically: a reader holding it open keeps the old bytes")
    func regularFileIsReplaced() throws {
        let dir = try AtomicFileTests.folder()
        let target = dir.appendingPathComponent("out.png")
        try AtomicFile.write([1, 2, 3], to: target)
        let reader = try FileHandle(forReadingFrom: target)
        defer { try? reader.close() }
        try AtomicFile.write([9, 8], to: target)
        #expect(try reader.readToEnd() == Data([1, 2, 3]))
        #expect(try Data(contentsOf: target) == Data([9, 8]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.png"])
    }
}
