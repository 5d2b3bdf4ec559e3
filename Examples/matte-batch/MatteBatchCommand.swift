import ArgumentParser
import Foundation
import MatteCommandLine
import MattingFiles
import MattingKit

/// `matte-batch`: every photo of a folder, resumably.
@main
struct MatteBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matte-batch",
        abstract: "Cut the subject out of every photo in a folder, into another folder with the same relative names.",
        discussion: """
            INPUT_DIR/a/b.jpg becomes OUTPUT_DIR/a/b.png (b.jpg with --format jpeg), its mask \
            OUTPUT_DIR/a/b-mask.png (--save-masks) and its preview PREVIEW_DIR/a/b-preview.png. Photos whose \
            outputs all exist are skipped (run again to resume; --overwrite redoes them). Every file is \
            written through a temporary file and renamed, so outputs are complete or absent. Nothing is \
            written into or over the input folder's files; an output folder inside the input folder is not \
            scanned. --shard i/n takes the photos whose relative path hashes (FNV-1a 64) to i modulo n. \
            Exits with status 1 if any photo failed.
            """)

    @Argument(help: "The folder of photos.")
    var inputDir: String

    @Argument(help: "Where the cut-outs go; created if missing.")
    var outputDir: String

    @Flag(help: "Descend into subfolders.")
    var recursive = false

    @Option(name: .customLong("glob"), help: ArgumentHelp("Only files matching this fnmatch pattern (repeatable; a pattern with / matches the relative path). Default: *.png, *.jpg, *.jpeg in any case.", valueName: "pattern"))
    var globs: [String] = []

    @Option(help: "Output format: png (RGBA, keeps alpha) or jpeg (composited over --background).")
    var format: OutputFormatArgument = .png

    @OptionGroup var matting: MatteArguments

    @Flag(help: "Also write each photo's 8-bit alpha mask as <name>-mask.png beside its cut-out.")
    var saveMasks = false

    @Option(help: ArgumentHelp("Also write each photo's preview contact sheet as <name>-preview.png in this folder.", valueName: "dir"))
    var previewDir: String?

    @Option(help: ArgumentHelp("Use trimaps from this folder (the photo's relative path with .png) instead of the model.", valueName: "dir"))
    var trimapDir: String?

    @Option(parsing: .unconditional, help: "Photos in flight at once (default: the number of cores).")
    var jobs: Int?

    @Option(parsing: .unconditional, help: "Threads for each photo, every stage (default: cores ÷ jobs, at least 1); the output does not depend on it.")
    var threads: Int?

    @Flag(help: "Redo photos whose outputs already exist.")
    var overwrite = false

    @Option(help: ArgumentHelp("Only this share of the folder, i/n (1 ≤ i ≤ n), for splitting a batch across machines.", valueName: "i/n"))
    var shard: String?

    @Option(help: ArgumentHelp("Write a JSON report here: totals and one record per photo.", valueName: "file.json"))
    var report: String?

    func validate() throws {
        if matting.studio && trimapDir != nil { throw ValidationError("--studio and --trimap-dir exclude each other") }
    }

    func run() async throws {
        var batch = MatteBatch(inputFolder: URL(fileURLWithPath: inputDir), outputFolder: URL(fileURLWithPath: outputDir))
        batch.recursive = recursive
        batch.patterns = globs
        batch.format = format.format
        batch.savesMasks = saveMasks
        batch.previewFolder = previewDir.map { URL(fileURLWithPath: $0) }
        batch.trimapFolder = trimapDir.map { URL(fileURLWithPath: $0) }
        batch.studio = matting.studio
        batch.overwrite = overwrite

        let started = Date()
        let plan: MatteBatch.Plan
        let segmenter: ModelSegmenter?
        let jobs: Int, threads: Int
        do {
            // Values out of range: one line and status 1, like any bad input.
            try matting.checkRanges()
            if let jobs = self.jobs { try requireAtLeast(1, jobs, "--jobs") }
            if let threads = self.threads { try requireAtLeast(1, threads, "--threads") }
            if let shard {
                do { batch.shard = try MatteBatch.Shard(parsing: shard) } catch { throw ArgumentFailure("--shard: \(error)") }
            }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            jobs = self.jobs ?? max(1, cores)
            threads = self.threads ?? max(1, cores / jobs)
            batch.options = try matting.options(
                pathDefault: MatteArguments.pathDefault(trimap: trimapDir != nil, studio: matting.studio))
            plan = try batch.plan()
            if let report {
                let url = URL(fileURLWithPath: report)
                try OutputFiles.refuseToOverwrite(plan.items.map(\.job.input), with: [url])
                _ = AtomicFile.removeStaleTemporaryFiles(for: [url])
            }
            segmenter = batch.needsModel && !plan.pending.isEmpty ? try matting.segmenter() : nil
        } catch {
            printFailure("matte-batch", inputDir, error)
            throw ExitCode.failure
        }

        let console = Console()
        console.line(Self.overview(plan, batch: batch, jobs: jobs, threads: threads))
        let progress = Progress(total: plan.pending.count, console: console)
        // One pipeline per job, each with its own pool; they share the parsed model.
        let matters = (0..<jobs).map { _ in Matter(segmenter: segmenter, pool: ThreadPool(threadCount: threads)) }
        let records = await batch.run(plan, matters: matters) { progress.handle($0) }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        for line in Self.summary(records, seconds: seconds) { console.line(line) }

        var failed = records.contains { $0.status == .failed }
        if let report {
            do {
                let bytes = try MatteBatch.Report(batch: batch, records: records, jobs: jobs, started: started, seconds: seconds).encoded()
                try OutputFiles.write([(URL(fileURLWithPath: report), bytes)])
                console.line("report: \(report)")
            } catch {
                printFailure("matte-batch", report, error)
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }

    static func overview(_ plan: MatteBatch.Plan, batch: MatteBatch, jobs: Int, threads: Int) -> String {
        var parts = ["\(plan.items.count) photos"]
        if batch.shard.count > 1 { parts[0] += " in shard \(batch.shard) (\(plan.matchedCount) in the folder)" }
        parts.append("\(plan.pending.count) to do")
        if !plan.finished.isEmpty { parts.append("\(plan.finished.count) already done (skipped; --overwrite redoes them)") }
        if !plan.rejected.isEmpty { parts.append("\(plan.rejected.count) refused") }
        if !plan.removedTemporaryFiles.isEmpty { parts.append("\(plan.removedTemporaryFiles.count) stale temporary files removed") }
        if !plan.pending.isEmpty {
            parts.append("\(jobs) job\(jobs == 1 ? "" : "s") × \(threads) thread\(threads == 1 ? "" : "s")")
        }
        return parts.joined(separator: ", ")
    }

    /// The closing lines: totals, rate, the slowest photos and every failure with its reason.
    static func summary(_ records: [MatteBatch.Record], seconds: Double) -> [String] {
        let processed = records.filter { $0.status == .processed }
        let failed = records.filter { $0.status == .failed }
        let skipped = records.count { $0.status == .skipped }
        var lines = [String(format: "processed %d, skipped %d, failed %d in %.1f s", processed.count, skipped, failed.count, seconds)]
        if !processed.isEmpty {
            let perPhoto = processed.reduce(0) { $0 + ($1.seconds ?? 0) } / Double(processed.count)
            lines[0] += String(format: " (%.2f photos/s, %.2f s per photo)", Double(processed.count) / max(seconds, 1e-9), perPhoto)
            let slowest = processed.sorted { ($0.seconds ?? 0) > ($1.seconds ?? 0) }.prefix(3)
            lines.append("slowest: " + slowest.map { String(format: "%@ %.2f s", $0.relativePath, $0.seconds ?? 0) }.joined(separator: ", "))
        }
        if !failed.isEmpty {
            lines.append("failed:")
            lines += failed.map { "  \($0.relativePath): \($0.reason ?? "unknown error")" }
        }
        return lines
    }
}
