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
    /// turned photo, writing its upright pixels to the temporary spill file; with pre-enhance,
    /// the extra pass over the rows for its histograms), and `upsample`
    /// the whole full-size pass: decoding again (or reading the spill file back), upsampling,
    /// post-processing, encoding and writing, strip by strip.
    public let timings: MattingTimings
    /// True when the photo went through in strips; false when it needed the whole-picture
    /// path (see ``Matter/matte(fileAt:writing:options:studio:stripsAbove:progress:)``).
    public let isStreamed: Bool
}

/// The encoded outputs ``Matter/matte(encoded:writing:options:studio:decoding:stripsAbove:progress:)``
/// returns in memory.
public struct EncodedOutputs: Sendable, Hashable {
    /// The cut-out's format: an RGBA PNG, or a JPEG composited over the options' background
    /// colour; nil for no cut-out.
    public var cutout: ImageFormat?
    /// The 8-bit alpha mask's format (gray PNG or JPEG); nil for no mask.
    public var mask: ImageFormat?
    /// Whether to encode the cut-out's colours without alpha as a JPEG (`result.foreground`).
    public var colours: Bool

    /// The cut-out in `cutout`, the mask in `mask`, and the colours as JPEG if `colours`.
    public init(cutout: ImageFormat? = .png, mask: ImageFormat? = nil, colours: Bool = false) {
        self.cutout = cutout
        self.mask = mask
        self.colours = colours
    }
}

/// What ``Matter/matte(encoded:writing:options:studio:decoding:stripsAbove:progress:)`` made.
public struct EncodedMatte: Sendable {
    /// The photo's width and height.
    public let width: Int
    public let height: Int
    /// As ``StreamedMatte/timings``.
    public let timings: MattingTimings
    /// True when the photo went through in strips.
    public let isStreamed: Bool
    /// The encoded outputs asked for (nil for those not asked for).
    public let cutout: [UInt8]?
    public let mask: [UInt8]?
    public let colours: [UInt8]?
    /// The smallest rectangle holding every pixel of the matte above 0, or nil if there is none.
    public let subjectBounds: ImageRect?
}

/// One encoded output of the strip and whole paths.
enum EncodedOutput: Hashable, Sendable {
    /// RGBA PNG, or JPEG over the background.
    case cutout(ImageFormat)
    case mask(ImageFormat)
    /// The colours without alpha, as JPEG.
    case colours
    /// The cut-out over a colour as PNG (``MattingResult/cutout(over:opacity:pool:)``).
    case cutoutOver(RGBColor, opacity: UInt8)

    /// The whole-picture path's bytes for this output.
    func encoded(_ result: MattingResult, background: RGBColor, pool: ThreadPool) throws -> [UInt8] {
        switch self {
        case .cutout(.png): try result.cutoutPNG(threads: pool.threadCount)
        case .cutout(.jpeg): try result.composited(over: background, pool: pool).encoded(as: .jpeg)
        case let .mask(format): try result.matte.encoded(as: format)
        case .colours: try result.foreground.encoded(as: .jpeg)
        case let .cutoutOver(colour, opacity):
            try result.cutout(over: colour, opacity: opacity, pool: pool).encoded(as: .png, options: EncodingOptions(threads: pool.threadCount))
        }
    }
}

/// Where the strip path reads the photo's rows: a file (read as it decodes) or encoded bytes
/// in memory (an upload; never written anywhere). Each pass opens a reader of its own.
enum RowInput: Sendable {
    case file(String)
    case bytes([UInt8], DecodingOptions)

    /// Runs `body` with a reader at the first row; the reader must not outlive it.
    func withReader<R>(_ body: (ImageRowReader) throws -> R) throws -> R {
        switch self {
        case let .file(path): return try body(try ImageRowReader(path: path, temporaryDirectory: UprightFile.temporaryDirectory))
        case let .bytes(bytes, options):
            return try bytes.withUnsafeBytes {
                try body(try ImageRowReader(bytes: $0, options: options, temporaryDirectory: UprightFile.temporaryDirectory))
            }
        }
    }

    /// The whole picture, as the whole-picture path decodes it.
    func decodeWhole() throws -> Image {
        switch self {
        case let .file(path): try Image(contentsOf: URL(fileURLWithPath: path))
        case let .bytes(bytes, options): try Image(decoding: bytes, options: options)
        }
    }

    /// The upright rows, `header` (read before) checked against the input opened again.
    func upright(expecting header: UprightHeader) throws -> UprightFile {
        switch self {
        case let .file(path): try UprightFile(path: path, expecting: header, temporaryDirectory: UprightFile.temporaryDirectory)
        case let .bytes(bytes, options):
            UprightFile(bytes: bytes, options: options, expecting: header, temporaryDirectory: UprightFile.temporaryDirectory)
        }
    }

    /// The upright rows, the header read here.
    func upright() throws -> UprightFile {
        switch self {
        case let .file(path): try UprightFile(path: path, temporaryDirectory: UprightFile.temporaryDirectory)
        case let .bytes(bytes, options): try UprightFile(bytes: bytes, options: options, temporaryDirectory: UprightFile.temporaryDirectory)
        }
    }

    var name: String {
        switch self {
        case let .file(path): path
        case .bytes: "<memory>"
        }
    }
}

/// Where the subject is in the photo, and the rectangle of the photo the outputs hold.
struct SubjectFrame: Sendable {
    /// The matte's pixels above 0 (`SubjectBounds`), in the whole photo; nil if there is none.
    var subject: ImageRect?
    /// The crop the outputs hold; nil for the whole photo.
    var crop: ImageRect?
}

/// The bounding box of the pixels above 0 in a matte (the subject), gathered row by row or
/// strip by strip.
public struct SubjectBounds: Sendable {
    private var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1

    /// No rows yet.
    public init() {}

    /// Adds rows `firstRow..<firstRow + count` of an 8-bit matte `width` wide, at `rows`, `stride` apart.
    public mutating func add(_ rows: UnsafePointer<UInt8>, stride: Int, width: Int, firstRow: Int, count: Int) {
        for i in 0..<count {
            let row = rows + i * stride
            var x = 0
            while x < width && row[x] == 0 { x += 1 }
            guard x < width else { continue }
            var last = width - 1
            while row[last] == 0 { last -= 1 }
            minX = min(minX, x); maxX = max(maxX, last)
            minY = min(minY, firstRow + i); maxY = firstRow + i
        }
    }

    /// The smallest rectangle holding every pixel above 0 added, or nil if there is none.
    public var rect: ImageRect? {
        maxX >= 0 ? ImageRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1) : nil
    }

    /// The bounds of the whole 8-bit matte `matte`.
    public static func of(_ matte: Image) -> ImageRect? {
        var bounds = SubjectBounds()
        matte.withUnsafeBufferPointer { p, stride in
            bounds.add(p, stride: stride, width: matte.width, firstRow: 0, count: matte.height)
        }
        return bounds.rect
    }
}

extension Matter {
    /// Rows per strip of the full-size passes (a multiple of the post-processing band). The
    /// strip's buffers (photo rows, float and 8-bit matte rows, colours, the decoder's batches,
    /// a guided filter's windows) grow with it; 128 rows cost no more time than 256 did and
    /// less memory (Benchmarks.md, "128-row strips").
    static let stripRows = 128

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
    /// A photo with an EXIF orientation is matted upright, as `Image` decodes it. Mirrored
    /// left–right (orientation 2), its rows are reversed as they are decoded. Turned or flipped
    /// (3–8), the file is decoded once and its upright pixels are written to an anonymous
    /// temporary file in the temporary directory (`TMPDIR`, else `/tmp`), as large as the
    /// decoded photo (3 bytes a pixel for RGB), unlinked as soon as it is made and closed when
    /// the call returns; both passes then read their strips from it. It is read and written,
    /// never mapped, so it does not count in the resident size (its pages are the kernel's
    /// page cache). If it cannot be made or written (no such folder, a full disk) the call
    /// throws `ImageError.spill` naming the input and the folder; it does not fall back to
    /// holding the picture.
    ///
    /// With ``MattingOptions/enhance`` the photo is read once more first: a pass over its rows
    /// gathers the contrast equalisation's tile histograms; pass 1 then enhances the rows
    /// (`RowEnhancement`, the whole-picture path's bytes) and writes them, as it reads them, to
    /// an anonymous spill file like a turned photo's (3 bytes a pixel), which pass 2 reads back
    /// instead of decoding and enhancing again. If that file cannot be made or written, pass 2
    /// decodes and enhances the photo again (same bytes, more time).
    ///
    /// The whole-picture path is taken instead (same files, memory as
    /// ``matte(_:options:progress:)``) for a photo of at most `stripsAbove` pixels (faster, see
    /// ``defaultStripThreshold``). Every post-processing step streams: threshold, erosion and
    /// dilation (any radius) and feathering band by band with a halo; a guided filter with its
    /// running sums carried from strip to strip (the photo's rows as its guide). A caller's
    /// trimap file streams too (``matte(fileAt:trimap:writing:options:stripsAbove:progress:)``).
    ///
    /// An interlaced (Adam7) PNG streams too. It is decoded once, its interlace passes as
    /// stored, into an anonymous spill file like a turned photo's (its decoded size), and both
    /// passes put their rows together from the passes' rows read back from it: the decoding
    /// work of a plain PNG, a band of rows held. If that file cannot be made or written, each
    /// pass decodes the file through one decoder per interlace pass instead (the file opened
    /// once per interlace pass; about twice a plain PNG's decoding each time; same bytes).
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
        if studio == nil && runner == nil { throw MattingError.noModel }
        let path = input.path
        for output in outputs.files where output.standardizedFileURL.resolvingSymlinksInPath().path
            == input.standardizedFileURL.resolvingSymlinksInPath().path {
            throw ImageError.io(path: output.path, detail: "is the input; refusing to overwrite it")
        }
        let files = outputs.files
        let kinds: [EncodedOutput] = [.cutout(outputs.format)] + (outputs.mask == nil ? [] : [.mask(.png)])
        let (matte, _) = try await matte(
            .file(path), writing: kinds, into: { index in try AtomicFileWriter(path: files[index].path) },
            options: options, studio: studio, stripsAbove: stripsAbove, progress: progress)
        return matte
    }

    /// Mattes the PNG or JPEG held in `bytes` (an upload) and returns the encoded outputs in
    /// memory, with the bytes of the whole-picture path (nothing written to disk but the
    /// anonymous spill files below).
    ///
    /// A photo of more than `stripsAbove` pixels goes through in strips as
    /// ``matte(fileAt:writing:options:studio:stripsAbove:progress:)`` does, its rows decoded
    /// from `bytes` (twice): the full-size photo, matte and cut-out are never held, only the
    /// encoded input and outputs. The outputs' bytes are those of the whole-picture result
    /// (`Image(decoding: bytes, options: decoding)` matted with ``matte(_:options:progress:)``
    /// or ``studioMatte(_:options:studio:progress:)``): `result.cutoutPNG()`, or
    /// `result.composited(over: options.background)` as JPEG; `result.matte` encoded as the
    /// mask's format; `result.foreground` as JPEG. The whole-picture path is taken in the cases
    /// listed at ``matte(fileAt:writing:options:studio:stripsAbove:progress:)``. Mirrored (2)
    /// streams; an EXIF orientation that turns or flips the photo (3–8) streams through the
    /// same anonymous temporary spill file as a file does (in `TMPDIR`, no name, its space
    /// reserved before decoding, closed when the call returns), and if it cannot be made the
    /// call throws `ImageError.spill` rather than hold the picture. An interlaced PNG streams,
    /// its passes decoded once from `bytes` into a spill file that both passes read their rows
    /// from, as a file's are (each pass decodes `bytes` again, through one decoder per
    /// interlace pass, if that file cannot be made); with pre-enhance the enhanced rows are
    /// kept for pass 2 in a spill file likewise.
    ///
    /// - Parameters:
    ///   - bytes: a PNG or JPEG file's contents.
    ///   - outputs: what to encode.
    ///   - decoding: the decoding options (the pixel limit).
    ///   - options: as for ``matte(_:options:progress:)``.
    ///   - studio: nil to find the subject with the network (default post-processing: the
    ///     `portrait` preset); a `StudioTrimap` for a product on a plain backdrop, no network
    ///     (default: the `product` preset).
    ///   - stripsAbove: photos of more pixels than this go through in strips; 0 for every photo.
    ///   - progress: as for ``matte(_:options:progress:)``.
    /// - Throws: `ImageError` naming `"<memory>"`; ``MattingError``; `CancellationError`.
    public func matte(
        encoded bytes: [UInt8], writing outputs: EncodedOutputs = EncodedOutputs(), options: MattingOptions = MattingOptions(),
        studio: StudioTrimap? = nil, decoding: DecodingOptions = DecodingOptions(),
        stripsAbove: Int = Matter.defaultStripThreshold, progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> EncodedMatte {
        if studio == nil && runner == nil { throw MattingError.noModel }
        var kinds: [EncodedOutput] = []
        if let format = outputs.cutout { kinds.append(.cutout(format)) }
        if let format = outputs.mask { kinds.append(.mask(format)) }
        if outputs.colours { kinds.append(.colours) }
        let sinks = UncheckedBox(kinds.map { _ in MemorySink() })
        let (matte, frame) = try await matte(
            .bytes(bytes, decoding), writing: kinds, into: { sinks.value[$0] }, options: options, studio: studio,
            stripsAbove: stripsAbove, progress: progress)
        func made(_ kind: EncodedOutput) -> [UInt8]? { kinds.firstIndex(of: kind).map { sinks.value[$0].bytes } }
        return EncodedMatte(
            width: matte.width, height: matte.height, timings: matte.timings, isStreamed: matte.isStreamed,
            cutout: outputs.cutout.flatMap { made(.cutout($0)) }, mask: outputs.mask.flatMap { made(.mask($0)) },
            colours: outputs.colours ? made(.colours) : nil, subjectBounds: frame.subject)
    }

    /// The strip path, or the whole path, from `input` into the sinks `into` makes (one per
    /// output, by index, made when the output is about to be written). All sinks are committed
    /// or none is left. With `cropping`, the outputs hold only the rectangle it gives.
    func matte(
        _ input: RowInput, writing kinds: [EncodedOutput], into makeSink: @escaping @Sendable (Int) throws -> any EncodedSink,
        options: MattingOptions, studio: StudioTrimap?, trimap: RowInput? = nil, extra: (any ExtraOutput)? = nil, stripsAbove: Int,
        cropping: SubjectCrop? = nil, progress: (@Sendable (MattingProgress) -> Void)?
    ) async throws -> (StreamedMatte, SubjectFrame) {
        let runner = self.runner
        if studio == nil && trimap == nil && runner == nil { throw MattingError.noModel }
        let pool = self.pool
        let defaults: MatteOperations = trimap != nil ? .identity : (studio == nil ? .portrait : .product)
        let operations = options.operations(default: defaults)
        let middle: [MattingProgress.Stage] = studio == nil && trimap == nil ? [.segment, .refine] : [.refine]
        let solve: @Sendable (Pipeline, Working) throws -> FloatImage = { pipeline, working in
            if let trimap { return try Self.solve(working, trimap: trimap, options: options, pipeline: pipeline) }
            if let studio {
                return try pipeline.stage(.refine) {
                    try options.refiner(default: .fast).matte(working.float, trimap: studio.trimap(for: working.float), pool: pipeline.pool)
                }
            }
            guard let runner else { throw MattingError.noModel }
            let (coarse, heads) = try pipeline.stage(.segment) {
                try self.coarseAlphaAndHeads(for: working.image, runner: runner, options: options)
            }
            return try pipeline.stage(.refine) {
                let upsampled = coarse.resized(
                    width: working.image.width, height: working.image.height, filter: .bilinear, pool: pipeline.pool)
                return try options.refiner(default: .fast).matte(working.float, coarseAlpha: upsampled, hairRegions: heads, pool: pipeline.pool)
            }
        }
        // Read the header first: its errors name the input, and it decides the path.
        let header = try await pool.run { try input.withReader { UprightHeader($0) } }
        if let trimap { try await pool.run { try Self.checkTrimap(trimap, width: header.width, height: header.height) } }
        let postprocessor = try StripPostprocessor(operations)
        guard header.width * header.height > stripsAbove, let postprocessor else {
            let photo = try await pool.run { try input.decodeWhole() }
            let result: MattingResult
            if let trimap {
                let whole = try await pool.run { try trimap.decodeWhole() }
                result = try await matte(photo, trimap: whole, named: trimap.name, options: options, progress: progress)
            } else if let studio {
                result = try await studioMatte(photo, options: options, studio: studio, progress: progress)
            } else if let progress {
                result = try await matte(photo, options: options, progress: progress)
            } else {
                result = try await matte(photo, options: options)
            }
            let frame = try await pool.run { () throws -> SubjectFrame in
                let subject = SubjectBounds.of(result.matte)
                var result = result, crop: ImageRect?
                if let cropping {
                    let rect = try Self.checkedCrop(cropping(subject, photo.width, photo.height), width: photo.width, height: photo.height)
                    result = MattingResult(matte: result.matte.cropped(to: rect), foreground: result.foreground.cropped(to: rect),
                                           timings: result.timings)
                    crop = rect
                }
                var sinks: [any EncodedSink] = []
                for (index, kind) in kinds.enumerated() {
                    let bytes = try kind.encoded(result, background: options.background, pool: pool)
                    let sink = try makeSink(index)
                    sinks.append(sink)
                    try sink.write(whole: bytes)
                }
                if let extra {
                    let bytes = try extra.encoded(photo: photo, result: result, pool: pool)
                    let sink = try makeSink(kinds.count)
                    sinks.append(sink)
                    try sink.write(whole: bytes)
                }
                try Self.commit(sinks)
                return SubjectFrame(subject: subject, crop: crop)
            }
            return (StreamedMatte(width: photo.width, height: photo.height, timings: result.timings, isStreamed: false), frame)
        }
        let reporter = ProgressReporter(
            stages: [.prepare] + middle + (options.estimatesForeground ? [.foreground] : []) + [.upsample], handler: progress)
        return try await pool.run(progress: { reporter.within($0) }) {
            let pipeline = Pipeline(pool: pool, reporter: reporter)
            let (timings, frame) = try Self.stream(
                input, header: header, writing: kinds, into: makeSink, extra: extra, options: options,
                postprocessor: postprocessor, pipeline: pipeline, cropping: cropping, solve: solve)
            reporter.finish()
            return (StreamedMatte(width: header.width, height: header.height, timings: timings, isStreamed: true), frame)
        }
    }

    /// The whole-picture path's outputs, written all or none.
    static func write(_ result: MattingResult, to outputs: StreamedOutputs, background: RGBColor, pool: ThreadPool) throws {
        var files: [(URL, [UInt8])] = [
            (outputs.cutout, try EncodedOutput.cutout(outputs.format).encoded(result, background: background, pool: pool)),
        ]
        if let mask = outputs.mask { files.append((mask, try EncodedOutput.mask(.png).encoded(result, background: background, pool: pool))) }
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

    /// Commits every sink in order; if one fails, those committed are reverted and the rest discarded.
    private static func commit(_ sinks: [any EncodedSink]) throws {
        for (index, sink) in sinks.enumerated() {
            do {
                try sink.commit()
            } catch {
                for earlier in sinks[..<index] { earlier.revert() }
                for later in sinks[(index + 1)...] { later.discard() }
                throw error
            }
        }
    }

    /// A crop's bounds pass's full-size rows, kept for its outputs' pass in two spill files
    /// (`RowSpill`): the 8-bit matte and the colours (RGB), 4 bytes a pixel. If a write fails
    /// the record is left incomplete, and the outputs' pass makes the rows again instead.
    final class CropRecord {
        let matte: RowSpill
        let colours: RowSpill
        var width: Int { matte.width }
        var isComplete: Bool { matte.isComplete && colours.isComplete }

        init(width: Int, height: Int, input: String) throws {
            let directory = UprightFile.temporaryDirectory
            matte = try RowSpill(width: width, height: height, layout: .gray, input: input, directory: directory)
            colours = try RowSpill(width: width, height: height, layout: .rgb, input: input, directory: directory)
        }

        /// Records the next `count` rows.
        func add(colours rows: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, alphaStride: Int, count: Int) {
            guard matte.failure == nil, colours.failure == nil else { return }
            try? matte.append(alpha, stride: alphaStride, count: count)
            try? colours.append(rows, stride: stride, count: count)
        }
    }

    /// Every output's streaming encoder for a `width × height` picture (the photo or its
    /// crop), fed batches of colour and matte rows; their sinks made by index, in order.
    private final class OutputEncoders {
        let kinds: [EncodedOutput]
        private(set) var sinks: [any EncodedSink] = []
        private var writers: [StripWriter] = []
        /// A JPEG cut-out: the colours composited over the background, a batch at a time.
        private var compositeRows: [UInt8]
        private let width: Int
        private let background: RGBColor
        private let pool: ThreadPool

        var isEmpty: Bool { writers.isEmpty }

        /// `rows`: the most rows a batch holds. The PNGs' bands are deflated on the writers'
        /// own threads while the next batches are made (the bytes do not depend on the thread count).
        init(_ kinds: [EncodedOutput], into makeSink: (Int) throws -> any EncodedSink, width OW: Int, height OH: Int, rows: Int,
             profile: ColorProfile?, background: RGBColor, pool: ThreadPool) throws {
            self.kinds = kinds
            width = OW
            self.background = background
            self.pool = pool
            compositeRows = [UInt8](repeating: 0, count: kinds.contains(.cutout(.jpeg)) ? rows * OW * 3 : 0)
            for (index, kind) in kinds.enumerated() {
                let sink = try makeSink(index)
                sinks.append(sink)
                switch kind {
                case .cutout(.png):
                    writers.append(.png(try StreamingPNGWriter(sink: sink, width: OW, height: OH, layout: .rgba, colorProfile: profile,
                                                               threads: pool.threadCount)))
                case .cutout(.jpeg), .colours:
                    writers.append(.jpeg(try StreamingJPEGWriter(sink: sink, width: OW, height: OH, layout: .rgb, colorProfile: profile)))
                case .mask(.png):
                    writers.append(.png(try StreamingPNGWriter(sink: sink, width: OW, height: OH, layout: .gray, colorProfile: nil,
                                                               threads: pool.threadCount)))
                case .mask(.jpeg):
                    writers.append(.jpeg(try StreamingJPEGWriter(sink: sink, width: OW, height: OH, layout: .gray, colorProfile: nil)))
                case let .cutoutOver(colour, opacity):
                    writers.append(.over(try CutoutOverWriter(sink: sink, width: OW, height: OH, rows: rows, over: colour,
                                                              opacity: opacity, colorProfile: profile, threads: pool.threadCount)))
                }
            }
        }

        /// The next `count` rows: `width` colours (RGB, rows `stride` apart) and matte values
        /// (rows `alphaStride` apart).
        func write(_ colours: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, alphaStride: Int, count: Int) throws {
            let OW = width, background = background, pool = pool
            for (kind, writer) in zip(kinds, writers) {
                switch (kind, writer) {
                case let (_, .over(over)):
                    try over.write(colours, stride: stride, alpha: alpha, alphaStride: alphaStride, count: count, pool: pool)
                case (.cutoutOver, _): preconditionFailure("a cut-out over a colour has its own writer")
                case let (.cutout, .png(png)):
                    try png.write(colours, stride: stride, alpha: alpha, alphaStride: alphaStride, count: count)
                case let (.cutout, .jpeg(jpeg)):
                    try compositeRows.withUnsafeMutableBufferPointer { rows in
                        Compositing.compositeRows(colours, stride: stride, alpha: alpha, alphaStride: alphaStride, over: background,
                                                  width: OW, count: count, into: rows.baseAddress!, outputStride: OW * 3, pool: pool)
                        try jpeg.write(rows.baseAddress!, stride: OW * 3, count: count)
                    }
                case let (.mask, .png(png)): try png.write(alpha, stride: alphaStride, count: count)
                case let (.mask, .jpeg(jpeg)): try jpeg.write(alpha, stride: alphaStride, count: count)
                case let (.colours, .jpeg(jpeg)): try jpeg.write(colours, stride: stride, count: count)
                case (.colours, .png): preconditionFailure("colours are written as JPEG")
                }
            }
        }

        /// Ends every encoder (the sinks are committed by the caller).
        func finish() throws {
            for writer in writers { try writer.finish() }
        }
    }

    /// One output's streaming encoder.
    private enum StripWriter {
        case png(StreamingPNGWriter)
        case jpeg(StreamingJPEGWriter)
        case over(CutoutOverWriter)

        func finish() throws {
            switch self {
            case let .over(writer): try writer.finish()
            case let .png(writer): try writer.finish(committing: false)
            case let .jpeg(writer): try writer.finish(committing: false)
            }
        }
    }

    /// The strip path on the pool's thread: pass 1 builds the working copy, the solver runs,
    /// pass 2 writes the outputs. With `cropping`, a bounds pass makes every matte row and
    /// colour as pass 2 does, encoding nothing, to find the subject's box, and keeps them in
    /// spill files (``CropRecord``); the outputs' pass then reads back and encodes only the
    /// crop's rows and columns. If those files cannot be made or written, the outputs' pass is
    /// pass 2 with the crop (decoding again, stopping after the crop's last row).
    private static func stream(
        _ input: RowInput, header: UprightHeader, writing kinds: [EncodedOutput], into makeSink: (Int) throws -> any EncodedSink,
        extra: (any ExtraOutput)?, options: MattingOptions, postprocessor: StripPostprocessor, pipeline: Pipeline,
        cropping: SubjectCrop?, solve: (Pipeline, Working) throws -> FloatImage
    ) throws -> (MattingTimings, SubjectFrame) {
        let pool = pipeline.pool
        let W = header.width, H = header.height
        let size = options.inputPolicy.workingSize(width: W, height: H)
        extra?.begin(width: W, height: H)
        // Pass 1: the working-size copy and the guide's cell averages, from strips of rows
        // (after spilling the upright pixels, for a turned or flipped photo: half the stage).
        // With pre-enhance, a pass over the rows first gathers CLAHE's histograms, and both
        // passes read the enhanced rows.
        //
        // The working-size results are most of the memory held once pass 1 is done (about 80
        // bytes a working pixel: the copy in 8 bits and in floats, the guide, the matte, the
        // foreground), and pass 2 needs only part of them (`FullSizeSources`): they are held
        // in `results` and dropped as soon as those are made.
        //
        // Enhanced rows cost more to make again than to read back: they are written to a
        // `RowSpill` as pass 1 reads them, and pass 2 reads them from there. If the spill
        // cannot be made or written, pass 2 reads and enhances them again. (An interlaced
        // PNG's rows are read from the spill of its passes `prepare` makes, a turned photo's
        // from its orientation spill.)
        var results: WorkingResults?
        let (source, enhancement, rowSpill) = try pipeline.stage(.prepare, keepingFileErrors: true) {
            () throws -> (UprightFile, RowEnhancement?, RowSpill?) in
            let source = try input.upright(expecting: header)
            let parts = Double(1 + source.preparationParts + (options.enhance ? 1 : 0))
            try source.prepare {
                try pool.checkCancellation()
                pool.reportProgress($0 * Double(source.preparationParts) / parts)
            }
            let enhancement = try options.enhance ? source.withRows { rows in
                try enhancementHistograms(rows, pool: pool) { pool.reportProgress((parts - 2 + $0) / parts) }
            } : nil
            var rowSpill: RowSpill?
            let (working, guide) = try source.withRows { upright in
                // An extra output sees the photo's rows as decoded (before pre-enhance).
                let rows = extra.map { extra in TappedRowSource(upright) { extra.photoRows($0, count: $1) } } ?? upright
                let made: any ImageRowSource = enhancement?.rows(from: rows, pool: pool) ?? rows
                if enhancement != nil {
                    rowSpill = try? RowSpill(width: W, height: H, layout: made.layout, input: input.name,
                                             directory: UprightFile.temporaryDirectory)
                }
                return try firstPass(rowSpill.map { SpillingRowSource(made, into: $0) } ?? made,
                                     width: size.width, height: size.height, pool: pool) {
                    pool.reportProgress((parts - 1 + $0) / parts)
                }
            }
            results = WorkingResults(working: working, guide: guide)
            return (source, enhancement, rowSpill?.isComplete == true ? rowSpill : nil)
        }
        do {
            guard let working = results?.working else { preconditionFailure("pass 1 made the working copy") }
            let alpha = try solve(pipeline, working)
            results?.alpha = alpha
            results?.foreground = try options.estimatesForeground
                ? pipeline.stage(.foreground) { try ForegroundEstimator().foreground(working.float, alpha: alpha, pool: pool) }
                : nil
        }
        // Pass 2: decode again; per strip, the matte rows (with the post-processing's halo),
        // post-processing, the foreground rows, encoding. A crop needs the subject's box
        // first: a bounds pass (pass 2 without outputs) finds it.
        var bounds = SubjectBounds(), crop: ImageRect?
        // What `cropping` throws is the caller's error, thrown as it is (not as the stage's).
        var cropFailure: (any Error)?
        try pipeline.stage(.upsample, keepingFileErrors: true) {
            var sources: FullSizeSources?
            do {
                guard let made = results else { preconditionFailure("the working-size results are made") }
                results = nil
                sources = try FullSizeSources(made, width: W, height: H, pool: pool)
            }
            let passes = cropping == nil ? 1.0 : 2.0
            func pass(_ kinds: [EncodedOutput], extra: (any ExtraOutput)?, crop: ImageRect?, bounds: inout SubjectBounds,
                      recording: CropRecord?, part: Double) throws {
                guard let sources else { preconditionFailure("the full-size sources are kept until the last pass") }
                func run(_ reader: any ImageRowSource) throws {
                    try secondPass(
                        reader, profile: header.colorProfile, writing: kinds, into: makeSink, extra: extra, crop: crop,
                        options: options, postprocessor: postprocessor, sources: sources, bounds: &bounds, recording: recording,
                        pool: pool
                    ) { pool.reportProgress((part + $0) / passes) }
                }
                if let rowSpill { return try run(rowSpill.makeReader()) }
                try source.withRows { reader in try run(enhancement?.rows(from: reader, pool: pool) ?? reader) }
            }
            if let cropping {
                // The bounds pass keeps its matte and colour rows in spill files, when they
                // can be made: the outputs' pass then only reads the crop's back and encodes
                // them (else it makes every row again).
                let record = try? CropRecord(width: W, height: H, input: input.name)
                try pass([], extra: nil, crop: nil, bounds: &bounds, recording: record, part: 0)
                do {
                    crop = try checkedCrop(cropping(bounds.rect, W, H), width: W, height: H)
                } catch {
                    cropFailure = error
                    return
                }
                guard let crop else { preconditionFailure("the crop is checked") }
                if let record, record.isComplete {
                    sources = nil
                    try writeRecorded(record, crop: crop, profile: header.colorProfile, writing: kinds, into: makeSink,
                                      options: options, pool: pool) { pool.reportProgress((1 + $0) / passes) }
                } else {
                    var again = SubjectBounds()
                    try pass(kinds, extra: extra, crop: crop, bounds: &again, recording: nil, part: 1)
                }
            } else {
                try pass(kinds, extra: extra, crop: nil, bounds: &bounds, recording: nil, part: 0)
            }
        }
        if let cropFailure { throw cropFailure }
        return (pipeline.timings.value, SubjectFrame(subject: bounds.rect, crop: crop))
    }

    /// The working-size results of the strip path, held from pass 1 until pass 2's
    /// ``FullSizeSources`` are made from them.
    struct WorkingResults {
        let working: Working
        let guide: [Plane]
        var alpha: FloatImage?
        var foreground: FloatImage?
    }

    /// What pass 2 makes the full-size rows from: only these stay alive through it.
    struct FullSizeSources {
        enum Matte {
            /// The photo is reduced: the guided upsampler's coefficients (the working copy's
            /// matte and guide are not needed any more).
            case upsampled(GuidedUpsampler)
            /// The working copy is the photo: its matte as it is.
            case atFullSize(FloatImage)
        }
        let matte: Matte
        /// Reduced, with the foreground: the working copy and its foreground, for the
        /// full-size colours.
        let corrector: ForegroundCorrector?
        /// Not reduced, with the foreground: the colours in 8 bits.
        let smallForeground: Image?

        var isReduced: Bool { if case .upsampled = matte { true } else { false } }

        init(_ results: WorkingResults, width W: Int, height H: Int, pool: ThreadPool) throws {
            guard let alpha = results.alpha else { preconditionFailure("the matte is solved before pass 2") }
            let working = results.working
            if working.image.width != W || working.image.height != H {
                matte = .upsampled(GuidedUpsampler(
                    alpha, guide: results.guide, guideChannels: 3, width: W, height: H, radius: 2, epsilon: 1e-4, pool: pool))
                corrector = try results.foreground.map {
                    try ForegroundCorrector(working: working.float, foreground: $0, width: W, height: H)
                }
                smallForeground = nil
            } else {
                matte = .atFullSize(alpha)
                corrector = nil
                smallForeground = results.foreground.map { quantizedMatte($0, pool: pool) }
            }
        }
    }

    /// `rect` if it is a non-empty rectangle inside the `width × height` picture.
    static func checkedCrop(_ rect: ImageRect, width: Int, height: Int) throws -> ImageRect {
        guard rect.width > 0, rect.height > 0, rect.x >= 0, rect.y >= 0, rect.x <= width - rect.width, rect.y <= height - rect.height else {
            throw ImageError.invalidArgument("the crop \(rect) is empty or not inside the \(width)×\(height) picture")
        }
        return rect
    }

    /// Pass 2 over `reader`: per strip, the matte rows, post-processing, the colours, and
    /// every output's encoder; then the sinks are committed, all or none. With `crop`, only its
    /// rows and columns are encoded (the matte rows above it are still made: a guided filter
    /// carries its sums from strip to strip), and no row below it is decoded. With no outputs
    /// (`kinds` empty) only the matte rows are made, for `bounds`, and with `recording` they
    /// and the colours are kept for the outputs' pass (``writeRecorded(_:crop:profile:writing:into:options:pool:progress:)``).
    /// `progress` gets 0…1.
    private static func secondPass(
        _ reader: any ImageRowSource, profile: ColorProfile?, writing kinds: [EncodedOutput],
        into makeSink: (Int) throws -> any EncodedSink, extra: (any ExtraOutput)?, crop: ImageRect?,
        options: MattingOptions, postprocessor: StripPostprocessor, sources: FullSizeSources,
        bounds: inout SubjectBounds, recording: CropRecord?, pool: ThreadPool, progress: (Double) -> Void
    ) throws {
        let W = reader.width, H = reader.height, strip = stripRows
        // The rectangle encoded: `OW × OH` at (x0, y0).
        let x0 = crop?.x ?? 0, y0 = crop?.y ?? 0, OW = crop?.width ?? W, OH = crop?.height ?? H, lastRow = y0 + OH
        // An extra output (a preview sheet) sees whole rows; the server's crops have none.
        precondition(extra == nil || crop == nil, "an extra output with a crop")
        let encoders = try OutputEncoders(kinds, into: makeSink, width: OW, height: OH, rows: min(strip, H),
                                          profile: profile?.forColours, background: options.background, pool: pool)
        // `count` rows of `OW` colours and matte values (the matte's rows `W` apart).
        func writeOutputs(_ colours: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, count: Int) throws {
            try extra?.resultRows(colours: colours, stride: stride, alpha: alpha, alphaStride: W, count: count, pool: pool)
            try encoders.write(colours, stride: stride, alpha: alpha, alphaStride: W, count: count)
        }
        let halo = postprocessor.halo
        let corrector = sources.corrector, smallForeground = sources.smallForeground
        let isReduced = sources.isReduced
        // The photo's rows [windowStart, windowEnd) in RGB, and the float matte's rows over the
        // same rows (row y at `(y − windowStart)·W`): each row is upsampled once, and the rows
        // the next strip's halo shares are kept with the photo's.
        let capacity = strip + 2 * halo
        var window = Image(width: W, height: min(capacity, H), layout: .rgb)
        var windowStart = 0, windowEnd = 0
        var floatRows = [Float](repeating: 0, count: isReduced ? min(capacity, H) * W : 0)
        var matteRows = [UInt8](repeating: 0, count: min(strip, H) * W)
        var colourRows = [UInt8](repeating: 0, count: corrector == nil || (kinds.isEmpty && recording == nil) ? 0 : min(strip, H) * W * 3)
        // The rows each strip adds to the window, decoded one strip ahead.
        var counts: [Int] = [], end = 0
        for s0 in stride(from: 0, to: H, by: strip) where min(H, s0 + strip + halo) > end {
            counts.append(min(H, s0 + strip + halo) - end)
            end = min(H, s0 + strip + halo)
        }
        let prefetcher = RowPrefetcher(reader, counts: counts)
        defer { prefetcher.stop() }
        for s0 in stride(from: 0, to: lastRow, by: strip) {
            try pool.checkCancellation()
            let s1 = min(H, s0 + strip), a0 = max(0, s0 - halo), a1 = min(H, s1 + halo)
            // The strip's rows [r0, r1) that are encoded.
            let r0 = max(s0, y0), r1 = min(s1, lastRow)
            // Slide the window to [a0, a1): keep the rows it shares with the last one, decode the rest.
            if windowEnd > a0 {
                let keep = windowEnd - a0
                window.withUnsafeMutableBufferPointer { p, stride in
                    _ = memmove(p, p + (a0 - windowStart) * stride, keep * stride)
                }
                if isReduced {
                    floatRows.withUnsafeMutableBufferPointer { p in
                        _ = memmove(p.baseAddress!, p.baseAddress! + (a0 - windowStart) * W, keep * W * MemoryLayout<Float>.size)
                    }
                }
            } else {
                // The first strip, or no halo (no post-processing): nothing to keep.
                precondition(windowEnd == a0, "strips overlap by the halo")
            }
            windowStart = a0
            let upsampledEnd = max(a0, windowEnd)
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
                    switch sources.matte {
                    case let .upsampled(upsampler):
                        floatRows.withUnsafeMutableBufferPointer { rows in
                            upsampler.rows(upsampledEnd..<a1, photo: photo, photoFirstRow: windowStart, photoStride: photoStride,
                                           into: rows.baseAddress!, firstRow: a0, stride: W, pool: pool)
                            postprocessor.rows(s0..<s1, source: rows.baseAddress!, sourceFirstRow: a0, sourceStride: W,
                                               width: W, height: H, into: matte, firstRow: s0, stride: W, guide: photo,
                                               guideFirstRow: windowStart, guideStride: photoStride, pool: pool)
                        }
                    case let .atFullSize(alpha):
                        alpha.withUnsafeBufferPointer { rows, stride in
                            postprocessor.rows(s0..<s1, source: rows, sourceFirstRow: 0, sourceStride: stride,
                                               width: W, height: H, into: matte, firstRow: s0, stride: W, guide: photo,
                                               guideFirstRow: windowStart, guideStride: photoStride, pool: pool)
                        }
                    }
                    try pool.checkCancellation()
                    bounds.add(matte, stride: W, width: W, firstRow: s0, count: s1 - s0)
                    let encodes = !encoders.isEmpty && r0 < r1
                    guard encodes || recording != nil else { return }
                    // The colours of rows s0..<s1, `stride` apart, to `body`.
                    func withColours(_ body: (UnsafePointer<UInt8>, Int) throws -> Void) throws {
                        if let corrector {
                            try colourRows.withUnsafeMutableBufferPointer { colours in
                                corrector.rows(s0..<s1, photo: photo, photoFirstRow: windowStart, photoStride: photoStride,
                                               into: colours.baseAddress!, firstRow: s0, stride: W * 3, pool: pool)
                                try body(colours.baseAddress!, W * 3)
                            }
                        } else if let smallForeground {
                            try smallForeground.withUnsafeBufferPointer { colours, stride in try body(colours + s0 * stride, stride) }
                        } else {
                            try body(photo + (s0 - windowStart) * photoStride, photoStride)
                        }
                    }
                    try withColours { colours, stride in
                        recording?.add(colours: colours, stride: stride, alpha: matte, alphaStride: W, count: s1 - s0)
                        guard encodes else { return }
                        try writeOutputs(colours + (r0 - s0) * stride + x0 * 3, stride: stride, alpha: matte + (r0 - s0) * W + x0,
                                         count: r1 - r0)
                    }
                }
            }
            progress(min(1, Double(s1) / Double(lastRow)))
        }
        try pool.checkCancellation()
        try encoders.finish()
        var sinks = encoders.sinks
        if let extra {
            let bytes = try extra.finish(pool: pool)
            let sink = try makeSink(kinds.count)
            sinks.append(sink)
            try sink.write(whole: bytes)
        }
        try commit(sinks)
    }

    /// The outputs' pass of a crop from what its bounds pass recorded: the crop's rows of
    /// matte and colours read back from the spill files and encoded (nothing decoded,
    /// upsampled or post-processed again), then the sinks committed, all or none.
    private static func writeRecorded(
        _ record: CropRecord, crop: ImageRect, profile: ColorProfile?, writing kinds: [EncodedOutput],
        into makeSink: (Int) throws -> any EncodedSink, options: MattingOptions, pool: ThreadPool, progress: (Double) -> Void
    ) throws {
        let W = record.width, rows = min(stripRows, crop.height)
        let encoders = try OutputEncoders(kinds, into: makeSink, width: crop.width, height: crop.height, rows: rows,
                                          profile: profile?.forColours, background: options.background, pool: pool)
        let matte = record.matte.makeReader(), colours = record.colours.makeReader()
        matte.skipRows(crop.y)
        colours.skipRows(crop.y)
        var matteBand = Image(width: W, height: rows, layout: .gray)
        var colourBand = Image(width: W, height: rows, layout: .rgb)
        for y in stride(from: 0, to: crop.height, by: rows) {
            try pool.checkCancellation()
            let n = min(rows, crop.height - y)
            try matte.readRows(n, into: &matteBand)
            try colours.readRows(n, into: &colourBand)
            try matteBand.withUnsafeBufferPointer { alpha, alphaStride in
                try colourBand.withUnsafeBufferPointer { colours, stride in
                    try encoders.write(colours + crop.x * 3, stride: stride, alpha: alpha + crop.x, alphaStride: alphaStride, count: n)
                }
            }
            progress(Double(y + n) / Double(crop.height))
        }
        try pool.checkCancellation()
        try encoders.finish()
        try commit(encoders.sinks)
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
