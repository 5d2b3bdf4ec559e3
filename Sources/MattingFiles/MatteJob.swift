import Foundation
import MattingImage

/// One photo's work as the `matte` and `matte-batch` programs do it: decode the photo,
/// matte it, encode every requested output, then write them all.
///
/// Everything is encoded before anything is written, and the writes go through
/// ``OutputFiles/write(_:)`` (temporary file, then rename; files already written are
/// removed again if a later one fails): when ``run(matter:)`` throws, none of the job's
/// outputs is left behind (one it had already replaced is removed too, not restored). No
/// output may name the photo or the trimap.
///
/// ```swift
/// var job = MatteJob(input: photoURL, output: cutoutURL)
/// job.maskOutput = maskURL
/// job.previewOutput = previewURL
/// let outcome = try job.run { try Matter() }     // the model loads only if the job needs it
/// print(outcome.result.timings)
/// ```
public struct MatteJob: Sendable {
    /// Where the coarse alpha comes from.
    public enum Source: Sendable, Hashable {
        /// The segmentation network of the ``Matter`` the job is run with.
        case model
        /// A trimap file (0 background, 255 foreground, anything else unknown) of the photo's
        /// size; no network (``Matter/matte(_:trimap:options:)``).
        case trimap(URL)
        /// A product on a plain backdrop; no network (``Matter/studioMatte(_:options:studio:)``).
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
        /// The pipeline's result, at the photo's size.
        public let result: MattingResult
        /// The files written, in ``MatteJob/outputs`` order.
        public let outputs: [URL]
        /// Seconds spent decoding the photo (and trimap).
        public let decodeSeconds: Double
        /// Seconds spent encoding and writing every output.
        public let writeSeconds: Double
        /// Seconds from start to the last file written.
        public let wallSeconds: Double
        /// The photo's width and height.
        public var width: Int { result.matte.width }
        public var height: Int { result.matte.height }
    }

    /// Runs the job.
    ///
    /// - Parameter matter: supplies the pipeline for ``Source/model``; called at most once,
    ///   after the photo decoded, and not at all for a trimap or studio job.
    /// - Throws: ``OutputFileError`` if an output names an input (before anything is read);
    ///   the codecs' `ImageError` naming the file; pipeline errors. Nothing is left written.
    public func run(matter: () throws -> Matter) throws -> Outcome {
        try OutputFiles.refuseToOverwrite(inputs, with: outputs)
        let clock = ContinuousClock()
        let start = clock.now
        let photo = try Image(contentsOf: input)
        let trimap = try trimapURL.map { try Image(contentsOf: $0) }
        let decoded = clock.now
        let result: MattingResult
        if let trimap {
            result = try Matter.matte(photo, trimap: trimap, options: options)
        } else if source == .studio {
            result = try Matter.studioMatte(photo, options: options)
        } else {
            result = try matter().matte(photo, options: options)
        }
        let matted = clock.now
        let encodeMain = { () throws -> [UInt8] in
            format == .jpeg
                ? try result.composited(over: options.background).encoded(as: .jpeg)
                : try result.cutoutPNG()
        }
        var files: [(url: URL, bytes: [UInt8])]
        if let maskOutput {
            let (main, mask) = try Self.both(encodeMain, { try result.matte.encoded(as: .png) })
            files = [(output, main), (maskOutput, mask)]
        } else {
            files = [(output, try encodeMain())]
        }
        if let previewOutput {
            let sheet = preview.sheet(photo: photo, result: result, background: options.background)
            files.append((previewOutput, try sheet.encoded(as: .png)))
        }
        try OutputFiles.write(files)
        let written = clock.now
        return Outcome(
            result: result, outputs: files.map(\.url), decodeSeconds: Self.seconds(decoded - start),
            writeSeconds: Self.seconds(written - matted), wallSeconds: Self.seconds(written - start))
    }

    /// `(first(), second())`: `second` runs on another thread while `first` runs on this one;
    /// the first error in that order is thrown.
    ///
    /// The job encodes the cut-out and the mask this way: the cut-out's PNG deflates in two
    /// bands on two threads and the mask's in one (~5–10 ms at 2 MP), which would otherwise
    /// wait for both bands; three threads on two cores finish sooner than two, then one. The
    /// cut-out stays on the calling thread, whose heap already holds freed memory to reuse.
    static func both<A, B: Sendable>(_ first: () throws -> A, _ second: @escaping @Sendable () throws -> B) throws -> (A, B) {
        let other = BackgroundValue(second)
        let a = Result { try first() }
        let b = Result { try other.value() }
        return (try a.get(), try b.get())
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
