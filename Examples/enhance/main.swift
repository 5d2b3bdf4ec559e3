import ArgumentParser
import Foundation
import MatteCommandLine
import MattingFiles
import MattingKit

/// `enhance`: the pipeline's pre-enhance step on its own.
@main
struct EnhanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enhance",
        abstract: "Pre-enhance a photo: CLAHE on the lightness channel (clip limit 2.0, 8×8 tiles), then a 3×3 sharpen.",
        discussion: """
            The same step as matte --enhance (MattingKit's Enhancement). Writes a lossless PNG of the \
            same size and layout (alpha passes through); no crop, no resize. Never overwrites its input; \
            on failure prints one line and leaves no file behind. Photos over 16 megapixels are read \
            twice a band of rows at a time (tile histograms, then enhanced rows into the encoder), \
            with the same bytes.
            """)

    @Argument(help: "The photo (PNG or JPEG).")
    var input: String

    @Argument(help: "The enhanced PNG; missing folders are created.")
    var output: String

    @Option(help: ArgumentHelp(
        "Photos of more pixels than this are enhanced a band of rows at a time (0: every photo; for tests and benchmarks).",
        visibility: .hidden))
    var stripsAbove: Int = Matter.defaultStripThreshold

    @Option(help: ArgumentHelp("Threads for the band-by-band path (default: the cores available).", visibility: .hidden))
    var threads: Int = Matter.defaultThreadCount

    func run() throws {
        do {
            try requireAtLeast(0, stripsAbove, "--strips-above")
            try requireAtLeast(1, threads, "--threads")
            let inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
            if let format = ImageFormat(fileExtension: outputURL.pathExtension), format != .png {
                throw EnhanceFailure("\(output): enhance writes lossless PNG only; name the output .png")
            }
            try OutputFiles.refuseToOverwrite([inputURL], with: [outputURL])
            let file = try UprightFile(path: inputURL.path, temporaryDirectory: UprightFile.temporaryDirectory)
            if file.width * file.height > stripsAbove {
                try Self.enhanceInBands(file, to: outputURL, pool: ThreadPool(threadCount: threads))
            } else {
                let enhanced = try Enhancement().applied(to: try Image(contentsOf: inputURL))
                try OutputFiles.write([(outputURL, try enhanced.encoded(as: .png))])
            }
            print(outputURL.path)
        } catch {
            printFailure("enhance", input, error)
            throw ExitCode.failure
        }
    }

    /// Rows per band of the band-by-band path.
    static let bandRows = 256

    /// The enhancement a band of rows at a time, with the bytes of the whole path
    /// (`Enhancement().applied(to:)` of the decoded photo, encoded as PNG): a pass over the
    /// upright rows gathers CLAHE's tile histograms (`RowEnhancement`), a second pass reads
    /// the enhanced rows into the streaming PNG encoder. Missing folders are created (and
    /// removed again, with the temporary file, if anything fails).
    static func enhanceInBands(_ file: UprightFile, to output: URL, pool: ThreadPool) throws {
        let W = file.width, H = file.height, layout = file.layout
        if let profile = file.colorProfile, !profile.describes(layout) {
            throw ImageError.unsupportedEncoding(
                destination: output.path, detail: "the colour profile describes \(profile.colorSpace) pixels, this picture is \(layout)")
        }
        var enhancement = try RowEnhancement(Enhancement(), width: W, height: H, layout: layout)
        var band = Image(width: W, height: min(bandRows, H), layout: layout)
        if enhancement.needsFirstPass {
            try file.withRows { rows in
                for y0 in stride(from: 0, to: H, by: bandRows) {
                    let count = min(bandRows, H - y0)
                    try rows.readRows(count, into: &band)
                    enhancement.add(band, count: count, pool: pool)
                }
            }
        }
        try file.withRows { upright in
            let enhanced = enhancement.rows(from: upright, pool: pool)
            let created = try OutputFolders.create(for: output)
            do {
                let png = try StreamingPNGWriter(
                    sink: try AtomicFileWriter(path: output.path), width: W, height: H, layout: layout, colorProfile: file.colorProfile,
                    threads: pool.threadCount, separateAlpha: false)
                for y0 in stride(from: 0, to: H, by: bandRows) {
                    let count = min(bandRows, H - y0)
                    try enhanced.readRows(count, into: &band)
                    try band.withUnsafeBufferPointer { try png.write($0, stride: $1, count: count) }
                }
                try png.finish()
            } catch {
                OutputFolders.remove(created)
                throw error
            }
        }
    }
}

/// The folders made for an output file written piece by piece.
enum OutputFolders {
    /// Creates the missing folders above `file`; returns those made, deepest first.
    static func create(for file: URL) throws -> [String] {
        var missing: [String] = []
        var folder = file.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.path) && folder.path != "/" {
            missing.append(folder.path)
            folder = folder.deletingLastPathComponent()
        }
        if !missing.isEmpty {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        return missing
    }

    /// Removes folders `create(for:)` made, if still empty.
    static func remove(_ folders: [String]) {
        for folder in folders { rmdir(folder) }
    }
}

struct EnhanceFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
