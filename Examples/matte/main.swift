import ArgumentParser
import Foundation
import MatteCommandLine
import MattingFiles
import MattingKit

/// Sets the heap policy before anything else runs: it must come before any other thread has
/// allocated, or glibc has already given that thread an arena of its own (Swift's cooperative
/// threads start as soon as the command runs, and a second arena raises the peak resident size).
@main
enum MatteMain {
    static func main() async {
        HeapPolicy.preferReuse()
        await MatteCommand.main()
    }
}

/// `matte`: cut the subject out of one photo.
struct MatteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matte",
        abstract: "Cut the subject out of a photo: a transparent PNG (or a JPEG on a colour), and optionally the alpha mask.",
        discussion: """
            Presets (threshold / feather / erosion): portrait 12/on/1, product 8/on/0, \
            complexBackground 22/on/2, none. By default the preset depends on the input: portrait on the \
            model path, none with --trimap (the solver's alpha as it is: the presets were tuned for the \
            model's mattes and degrade a trimap's), product with --studio. --alpha-threshold, --erode and \
            --feather override the preset. \
            The alpha solver likewise: with --trimap it runs to the exact minimiser of the closed-form \
            energy (--solver exact, a little slower than fast: Docs/Benchmarks.md), elsewhere it stops early \
            (--solver fast). \
            --preview writes a contact sheet: photo, matte, cut-out on a checkerboard, cut-out on \
            --background, each panel scaled so its longer side is at most 512 px.
            """)

    @Argument(help: "The photo (PNG or JPEG).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (default: <input stem>-matte.png beside the input); missing folders are created.")
    var output: String?

    @Option(help: "Output format: png (RGBA, keeps alpha) or jpeg (composited over --background). Default: from the output's extension, else png.")
    var format: OutputFormatArgument?

    @OptionGroup var matting: MatteArguments

    @Option(help: "Also write the 8-bit alpha mask (PNG) here.")
    var saveMask: String?

    @Option(help: "Also write a preview contact sheet (PNG) here.")
    var preview: String?

    @Option(help: "Use this trimap (0 background, 255 foreground, other values unknown) instead of the model.")
    var trimap: String?

    @Option(parsing: .unconditional, help: "Threads for the whole job (decode, network, solver, encode). Default: the cores available.")
    var threads: Int = Matter.defaultThreadCount

    @Flag(help: "Print per-stage timings, CPU time and resident memory to stderr.")
    var timings = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Matte the photo this many times in one process (for benchmarks; with --timings, one line per run).", visibility: .hidden))
    var `repeat`: Int = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Photos of more pixels than this go through in strips (0: every photo; for tests and benchmarks).", visibility: .hidden))
    var stripsAbove: Int = Matter.defaultStripThreshold

    @Option(help: ArgumentHelp("Post-processing steps as JSON (MatteOperations, e.g. [{\"guidedFilter\":{\"radius\":8,\"epsilon\":0.0001}},{\"erode\":{\"radius\":12}}]), replacing the preset and parameters (for tests and benchmarks).", visibility: .hidden))
    var operations: String?

    func validate() throws {
        if matting.studio && trimap != nil { throw ValidationError("--studio and --trimap exclude each other") }
    }

    /// Values out of range: one line and status 1 through ``run()``'s report, like any bad input.
    func checkRanges() throws {
        try matting.checkRanges()
        try requireAtLeast(1, threads, "--threads")
        try requireAtLeast(1, `repeat`, "--repeat")
        try requireAtLeast(0, stripsAbove, "--strips-above")
    }

    func run() async throws {
        do {
            try checkRanges()
            try await process()
        } catch {
            printFailure("matte", input, error)
            throw ExitCode.failure
        }
    }

    func process() async throws {
        let outputURL = URL(fileURLWithPath: output ?? Self.defaultOutput(for: input, jpeg: format?.format == .jpeg))
        let format = try outputFormat(for: outputURL.path, format: format?.format)
        var job = MatteJob(
            input: URL(fileURLWithPath: input), output: outputURL, format: format,
            source: trimap.map { .trimap(URL(fileURLWithPath: $0)) } ?? (matting.studio ? .studio : .model),
            options: try matting.options(pathDefault: MatteArguments.pathDefault(trimap: trimap != nil, studio: matting.studio)),
            maskOutput: saveMask.map { URL(fileURLWithPath: $0) }, previewOutput: preview.map { URL(fileURLWithPath: $0) })
        job.stripsAbove = stripsAbove
        if let operations {
            do {
                job.options.operations = try JSONDecoder().decode(MatteOperations.self, from: Data(operations.utf8))
            } catch {
                throw ArgumentFailure("--operations is not a list of post-processing steps: \(error)")
            }
        }
        let matter = Matter(segmenter: job.source == .model ? try matting.segmenter() : nil, pool: ThreadPool(threadCount: threads))
        var outputs: [URL] = []
        for _ in 0..<`repeat` {
            let outcome = try await job.run(on: matter)
            outputs = outcome.outputs
            if timings {
                let usage = ProcessUsage.current
                // Read and written from files by the pipeline (in strips or whole), decoding is
                // part of prepare and encoding part of upsample.
                let stages = outcome.result == nil
                    ? (outcome.isStreamed ? "streamed in strips: " : "whole, from and to files: ") + "\(outcome.timings), "
                    : "decode \(milliseconds(outcome.decodeSeconds)), \(outcome.timings), encode+write \(milliseconds(outcome.writeSeconds)), "
                FileHandle.standardError.write(Data((stages + "wall \(milliseconds(outcome.wallSeconds)); "
                    + "process cpu \(milliseconds(usage.cpuSeconds)), rss \(usage.residentMiB) MiB, peak rss \(usage.peakResidentMiB) MiB, "
                    + "heap in use \(usage.heapInUseKiB) KiB, threads \(usage.threads)\n").utf8))
            }
        }
        for url in outputs { print(url.path) }
    }

    static func defaultOutput(for input: String, jpeg: Bool) -> String {
        let url = URL(fileURLWithPath: input)
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)-matte.\(jpeg ? "jpg" : "png")").path
    }
}
