import Foundation
import Testing
import MattingFiles
import MattingKit
import MattingTestSupport

/// `MatteBatch`'s planning (scan, names, shards, resume, safety) in process; nothing is matted.
@Suite("MatteBatch planning")
struct MatteBatchTests {
    /// Empty files at `paths` below `folder` (planning never reads them).
    static func touch(_ paths: [String], in folder: URL) throws {
        for path in paths {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: url.path, contents: Data([0]))
        }
    }

    static func relativePaths(_ plan: MatteBatch.Plan) -> [String] { plan.items.map(\.relativePath) }

    @Test func namesMirrorTheInputFolder() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        try Self.touch(["b.JPG", "a/b.jpg", "a/c/d.png", "notes.txt", ".hidden.png", ".cache/e.png"], in: input)
        var batch = MatteBatch(inputFolder: input, outputFolder: output)
        #expect(Self.relativePaths(try batch.plan()) == ["b.JPG"])
        batch.recursive = true
        #expect(Self.relativePaths(try batch.plan()) == ["a/b.jpg", "a/c/d.png", "b.JPG"])

        batch.savesMasks = true
        batch.previewFolder = root.appendingPathComponent("previews")
        let job = batch.job(forRelativePath: "a/b.jpg")
        #expect(job.input.path == input.path + "/a/b.jpg")
        #expect(job.outputs.map(\.path) == [output.path + "/a/b.png", output.path + "/a/b-mask.png", root.path + "/previews/a/b-preview.png"])
        batch.format = .jpeg
        batch.trimapFolder = root.appendingPathComponent("trimaps")
        let jpeg = batch.job(forRelativePath: "a/b.jpg")
        #expect(jpeg.output.lastPathComponent == "b.jpg" && jpeg.format == .jpeg)
        #expect(jpeg.source == .trimap(URL(fileURLWithPath: root.path + "/trimaps/a/b.png")))
    }

    @Test func globsFollowFnmatch() throws {
        var batch = MatteBatch(inputFolder: URL(fileURLWithPath: "/in"), outputFolder: URL(fileURLWithPath: "/out"))
        batch.patterns = ["*.jpg"]
        #expect(batch.matches("a/b.jpg") && batch.matches("b.jpg"))
        #expect(!batch.matches("b.JPG") && !batch.matches("b.png"))
        batch.patterns = ["a/*.png", "x?.jpeg"]
        #expect(batch.matches("a/b.png") && !batch.matches("a/c/b.png") && !batch.matches("b.png"))
        #expect(batch.matches("deep/xy.jpeg") && !batch.matches("xyz.jpeg"))
        batch.patterns = []
        #expect(batch.matches("P.JPEG") && batch.matches("p.png") && !batch.matches("p.gif"))
    }

    @Test func shardsCoverTheFolderExactlyOnce() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in")
        let all = (0..<40).map { "photo-\($0).jpg" } + (0..<20).map { "set/\($0).png" }
        try Self.touch(all, in: input)
        var batch = MatteBatch(inputFolder: input, outputFolder: root.appendingPathComponent("out"))
        batch.recursive = true
        var seen: [String] = []
        for i in 1...3 {
            batch.shard = try MatteBatch.Shard(parsing: "\(i)/3")
            let plan = try batch.plan()
            #expect(plan.matchedCount == 60)
            #expect(plan.items.count >= 10, "shard \(i)/3 has \(plan.items.count) of 60")
            seen += Self.relativePaths(plan)
        }
        #expect(seen.sorted() == all.sorted())
        #expect(Set(seen).count == all.count)
    }

    @Test func shardTextIsChecked() throws {
        #expect(try MatteBatch.Shard(parsing: "2/3") == MatteBatch.Shard(index: 2, count: 3))
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", ""] {
            #expect(throws: MatteBatchError.invalidShard(bad)) { try MatteBatch.Shard(parsing: bad) }
        }
        // The assignment is a pure function of the name.
        #expect(MatteBatch.Shard.number(of: "a/b.jpg", count: 7) == MatteBatch.Shard.number(of: "a/b.jpg", count: 7))
    }

    @Test func theOutputFolderIsNeitherTheInputNorScanned() throws {
        let input = try ProgramRunner.folder()
        try Self.touch(["a.png", "out/a.png", "out/deeper/b.png", "sub/c.png"], in: input)
        #expect(throws: MatteBatchError.self) {
            try MatteBatch(inputFolder: input, outputFolder: input.appendingPathComponent("sub/..")).plan()
        }
        var batch = MatteBatch(inputFolder: input, outputFolder: input.appendingPathComponent("out"))
        batch.recursive = true
        #expect(Self.relativePaths(try batch.plan()) == ["a.png", "sub/c.png"])
        #expect(try batch.plan().finished.map(\.relativePath) == ["a.png"])   // out/a.png exists
        #expect(throws: MatteBatchError.self) {
            try MatteBatch(inputFolder: input.appendingPathComponent("missing"), outputFolder: input).plan()
        }
    }

    @Test func outputsThatWouldLandOnAnInputOrCollideAreRefused() throws {
        // Output folder = the input folder's parent: in/in/p.jpg → out/in/p.png, which is an input.
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in")
        try Self.touch(["p.png", "in/p.jpg", "q.jpg", "q.png"], in: input)
        var batch = MatteBatch(inputFolder: input, outputFolder: root)
        batch.recursive = true
        let plan = try batch.plan()
        let states = Dictionary(uniqueKeysWithValues: plan.items.map { ($0.relativePath, $0.state) })
        #expect(states["in/p.jpg"] == .rejected("refusing to overwrite the input with \(input.path)/p.png"))
        #expect(states["p.png"] == .pending && states["q.jpg"] == .pending)
        guard case let .rejected(reason) = states["q.png"] else { Issue.record("q.png: \(String(describing: states["q.png"]))"); return }
        #expect(reason.contains("also the output of q.jpg"), "\(reason)")
    }

    @Test func finishedPhotosAreSkippedUnlessOverwriting() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        try Self.touch(["a.png", "b.png", "c.png"], in: input)
        try Self.touch(["a.png", "a-mask.png", "b.png"], in: output)
        var batch = MatteBatch(inputFolder: input, outputFolder: output)
        #expect(try batch.plan().finished.map(\.relativePath) == ["a.png", "b.png"])
        batch.savesMasks = true     // b has no mask yet: not finished
        #expect(try batch.plan().finished.map(\.relativePath) == ["a.png"])
        batch.overwrite = true
        #expect(try batch.plan().pending.count == 3)
    }

    @Test func staleTemporaryFilesOfThisShardAreRemoved() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        try Self.touch(["a.png", "b.png"], in: input)
        let shardOfA = MatteBatch.Shard.number(of: "a.png", count: 2)
        // A killed writer's leftovers for a.png and b.png, and names that only look alike.
        try Self.touch([".a.png.tmp-Ab12Yz", ".b.png.tmp-Qw34Er", ".a.png.tmp-toolong", ".other.png.tmp-Ab12Yz", "a.png.tmp-Ab12Yz"], in: output)
        var batch = MatteBatch(inputFolder: input, outputFolder: output)
        batch.shard = MatteBatch.Shard(index: shardOfA, count: 2)
        let plan = try batch.plan()
        #expect(plan.removedTemporaryFiles.map(\.lastPathComponent).contains(".a.png.tmp-Ab12Yz"))
        #expect(!ProgramRunner.files(in: output).contains(".a.png.tmp-Ab12Yz"))
        #expect(plan.items.allSatisfy { $0.state == .pending })     // a temporary file is not an output
        let left = Set(ProgramRunner.files(in: output))
        #expect(left.isSuperset(of: [".a.png.tmp-toolong", ".other.png.tmp-Ab12Yz", "a.png.tmp-Ab12Yz"]))
        // b.png's leftover belongs to whichever shard b.png is in.
        #expect(left.contains(".b.png.tmp-Qw34Er") == (MatteBatch.Shard.number(of: "b.png", count: 2) != shardOfA))
    }
}
