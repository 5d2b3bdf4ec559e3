import Foundation
import MattingTestSupport
import Testing
import MattingFiles
import MattingKit

@Suite("OutputFiles.isSameFile")
struct OutputFilesTests {
    /// A fresh folder with one file `a` in it.
    static func folder() throws -> URL {
        let dir = try ScratchFolders.make("mk-same")
        try Data("a".utf8).write(to: dir.appendingPathComponent("a"))
        return dir
    }

    @Test func pathsLinksAndOtherFiles() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a")
        try Data("b".utf8).write(to: dir.appendingPathComponent("b"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("soft"), withDestinationURL: a)
        try FileManager.default.linkItem(at: a, to: dir.appendingPathComponent("hard"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)

        #expect(OutputFiles.isSameFile(a, a))
        #expect(OutputFiles.isSameFile(a, URL(fileURLWithPath: dir.path + "/sub/../a")))
        #expect(OutputFiles.isSameFile(dir.appendingPathComponent("soft"), a))
        #expect(OutputFiles.isSameFile(dir.appendingPathComponent("hard"), a))
        #expect(OutputFiles.isSameFile(a, dir.appendingPathComponent("hard")))
        #expect(!OutputFiles.isSameFile(a, dir.appendingPathComponent("b")))
        #expect(!OutputFiles.isSameFile(a, dir.appendingPathComponent("missing")))
        #expect(!OutputFiles.isSameFile(dir.appendingPathComponent("missing"), dir.appendingPathComponent("other")))
        #expect(throws: OutputFileError.wouldOverwriteInput(dir.appendingPathComponent("hard").path)) {
            try OutputFiles.refuseToOverwrite([a], with: [dir.appendingPathComponent("b"), dir.appendingPathComponent("hard")])
        }
    }
}
