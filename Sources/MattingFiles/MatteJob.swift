import Foundation
import MattingKit

/// One photo's work as the `matte` and `matte-batch` programs do it: decode the photo,
/// matte it, encode every requested output, then write them all.
///
/// Without a preview, the job goes through
/// ``Matter/matte(fileAt:writing:options:studio:stripsAbove:progress:)`` (or, with a trimap,
/// ``Matter/matte(fileAt:trimap:writing:options:stripsAbove:progress:)``): the photo (and
/// trimap) are decoded, matted and written in strips of rows, so memory does not grow with
/// the photo's size. With a preview, the photo is decoded whole.
///
/// Everything is encoded before anything is written, and the writes go through
/// ``OutputFiles/write(_:)`` (temporary file, then rename; files already written are
/// removed again if a later one fails): when ``run(on:progress:)`` throws, none of the job's
/// outputs is left behind (one it had already replaced is removed too, not restored). No
/// output may name the photo or the trimap.
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
        /// The segmentation network of the ``Matter`` the job is run with.
        case model
        /// A trimap file (0 background, 255 foreground, anything else unknown) of the photo's
        /// size; no network (``Matter/matte(_:trimap:options:progress:)``).
        case trimap(URL)
        /// A product on a plain backdrop; no network (``Matter/studioMatte(_:options:studio:progress:)``).
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
    /// Photos of more pixels than this go through in strips (with no preview);
    /// 0 for every photo. See ``Matter/defaultStripThreshold``.
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
        /// The pipeline's result, at the photo's size; nil when the photo went through in
        /// strips (``MatteJob/run(on:progress:)`` then never holds it whole).
        public let result: MattingResult?
        /// Each stage's time (``Matter/matte(fileAt:writing:options:studio:stripsAbove:progress:)`` says
        /// what the stages include on the strip path).
        public let timings: MattingTimings
        /// The files written, in ``MatteJob/outputs`` order.
        public let outputs: [URL]
        /// Seconds spent decoding the photo (and trimap).
        public let decodeSeconds: Double
        /// Seconds spent encoding and writing every output.
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
        if previewOutput == nil {
            // Strips: the photo, trimap, matte and cut-out are never held whole; decoding and
            // writing happen inside the matte's stages. Missing folders are made, as
            // `OutputFiles.write` does.
            for url in outputs {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            }
            let files = StreamedOutputs(cutout: output, format: format, mask: maskOutput)
            let streamed = if let trimapURL {
                try await matter.matte(
                    fileAt: input, trimap: trimapURL, writing: files, options: options, stripsAbove: stripsAbove, progress: progress)
            } else {
                try await matter.matte(
                    fileAt: input, writing: files, options: options, studio: source == .studio ? StudioTrimap() : nil,
                    stripsAbove: stripsAbove, progress: progress)
            }
            return Outcome(
                result: nil, timings: streamed.timings, outputs: outputs, decodeSeconds: 0, writeSeconds: 0,
                wallSeconds: (clock.now - start).seconds, width: streamed.width, height: streamed.height,
                isStreamed: streamed.isStreamed)
        }
        let (photo, trimap) = try await matter.pool.run { [self] in
            (try Image(contentsOf: input), try trimapURL.map { try Image(contentsOf: $0) })
        }
        let decoded = clock.now
        let result: MattingResult
        if let trimap {
            result = try await matter.matte(photo, trimap: trimap, options: options, progress: progress)
        } else if source == .studio {
            result = try await matter.studioMatte(photo, options: options, progress: progress)
        } else if let progress {
            result = try await matter.matte(photo, options: options, progress: progress)
        } else {
            result = try await matter.matte(photo, options: options)
        }
        let matted = clock.now
        let files = try await matter.pool.run { [self] in try encode(result, photo: photo, pool: matter.pool) }
        try OutputFiles.write(files)
        let written = clock.now
        return Outcome(
            result: result, timings: result.timings, outputs: files.map(\.url), decodeSeconds: (decoded - start).seconds,
            writeSeconds: (written - matted).seconds, wallSeconds: (written - start).seconds,
            width: photo.width, height: photo.height, isStreamed: false)
    }

    /// Every output's bytes, in ``outputs`` order.
    ///
    /// The cut-out's PNG is deflated in bands on as many threads as the pool has (the bytes do
    /// not depend on it), so encoding keeps to the same thread budget as the matte.
    func encode(_ result: MattingResult, photo: Image, pool: ThreadPool) throws -> [(url: URL, bytes: [UInt8])] {
        var files: [(url: URL, bytes: [UInt8])] = [
            (output, format == .jpeg
                ? try result.composited(over: options.background, pool: pool).encoded(as: .jpeg)
                : try result.cutoutPNG(threads: pool.threadCount)),
        ]
        if let maskOutput { files.append((maskOutput, try result.matte.encoded(as: .png))) }
        if let previewOutput {
            let sheet = try preview.sheet(photo: photo, result: result, background: options.background)
            files.append((previewOutput, try sheet.encoded(as: .png)))
        }
        return files
    }
}
