import Foundation
import MattingImage
import MattingRefine

/// Where ``Matter/matte(fileAt:writing:options:studio:stripsAbove:progress:)`` writes.
public struct StreamedOutputs: Sendable, Hashable {
    /// The cut-out: an RGBA PNG, or for ``format`` `.jpeg` a JPEG composited over the
    /// options' background colour.
    public var cutout: URL
    /// The cut-out's format.
    public var format: ImageFormat
    /// Where to write the 8-bit alpha mask (PNG), if at all.
    public var mask: URL?

    /// Outputs for a cut-out at `cutout` in `format`, and the mask at `mask` if given.
    public init(cutout: URL, format: ImageFormat = .png, mask: URL? = nil) {
        self.cutout = cutout
        self.format = format
        self.mask = mask
    }

    /// The files written, cut-out first.
    public var files: [URL] { [cutout] + [mask].compactMap { $0 } }
}

/// What ``Matter/matte(fileAt:writing:options:studio:stripsAbove:progress:)`` did.
public struct StreamedMatte: Sendable {
    /// The photo's width and height.
    public let width: Int
    public let height: Int
    /// Each stage's time. On the strip path, `prepare` includes decoding the photo (and, for a
    /// turned photo, writing its upright pixels to the temporary spill file), and `upsample`
    /// the whole full-size pass: decoding again (or reading the spill file back), upsampling,
    /// post-processing, encoding and writing, strip by strip.
    public let timings: MattingTimings
    /// True when the photo went through in strips; false when it needed the whole-picture
    /// path (see ``Matter/matte(fileAt:writing:options:studio:stripsAbove:progress:)``).
    public let isStreamed: Bool
}

extension Matter {
    /// Rows per strip of the full-size passes (a multiple of the post-processing band).
    static let stripRows = 256

    /// The default for `stripsAbove` of ``matte(fileAt:writing:options:studio:stripsAbove:progress:)``:
    /// photos of more pixels than this (16 MP) go through in strips, smaller ones whole.
    ///
    /// Whole is faster (the file is decoded once, and the cut-out's PNG is deflated on every
    /// thread of the pool) and, up to this size, keeps the peak under the strip path's own
    /// budget; above it memory would grow with the photo (figures in Docs/Benchmarks.md).
    public static let defaultStripThreshold = 16 << 20

    /// Mattes the photo in the file at `input` and writes the outputs, without holding the
    /// full-size photo, matte or cut-out: the file is decoded a strip of rows at a time into
    /// the working-size copy (the network and the solver only ever see that), then decoded
    /// again while the matte is upsampled, post-processed, and the cut-out and mask are
    /// encoded and written strip by strip. Memory then depends on the photo's width and the
    /// working size, not on its height.
    ///
    /// The files hold the same bytes as matting the decoded photo with
    /// ``matte(_:options:progress:)`` (or ``studioMatte(_:options:studio:progress:)``) and
    /// writing `result.cutoutPNG()` and `result.matte.encoded(as: .png)`.
    ///
    /// A JPEG cut-out (``StreamedOutputs/format`` `.jpeg`) is composited over the options'
    /// background and encoded strip by strip, with the bytes of `result.composited(over:)`
    /// encoded as JPEG.
    ///
    /// A photo with an EXIF orientation is matted upright, as ``Image`` decodes it. Mirrored
    /// left–right (orientation 2), its rows are reversed as they are decoded. Turned or flipped
    /// (3–8), the file is decoded once and its upright pixels are written to an anonymous
    /// temporary file in the temporary directory (`TMPDIR`, else `/tmp`), as large as the
    /// decoded photo (3 bytes a pixel for RGB), unlinked as soon as it is made and closed when
    /// the call returns; both passes then read their strips from it. It is read and written,
    /// never mapped, so it does not count in the resident size (its pages are the kernel's
    /// page cache). If it cannot be made or written (no such folder, a full disk) the call
    /// throws `ImageError.io` naming the input and the spill file; it does not fall back to
    /// holding the picture.
    ///
    /// The whole-picture path is taken instead (same files, memory as
    /// ``matte(_:options:progress:)``) for a photo of at most `stripsAbove` pixels (faster, see
    /// ``defaultStripThreshold``), an interlaced PNG, pre-enhance, and post-processing with a
    /// step that has no banded form (a guided filter, a custom operator, erosion wider than
    /// 8 px).
    ///
    /// Outputs are written as `AtomicFile` does: through temporary files renamed at the end.
    /// When the call throws — a decoding error, a full disk, cancellation — no output is left:
    /// temporary files are removed, and one already renamed into place is removed again.
    ///
    /// - Parameters:
    ///   - input: a PNG or JPEG file.
    ///   - outputs: the files to write; none may be `input`.
    ///   - options: as for ``matte(_:options:progress:)``.
    ///   - studio: nil to find the subject with the network (default post-processing: the
    ///     `portrait` preset); a `StudioTrimap` for a product on a plain backdrop, no network
    ///     (default: the `product` preset).
    ///   - stripsAbove: photos of more pixels than this go through in strips; 0 for every photo.
    ///   - progress: as for ``matte(_:options:progress:)``.
    /// - Throws: `ImageError` naming the file (input or output); ``MattingError``;
    ///   `CancellationError`.
    public func matte(
        fileAt input: URL, writing outputs: StreamedOutputs, options: MattingOptions = MattingOptions(),
        studio: StudioTrimap? = nil, stripsAbove: Int = Matter.defaultStripThreshold,
        progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> StreamedMatte {
        let runner = self.runner
        if studio == nil && runner == nil { throw MattingError.noModel }
        let pool = self.pool
        let defaults: MatteOperations = studio == nil ? .portrait : .product
        let operations = options.operations(default: defaults)
        let middle: [MattingProgress.Stage] = studio == nil ? [.segment, .refine] : [.refine]
        let solve: @Sendable (Pipeline, Working) throws -> FloatImage = { pipeline, working in
            if let studio {
                return try pipeline.stage(.refine) {
                    try options.refiner.matte(working.float, trimap: studio.trimap(for: working.float), pool: pipeline.pool)
                }
            }
            guard let runner else { throw MattingError.noModel }
            let coarse = try pipeline.stage(.segment) { try self.coarseAlpha(for: working.image, runner: runner, options: options) }
            return try pipeline.stage(.refine) {
                let upsampled = coarse.resized(
                    width: working.image.width, height: working.image.height, filter: .bilinear, pool: pipeline.pool)
                return try options.refiner.matte(working.float, coarseAlpha: upsampled, pool: pipeline.pool)
            }
        }
        let path = input.path
        for output in outputs.files where output.standardizedFileURL.resolvingSymlinksInPath().path
            == input.standardizedFileURL.resolvingSymlinksInPath().path {
            throw ImageError.io(path: output.path, detail: "is the input; refusing to overwrite it")
        }
        // Open the file first: its errors name it, and it decides the path.
        let reader = try await pool.run { try UncheckedBox(ImageRowReader(path: path)) }.value
        let postprocessor = try StripPostprocessor(operations)
        guard reader.width * reader.height > stripsAbove, let postprocessor, reader.canReadRows, !options.enhance
        else {
            let photo = try await pool.run { try Image(contentsOf: input) }
            let result: MattingResult
            if let studio {
                result = try await studioMatte(photo, options: options, studio: studio, progress: progress)
            } else if let progress {
                result = try await matte(photo, options: options, progress: progress)
            } else {
                result = try await matte(photo, options: options)
            }
            try await pool.run { try Self.write(result, to: outputs, background: options.background, pool: pool) }
            return StreamedMatte(width: photo.width, height: photo.height, timings: result.timings, isStreamed: false)
        }
        let reporter = ProgressReporter(
            stages: [.prepare] + middle + (options.estimatesForeground ? [.foreground] : []) + [.upsample], handler: progress)
        let readerBox = UncheckedBox(reader)
        return try await pool.run(progress: { reporter.within($0) }) {
            let pipeline = Pipeline(pool: pool, reporter: reporter)
            let (timings, width, height) = try Self.stream(
                readerBox.value, path: path, outputs: outputs, options: options, postprocessor: postprocessor,
                pipeline: pipeline, solve: solve)
            reporter.finish()
            return StreamedMatte(width: width, height: height, timings: timings, isStreamed: true)
        }
    }

    /// The whole-picture path's outputs, written all or none.
    static func write(_ result: MattingResult, to outputs: StreamedOutputs, background: RGBColor, pool: ThreadPool) throws {
        var files: [(URL, [UInt8])] = [
            (outputs.cutout, outputs.format == .jpeg
                ? try result.composited(over: background, pool: pool).encoded(as: .jpeg)
                : try result.cutoutPNG(threads: pool.threadCount)),
        ]
        if let mask = outputs.mask { files.append((mask, try result.matte.encoded(as: .png))) }
        var written: [URL] = []
        do {
            for (url, bytes) in files {
                try AtomicFile.write(bytes, to: url)
                written.append(url)
            }
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
    }

    /// The upright rows of the file, for each pass: read from the file (upright, or mirrored
    /// row by row), or spilled once to a temporary file and read back from it (orientations
    /// 3–8; see `OrientationSpill`). Call `rows()` once per pass.
    private final class UprightSource {
        private let path: String
        private let reader: ImageRowReader
        private let spill: OrientationSpill?
        private var fresh: Bool

        init(_ reader: ImageRowReader, path: String) throws(ImageError) {
            self.path = path
            self.reader = reader
            fresh = true
            switch reader.orientation {
            case .up, .upMirrored: spill = nil
            default:
                spill = try OrientationSpill(reader, directory: Self.temporaryDirectory)
            }
        }

        /// $TMPDIR, else /tmp (as `FileManager.temporaryDirectory`), without a trailing slash.
        static var temporaryDirectory: String {
            var directory = FileManager.default.temporaryDirectory.path
            while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
            return directory
        }

        /// Spills the file if it needs it (reporting 0…1 of that work), checking for cancellation.
        func prepare(pool: ThreadPool, progress: (Double) -> Void) throws {
            guard let spill else { return }
            while try spill.spillNextStrip() {
                try pool.checkCancellation()
                progress(spill.fraction)
            }
        }

        var needsSpill: Bool { spill != nil }

        /// The upright rows from the top: the reader given first, then the file opened again.
        func rows() throws -> any ImageRowSource {
            if let spill { return spill.makeReader() }
            let reader: ImageRowReader
            if fresh {
                fresh = false
                reader = self.reader
            } else {
                reader = try ImageRowReader(path: path)
                guard reader.width == self.reader.width, reader.height == self.reader.height, reader.layout == self.reader.layout,
                      reader.orientation == self.reader.orientation, reader.canReadRows else {
                    throw ImageError.corrupt(source: path, detail: "the file changed while it was read")
                }
            }
            return reader.orientation == .upMirrored ? MirroredRowReader(reader) : reader
        }
    }

    /// The strip path on the pool's thread: pass 1 builds the working copy, the solver runs,
    /// pass 2 writes the outputs. Returns the timings and the upright size.
    private static func stream(
        _ opened: ImageRowReader, path: String, outputs: StreamedOutputs, options: MattingOptions,
        postprocessor: StripPostprocessor, pipeline: Pipeline, solve: (Pipeline, Working) throws -> FloatImage
    ) throws -> (MattingTimings, Int, Int) {
        let pool = pipeline.pool
        let swaps = opened.orientation.swapsDimensions
        let W = swaps ? opened.height : opened.width, H = swaps ? opened.width : opened.height, strip = stripRows
        let size = options.inputPolicy.workingSize(width: W, height: H)
        let isReduced = size.width != W || size.height != H
        // Pass 1: the working-size copy and the guide's cell averages, from strips of rows
        // (after spilling the upright pixels, for a turned or flipped photo: half the stage).
        let (working, guide, source) = try pipeline.stage(.prepare, keepingFileErrors: true) {
            () throws -> (Working, [Plane], UprightSource) in
            let source = try UprightSource(opened, path: path)
            let share = source.needsSpill ? 0.5 : 0
            try source.prepare(pool: pool) { pool.reportProgress($0 * share) }
            let first = try source.rows()
            let (working, guide) = try firstPass(first, width: size.width, height: size.height, pool: pool) {
                pool.reportProgress(share + $0 * (1 - share))
            }
            return (working, guide, source)
        }
        let alpha = try solve(pipeline, working)
        let foreground = try options.estimatesForeground
            ? pipeline.stage(.foreground) { try ForegroundEstimator().foreground(working.float, alpha: alpha, pool: pool) }
            : nil
        // Pass 2: decode again; per strip, the matte rows (with the post-processing's halo),
        // post-processing, the foreground rows, encoding.
        try pipeline.stage(.upsample, keepingFileErrors: true) {
            let reader = try source.rows()
            // The PNGs' bands are deflated on the writers' own threads while the next strips
            // are made (the bytes do not depend on the thread count).
            let cutout = try outputs.format == .png
                ? StreamingPNGWriter(path: outputs.cutout.path, width: W, height: H, layout: .rgba,
                                     colorProfile: opened.colorProfile?.forColours, threads: pool.threadCount)
                : nil
            // A JPEG cut-out: the colours composited over the background, strip by strip.
            let jpeg = try outputs.format == .jpeg
                ? StreamingJPEGWriter(path: outputs.cutout.path, width: W, height: H, layout: .rgb, colorProfile: opened.colorProfile?.forColours)
                : nil
            var compositeRows = [UInt8](repeating: 0, count: jpeg == nil ? 0 : min(strip, H) * W * 3)
            func writeCutout(_ colours: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, count: Int) throws {
                try cutout?.write(colours, stride: stride, alpha: alpha, alphaStride: W, count: count)
                guard let jpeg else { return }
                try compositeRows.withUnsafeMutableBufferPointer { rows in
                    Compositing.compositeRows(colours, stride: stride, alpha: alpha, alphaStride: W, over: options.background,
                                              width: W, count: count, into: rows.baseAddress!, outputStride: W * 3, pool: pool)
                    try jpeg.write(rows.baseAddress!, stride: W * 3, count: count)
                }
            }
            let mask = try outputs.mask.map {
                try StreamingPNGWriter(path: $0.path, width: W, height: H, layout: .gray, colorProfile: nil, threads: pool.threadCount)
            }
            let halo = postprocessor.halo
            let upsampler = isReduced
                ? GuidedUpsampler(alpha, guide: guide, guideChannels: 3, width: W, height: H, radius: 2, epsilon: 1e-4, pool: pool)
                : nil
            let corrector = try isReduced ? foreground.map {
                try ForegroundCorrector(working: working.float, foreground: $0, width: W, height: H)
            } : nil
            let smallForeground = isReduced ? nil : foreground.map { quantizedMatte($0, pool: pool) }
            // The photo's rows [windowStart, windowEnd) in RGB, and the float matte's rows.
            let capacity = strip + 2 * halo
            var window = Image(width: W, height: min(capacity, H), layout: .rgb)
            var windowStart = 0, windowEnd = 0
            var floatRows = [Float](repeating: 0, count: isReduced ? min(capacity, H) * W : 0)
            var matteRows = [UInt8](repeating: 0, count: min(strip, H) * W)
            var colourRows = [UInt8](repeating: 0, count: corrector == nil ? 0 : min(strip, H) * W * 3)
            // The rows each strip adds to the window, decoded one strip ahead.
            var counts: [Int] = [], end = 0
            for s0 in stride(from: 0, to: H, by: strip) where min(H, s0 + strip + halo) > end {
                counts.append(min(H, s0 + strip + halo) - end)
                end = min(H, s0 + strip + halo)
            }
            let prefetcher = RowPrefetcher(reader, counts: counts)
            defer { prefetcher.stop() }
            for s0 in stride(from: 0, to: H, by: strip) {
                try pool.checkCancellation()
                let s1 = min(H, s0 + strip), a0 = max(0, s0 - halo), a1 = min(H, s1 + halo)
                // Slide the window to [a0, a1): keep the rows it shares with the last one, decode the rest.
                if windowEnd > a0 {
                    let keep = windowEnd - a0
                    window.withUnsafeMutableBufferPointer { p, stride in
                        _ = memmove(p, p + (a0 - windowStart) * stride, keep * stride)
                    }
                } else {
                    precondition(windowEnd == 0 && a0 == 0, "strips overlap by the halo")
                }
                windowStart = a0
                let fresh = a1 - windowEnd
                if fresh > 0 {
                    let band = try prefetcher.next()
                    precondition(band.height >= fresh, "the prefetched batches follow the window")
                    let rgb = band.converted(to: .rgb)
                    let offset = windowEnd - windowStart
                    rgb.withUnsafeBufferPointer { src, srcStride in
                        window.withUnsafeMutableBufferPointer { dst, dstStride in
                            for i in 0..<fresh { (dst + (offset + i) * dstStride).update(from: src + i * srcStride, count: W * 3) }
                        }
                    }
                    windowEnd = a1
                }
                try window.withUnsafeBufferPointer { photo, photoStride in
                    try matteRows.withUnsafeMutableBufferPointer { matte in
                        let matte = matte.baseAddress!
                        if let upsampler {
                            floatRows.withUnsafeMutableBufferPointer { rows in
                                upsampler.rows(a0..<a1, photo: photo, photoFirstRow: windowStart, photoStride: photoStride,
                                               into: rows.baseAddress!, firstRow: a0, stride: W, pool: pool)
                                postprocessor.rows(s0..<s1, source: rows.baseAddress!, sourceFirstRow: a0, sourceStride: W,
                                                   width: W, height: H, into: matte, firstRow: s0, stride: W, pool: pool)
                            }
                        } else {
                            alpha.withUnsafeBufferPointer { rows, stride in
                                postprocessor.rows(s0..<s1, source: rows, sourceFirstRow: 0, sourceStride: stride,
                                                   width: W, height: H, into: matte, firstRow: s0, stride: W, pool: pool)
                            }
                        }
                        try pool.checkCancellation()
                        let photoRows = photo + (s0 - windowStart) * photoStride
                        if let corrector {
                            try colourRows.withUnsafeMutableBufferPointer { colours in
                                corrector.rows(s0..<s1, photo: photo, photoFirstRow: windowStart, photoStride: photoStride,
                                               into: colours.baseAddress!, firstRow: s0, stride: W * 3, pool: pool)
                                try writeCutout(colours.baseAddress!, stride: W * 3, alpha: matte, count: s1 - s0)
                            }
                        } else if let smallForeground {
                            try smallForeground.withUnsafeBufferPointer { colours, stride in
                                try writeCutout(colours + s0 * stride, stride: stride, alpha: matte, count: s1 - s0)
                            }
                        } else {
                            try writeCutout(photoRows, stride: photoStride, alpha: matte, count: s1 - s0)
                        }
                        try mask?.write(matte, stride: W, count: s1 - s0)
                    }
                }
                pool.reportProgress(Double(s1) / Double(H))
            }
            try pool.checkCancellation()
            try cutout?.finish()
            try jpeg?.finish()
            do {
                try mask?.finish()
            } catch {
                try? FileManager.default.removeItem(at: outputs.cutout)
                throw error
            }
        }
        return (pipeline.timings.value, W, H)
    }

    /// Pass 1: the working-size copy (as `resized(filter: .area)` of the RGB photo) and the
    /// guide's cell averages (empty when the photo is not reduced), from strips of rows.
    private static func firstPass(
        _ reader: any ImageRowSource, width w: Int, height h: Int, pool: ThreadPool, progress: (Double) -> Void
    ) throws -> (Working, [Plane]) {
        let W = reader.width, H = reader.height, strip = stripRows
        let isReduced = w != W || h != H
        // Decoded one strip ahead, while the pool resizes the last.
        let prefetcher = RowPrefetcher(reader, counts: stride(from: 0, to: H, by: strip).map { min(strip, H - $0) })
        defer { prefetcher.stop() }
        var resizer: StreamingResizer? = isReduced
            ? StreamingResizer(width: W, height: H, layout: .rgb, newWidth: w, newHeight: h, filter: .area, maximumBandRows: strip)
            : nil
        var averager: AreaAverager? = isReduced
            ? AreaAverager(width: W, height: H, channels: 3, cellsWide: w, cellsHigh: h)
            : nil
        var whole: Image? = isReduced ? nil : Image(width: W, height: H, layout: .rgb)
        for y0 in stride(from: 0, to: H, by: strip) {
            try pool.checkCancellation()
            let n = min(strip, H - y0)
            let band = try prefetcher.next()
            let rgb: Image = band.converted(to: .rgb)
            resizer?.add(rgb, rows: n, pool: pool)
            rgb.withUnsafeBufferPointer { (src: UnsafePointer<UInt8>, stride: Int) -> Void in
                averager?.add(src, stride: stride, count: n)
                whole?.withUnsafeMutableBufferPointer { (dst: UnsafeMutablePointer<UInt8>, dstStride: Int) -> Void in
                    for i in 0..<n { (dst + (y0 + i) * dstStride).update(from: src + i * stride, count: W * 3) }
                }
            }
            progress(Double(y0 + n) / Double(H))
        }
        let small: Image = resizer?.result ?? whole ?? Image(width: w, height: h, layout: .rgb)
        var guide: [Plane] = []
        if var averager { guide = averager.finish() }
        return (Working(image: small, float: small.converted(to: FloatImage.self, pool: pool)), guide)
    }
}

/// A non-Sendable value handed from the pool's thread to the caller and back; used by one
/// thread at a time.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
