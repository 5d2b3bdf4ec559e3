import Foundation
import Testing
import MattingFiles
import MattingKit
import MattingTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `matte-batch` run as a process. Photos are small synthetic composites matted with
/// `--studio` or `--trimap-dir`, so no case needs the model.
@Suite("matte-batch program")
struct MatteBatchProgramTests {
    static func run(_ arguments: [String]) throws -> ProgramRunner.Run { try ProgramRunner.run("matte-batch", arguments) }

    /// `count` composites of `width × height` (seeded by index) as `names(i)` below `folder`.
    @discardableResult
    static func photos(_ count: Int, in folder: URL, width: Int = 64, height: Int = 48,
                       name: (Int) -> String = { "photo-\($0).png" }) throws -> [String] {
        try (0..<count).map { i in
            let path = name(i), url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try SyntheticComposite(width: width, height: height, seed: UInt64(i + 1)).image.write(to: url)
            return path
        }
    }

    static func report(_ url: URL) throws -> MatteBatch.Report {
        try JSONDecoder().decode(MatteBatch.Report.self, from: Data(contentsOf: url))
    }

    @Test func writesEveryOutputWithTheRightSizesAndFormats() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), trimaps = root.appendingPathComponent("trimaps")
        let output = root.appendingPathComponent("out"), previews = root.appendingPathComponent("previews")
        let sizes = ["a.jpg": (80, 60), "sub/b.png": (64, 96), "sub/deeper/c.jpeg": (100, 50)]
        for (path, (w, h)) in sizes {
            let scene = SyntheticComposite(width: w, height: h)
            for (folder, name, picture) in [(input, path, scene.image), (trimaps, (path as NSString).deletingPathExtension + ".png", scene.trimap)] {
                let url = folder.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try picture.write(to: url)
            }
        }
        let run = try Self.run([input.path, output.path, "--recursive", "--trimap-dir", trimaps.path, "--save-masks",
                                "--preview-dir", previews.path, "--jobs", "2"])
        #expect(run.status == 0, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(ProgramRunner.tree(output) == ["a-mask.png", "a.png", "sub/b-mask.png", "sub/b.png", "sub/deeper/c-mask.png", "sub/deeper/c.png"])
        #expect(ProgramRunner.tree(previews) == ["a-preview.png", "sub/b-preview.png", "sub/deeper/c-preview.png"])
        for (path, (w, h)) in sizes {
            let stem = (path as NSString).deletingPathExtension
            let cutout = try Image(contentsOf: output.appendingPathComponent(stem + ".png"))
            let mask = try Image(contentsOf: output.appendingPathComponent(stem + "-mask.png"))
            let sheet = try Image(contentsOf: previews.appendingPathComponent(stem + "-preview.png"))
            #expect(cutout.layout == .rgba && cutout.width == w && cutout.height == h, "\(path)")
            #expect(mask.layout == .gray && cutout.channel(3) == mask, "\(path)")
            #expect(sheet.layout == .rgb && sheet.width == 4 * w + 3 * 8 && sheet.height == h, "\(path)")
        }
        #expect(run.stdout.contains("processed 3, skipped 0, failed 0"), "\(run.stdout)")

        let jpeg = root.appendingPathComponent("jpeg")
        let flat = try Self.run([input.path, jpeg.path, "--studio", "--format", "jpeg", "--background", "#00ff00"])
        #expect(flat.status == 0, "stderr: \(flat.stderr)")
        #expect(ProgramRunner.tree(jpeg) == ["a.jpg"])   // not recursive
        let picture = try Image(contentsOf: jpeg.appendingPathComponent("a.jpg"))
        #expect(picture.layout == .rgb && picture.width == 80 && picture.height == 60)
        let data = try Data(contentsOf: jpeg.appendingPathComponent("a.jpg"))
        #expect(ImageFormat(sniffing: data) == .jpeg)
    }

    @Test func corruptFilesAreReportedAndTheGoodOnesDone() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        let good = try Self.photos(3, in: input, name: { "good-\($0).\($0 == 1 ? "jpg" : "png")" })
        let jpeg = try Data(contentsOf: input.appendingPathComponent("good-1.jpg"))
        try jpeg.prefix(jpeg.count / 2).write(to: input.appendingPathComponent("truncated.jpg"))
        try Data("not a picture\n".utf8).write(to: input.appendingPathComponent("notes.png"))
        let reportURL = root.appendingPathComponent("report.json")
        let run = try Self.run([input.path, output.path, "--studio", "--report", reportURL.path])
        #expect(run.status != 0)
        #expect(ProgramRunner.tree(output) == good.map { ($0 as NSString).deletingPathExtension + ".png" }.sorted())
        #expect(run.stdout.contains("processed 3, skipped 0, failed 2"), "\(run.stdout)")
        #expect(run.stdout.contains("  notes.png: ") && run.stdout.contains("  truncated.jpg: "), "\(run.stdout)")
        // Each failure is also one line on stderr, naming the file (once, there and in the summary).
        let failures = run.errorLines.filter { $0.hasPrefix("matte-batch: ") }
        #expect(failures.count == 2 && failures.contains { $0.contains("notes.png") } && failures.contains { $0.contains("truncated.jpg") },
                "\(run.stderr)")
        let summary = run.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  notes.png") }
        for line in failures.map(String.init) + summary {
            #expect(line.components(separatedBy: "notes.png").count <= 2 && line.components(separatedBy: "truncated.jpg").count <= 2, "\(line)")
        }

        let report = try Self.report(reportURL)
        #expect(report.processed == 3 && report.failed == 2 && report.skipped == 0 && report.images.count == 5)
        #expect(report.images.map(\.relativePath) == ["good-0.png", "good-1.jpg", "good-2.png", "notes.png", "truncated.jpg"])
        for record in report.images {
            if record.relativePath.hasPrefix("good") {
                #expect(record.status == .processed && record.error == nil && record.outputs.count == 1)
                #expect(record.size == MatteBatch.Record.Size(width: 64, height: 48) && (record.seconds ?? 0) > 0)
            } else {
                #expect(record.status == .failed && record.outputs.isEmpty && record.size == nil)
                #expect(record.error?.contains(record.relativePath) == true, "\(String(describing: record.error))")
            }
        }
        #expect(report.images[3].error?.contains("unsupported format") == true)
        #expect(report.images[4].error?.contains("truncated") == true)
    }

    @Test func aRerunSkipsFinishedWorkAndOverwriteRedoesIt() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        try Self.photos(4, in: input)
        let reportURL = root.appendingPathComponent("report.json")
        let first = try Self.run([input.path, output.path, "--studio", "--save-masks"])
        #expect(first.status == 0 && first.stdout.contains("processed 4, skipped 0"), "\(first.stdout) \(first.stderr)")
        let written = try FileManager.default.attributesOfItem(atPath: output.appendingPathComponent("photo-0.png").path)

        // One mask lost: only that photo is redone.
        try FileManager.default.removeItem(at: output.appendingPathComponent("photo-2-mask.png"))
        let second = try Self.run([input.path, output.path, "--studio", "--save-masks", "--report", reportURL.path])
        #expect(second.status == 0 && second.stdout.contains("processed 1, skipped 3"), "\(second.stdout)")
        #expect(try Self.report(reportURL).images.map(\.status) == [.skipped, .skipped, .processed, .skipped])
        let kept = try FileManager.default.attributesOfItem(atPath: output.appendingPathComponent("photo-0.png").path)
        #expect(kept[.systemFileNumber] as? Int == written[.systemFileNumber] as? Int)

        let third = try Self.run([input.path, output.path, "--studio", "--save-masks", "--overwrite", "--report", reportURL.path])
        #expect(third.status == 0 && third.stdout.contains("processed 4, skipped 0"), "\(third.stdout)")
        let redone = try FileManager.default.attributesOfItem(atPath: output.appendingPathComponent("photo-0.png").path)
        #expect(redone[.systemFileNumber] as? Int != written[.systemFileNumber] as? Int)   // renamed into place anew
        #expect(ProgramRunner.files(in: output).count == 8)
    }

    /// A SIGKILL mid-run leaves only complete outputs (and perhaps a hidden temporary file);
    /// the next run removes the leftovers and does exactly the rest.
    @Test func aKilledRunLeavesNoPartialFilesAndTheNextRunFinishes() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        let count = 40
        try Self.photos(count, in: input, width: 120, height: 90)
        let process = try ProgramRunner.start(
            "matte-batch", [input.path, output.path, "--studio", "--jobs", "1", "--save-masks"], output: root.appendingPathComponent("log.txt"))
        // Wait until the first photo is finished (not for a time), then kill.
        let deadline = Date().addingTimeInterval(120)
        while !ProgramRunner.files(in: output).contains(where: { $0.hasSuffix("-mask.png") && !$0.hasPrefix(".") }),
              process.isRunning, Date() < deadline {
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let visible = ProgramRunner.files(in: output).filter { !$0.hasPrefix(".") }
        #expect(!visible.isEmpty)
        for name in visible {
            let picture = try Image(contentsOf: output.appendingPathComponent(name))    // complete, or this throws
            #expect(picture.width == 120 && picture.height == 90, "\(name)")
            #expect(name.hasPrefix("photo-"))
        }
        let finishedBefore = visible.filter { !$0.hasSuffix("-mask.png") }.count {
            visible.contains(($0 as NSString).deletingPathExtension + "-mask.png")
        }

        #expect(finishedBefore >= 1 && finishedBefore < count, "the kill came after \(finishedBefore) of \(count)")

        let reportURL = root.appendingPathComponent("report.json")
        let rerun = try Self.run([input.path, output.path, "--studio", "--jobs", "1", "--save-masks", "--report", reportURL.path])
        #expect(rerun.status == 0, "\(rerun.stdout) \(rerun.stderr)")
        #expect(ProgramRunner.files(in: output) == (0..<count).flatMap { ["photo-\($0)-mask.png", "photo-\($0).png"] }.sorted())
        let report = try Self.report(reportURL)
        #expect(report.skipped == finishedBefore && report.processed == count - finishedBefore && report.failed == 0)
    }

    @Test func shardsSplitTheFolderBetweenRuns() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in"), output = root.appendingPathComponent("out")
        let all = try Self.photos(12, in: input, width: 32, height: 24)
        var done: [String] = []
        for i in 1...3 {
            let reportURL = root.appendingPathComponent("report-\(i).json")
            let run = try Self.run([input.path, output.path, "--studio", "--shard", "\(i)/3", "--report", reportURL.path])
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            let report = try Self.report(reportURL)
            #expect(report.shard == "\(i)/3" && report.skipped == 0)
            done += report.images.filter { $0.status == .processed }.map(\.relativePath)
        }
        #expect(done.sorted() == all.sorted() && Set(done).count == all.count)
        #expect(ProgramRunner.files(in: output).count == 12)
    }

    @Test func onATerminalAProgressBarIsRedrawnInPlace() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in")
        try Self.photos(5, in: input, width: 32, height: 24)
        let (status, output) = try ProgramRunner.runInTerminal("matte-batch", [input.path, root.appendingPathComponent("out").path, "--studio"])
        #expect(status == 0, "\(output)")
        // The status line is redrawn with a carriage return and cleared to the line's end, and
        // shows count/total, rate and ETA; no per-photo log lines as in a log file.
        #expect(output.contains("\r5/5 ") && output.contains("\u{1B}[K") && output.contains("/s") && output.contains("ETA"), "\(output.debugDescription)")
        #expect(!output.contains("[1/5]"), "\(output.debugDescription)")
        #expect(output.contains("processed 5, skipped 0, failed 0"), "\(output.debugDescription)")
    }

    @Test func refusesUnsafeOrInvalidRequestsWithOneLine() throws {
        let root = try ProgramRunner.folder()
        let input = root.appendingPathComponent("in")
        try Self.photos(2, in: input, width: 32, height: 24)
        let before = ProgramRunner.tree(input)

        let same = try Self.run([input.path, input.path + "/.", "--studio"])
        #expect(same.status != 0 && same.errorLines.count == 1 && same.stderr.contains("must not be the input folder"), "\(same.stderr)")
        let missing = try Self.run([root.appendingPathComponent("nope").path, root.appendingPathComponent("out").path, "--studio"])
        #expect(missing.status != 0 && missing.errorLines.count == 1 && missing.stderr.contains("nope"), "\(missing.stderr)")
        let shard = try Self.run([input.path, root.appendingPathComponent("out").path, "--studio", "--shard", "4/3"])
        #expect(shard.status == 1 && shard.errorLines.count == 1 && shard.stderr.contains("shard"), "\(shard.stderr)")
        // Counts out of range, negative ones included, are one line with status 1, not usage text.
        for (option, value) in [("--jobs", "0"), ("--threads", "-1")] {
            let run = try Self.run([input.path, root.appendingPathComponent("out").path, "--studio", option, value])
            #expect(run.status == 1 && run.errorLines.count == 1 && run.stderr.contains(option) && !run.stderr.contains("Usage"),
                    "\(option) \(value): \(run.stderr)")
        }
        let report = try Self.run([input.path, root.appendingPathComponent("out").path, "--studio", "--report", input.path + "/photo-0.png"])
        #expect(report.status != 0 && report.stderr.contains("overwrite"), "\(report.stderr)")
        #expect(ProgramRunner.tree(input) == before)

        // An output folder inside the input folder is never taken for photos.
        let inside = input.appendingPathComponent("cutouts")
        for _ in 0..<2 {
            let run = try Self.run([input.path, inside.path, "--studio", "--recursive"])
            #expect(run.status == 0 && run.stdout.hasPrefix("2 photos"), "\(run.stdout) \(run.stderr)")
        }
        #expect(ProgramRunner.tree(input) == (before + ["cutouts/photo-0.png", "cutouts/photo-1.png"]).sorted())
    }
}
