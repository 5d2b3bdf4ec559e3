import Foundation
import MattingKit

/// One photo's work as the `matte` and `matte-batch` programs do it: matte the photo and
/// write every requested output.
///
/// The job goes through `Matter.matte(fileAt:writing:options:studio:stripsAbove:progress:)`
/// (or, with a trimap, `Matter.matte(fileAt:trimap:writing:options:stripsAbove:progress:)`):
/// a photo of more than ``stripsAbove`` pixels (and its trimap) is decoded, matted and written
/// in strips of rows, so memory does not grow with the photo's size; smaller ones whole. The
/// preview sheet is made from the rows as they go by (its panels area-downscaled as the rows
/// arrive), with the bytes of ``PreviewSheet/sheet(photo:result:background:)``, so it streams
/// too.
///
/// The outputs are written through temporary files renamed into place at the end, all or
/// none: when ``run(on:progress:)`` throws, none of the job's outputs is left behind (one it
/// had already replaced is removed too, not restored). No output may name the photo or the
/// trimap.
///
/// ```swift
/// var job = MatteJob(input: photoURL, output: cutoutURL)
/// job.maskOutput = maskURL
/// job.previewOutput = previewURL
/// let outcome = try await job.run(on: try Matter(threads: 2))
/// print(outcome.timings)
/// ```
public struct MatteJob: Sendable {
    /// Where the coarse alpha comes from.
    public enum Source: Sendable, Hashable {
        /// The segmentation network of the `Matter` the job is run with.
        case model
        /// A trimap file (0 background, 255 foreground, anything else unknown) of the photo's
        /// size; no network (`Matter.matte(_:trimap:options:progress:)`).
        case trimap(URL)
        /// A product on a plain backdrop; no network (`Matter.studioMatte(_:options:studio:progress:)`).
        case studio
    }

    /// The photo (PNG or JPEG).
    public var input: URL
    /// The cut-out: RGBA PNG, or for ``format`` `.jpeg` a JPEG composited over the background.
    public var output: URL
    /// The main output's format.
    public var format: ImageFormat
    /// Where to write the 8-bit alpha mask (PNG), if at all.
    public var maskOutput: URL?
    /// Where to write a ``PreviewSheet`` (PNG), if at all.
    public var previewOutput: URL?
    /// The coarse alpha's origin.
    public var source: Source
    /// Post-processing, background colour, pre-enhance and the rest.
    public var options: MattingOptions
    /// The contact sheet's layout, for ``previewOutput``.
    public var preview: PreviewSheet
    /// Photos of more pixels than this go through in strips; 0 for every photo. See `Matter.defaultStripThreshold`.
    public var stripsAbove: Int = Matter.defaultStripThreshold

    public init(
        input: URL, output: URL, format: ImageFormat = .png, source: Source = .model,
        options: MattingOptions = MattingOptions(), maskOutput: URL? = nil, previewOutput: URL? = nil,
        preview: PreviewSheet = PreviewSheet()
    ) {
        self.input = input
        self.output = output
        self.format = format
        self.source = source
        self.options = options
        self.maskOutput = maskOutput
        self.previewOutput = previewOutput
        self.preview = preview
    }

    /// Every file the job writes, main output first, then mask, then preview.
    public var outputs: [URL] { [output] + [maskOutput, previewOutput].compactMap { $0 } }

    /// The files the job reads: the photo and, for ``Source/trimap(_:)``, the trimap.
    public var inputs: [URL] { [input] + [trimapURL].compactMap { $0 } }

    var trimapURL: URL? {
        if case let .trimap(url) = source { return url }
        return nil
    }

    /// What a finished job did.
    public struct Outcome: Sendable {
        /// The pipeline's result: always nil, since ``MatteJob/run(on:progress:)`` writes the
        /// outputs as they are made and never hands a whole result back (kept for source
        /// compatibility).
        public let result: MattingResult?
        /// Each stage's time (`Matter.matte(fileAt:writing:options:studio:stripsAbove:progress:)` says
        /// what the stages include on the strip path).
        public let timings: MattingTimings
        /// The files written, in ``MatteJob/outputs`` order.
        public let outputs: [URL]
        /// Seconds spent decoding the photo (and trimap) before matting: 0, since decoding now
        /// happens inside the matte's stages (see ``timings``).
        public let decodeSeconds: Double
        /// Seconds spent encoding and writing the outputs after matting: 0, since they are
        /// written inside the matte's stages (see ``timings``).
        public let writeSeconds: Double
        /// Seconds from start to the last file written.
        public let wallSeconds: Double
        /// The photo's width and height.
        public let width: Int
        public let height: Int
        /// True when the photo went through in strips (see ``MatteJob/stripsAbove``); false
        /// when it was held whole, even if ``result`` is nil.
        public let isStreamed: Bool
    }

    /// Runs the job on `matter`'s pool: decoding, matting and encoding all use its threads.
    ///
    /// - Parameters:
    ///   - matter: the pipeline; it needs a segmenter only for ``Source/model``.
    ///   - progress: the matte's progress (decoding and writing are not included).
    /// - Throws: ``OutputFileError`` if an output names an input (before anything is read);
    ///   the codecs' `ImageError` naming the file; pipeline errors; `CancellationError`.
    ///   Nothing is left written.
    public func run(on matter: Matter, progress: (@Sendable (MattingProgress) -> Void)? = nil) async throws -> Outcome {
        try OutputFiles.refuseToOverwrite(inputs, with: outputs)
        let clock = ContinuousClock()
        let start = clock.now
        // Strips: the photo, trimap, matte and cut-out are never held whole; decoding and
        // writing happen inside the matte's stages, and the preview's panels are made from
        // the rows as they go by. Missing folders are made, as `OutputFiles.write` does.
        for url in outputs {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        let files = StreamedOutputs(cutout: output, format: format, mask: maskOutput)
        let extra: (file: URL, output: any ExtraOutput)? = previewOutput.map { url in
            (url, PreviewSheet.Builder(preview, background: options.background))
        }
        let streamed = try await matter.matte(
            fileAt: input, trimap: trimapURL, writing: files, extra: extra, options: options,
            studio: source == .studio ? StudioTrimap() : nil, stripsAbove: stripsAbove, progress: progress)
        return Outcome(
            result: nil, timings: streamed.timings, outputs: outputs, decodeSeconds: 0, writeSeconds: 0,
            wallSeconds: (clock.now - start).seconds, width: streamed.width, height: streamed.height,
            isStreamed: streamed.isStreamed)
    }
}
