import Foundation
import MattingImage
import MattingRefine

/// Encoded bytes held in memory as a list of chunks, in order: an answer made strip by strip
/// is gathered without the spare capacity (up to as much again) and the copy a growing array
/// makes, and can be sent a chunk at a time without joining them first.
public struct EncodedBytes: Sendable, Equatable {
    /// The bytes, in order; their concatenation is the encoded file.
    public let chunks: [[UInt8]]

    /// Bytes held as `chunks`, in order.
    public init(chunks: [[UInt8]]) { self.chunks = chunks.filter { !$0.isEmpty } }

    /// The number of bytes.
    public var count: Int { chunks.reduce(0) { $0 + $1.count } }

    /// The bytes in one array (a copy, unless there is a single chunk).
    public var joined: [UInt8] {
        if chunks.count == 1 { return chunks[0] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for chunk in chunks { bytes.append(contentsOf: chunk) }
        return bytes
    }
}

/// An encoded output of ``Matter/matte(encoded:answering:options:studio:decoding:stripsAbove:cropping:progress:)``.
public enum AnswerOutput: Sendable, Hashable {
    /// The cut-out as an RGBA PNG (`result.cutoutPNG()`).
    case cutoutPNG
    /// The cut-out composited over the options' background colour, as JPEG
    /// (`result.composited(over: options.background)` encoded as JPEG).
    case cutoutJPEG
    /// The cut-out laid on `colour` of `opacity` (0…255), as PNG: the bytes of
    /// ``MattingResult/cutout(over:opacity:pool:)`` encoded as PNG (RGB when `opacity` is 255,
    /// RGBA otherwise).
    case cutoutPNGOver(RGBColor, opacity: UInt8)
    /// The 8-bit matte, as PNG or JPEG (`result.matte.encoded(as:)`).
    case mask(ImageFormat)
    /// The cut-out's colours without alpha, as JPEG (`result.foreground.encoded(as: .jpeg)`).
    case colours

    var encoded: EncodedOutput {
        switch self {
        case .cutoutPNG: .cutout(.png)
        case .cutoutJPEG: .cutout(.jpeg)
        case let .cutoutPNGOver(colour, opacity): .cutoutOver(colour, opacity: opacity)
        case let .mask(format): .mask(format)
        case .colours: .colours
        }
    }
}

/// How ``Matter/matte(encoded:answering:options:studio:decoding:stripsAbove:cropping:progress:)``
/// crops its outputs to the subject (remove.bg's `crop`): given the subject's bounds in the
/// photo (the smallest rectangle holding every pixel of the matte above 0; nil if there is
/// none) and the photo's width and height, the rectangle of the photo the outputs hold. It
/// must lie inside the photo and not be empty. It may throw (for example when there is no
/// subject): the call then throws that error and encodes nothing.
public typealias SubjectCrop = @Sendable (_ subject: ImageRect?, _ width: Int, _ height: Int) throws -> ImageRect

/// What ``Matter/matte(encoded:answering:options:studio:decoding:stripsAbove:cropping:progress:)`` made.
public struct EncodedAnswer: Sendable {
    /// The photo's width and height (the outputs are ``crop``'s when cropped).
    public let width: Int
    public let height: Int
    /// The rectangle of the photo the outputs hold, when they were cropped; nil otherwise.
    public let crop: ImageRect?
    /// As ``StreamedMatte/timings``.
    public let timings: MattingTimings
    /// True when the photo went through in strips.
    public let isStreamed: Bool
    /// The encoded outputs, in the order they were asked for.
    public let outputs: [EncodedBytes]
    /// The smallest rectangle holding every pixel of the matte above 0, in the photo (not the
    /// crop), or nil if there is none.
    public let subjectBounds: ImageRect?
}

extension Matter {
    /// Mattes the PNG or JPEG held in `bytes` (an upload) and returns the outputs asked for,
    /// encoded in memory as chunks: ``matte(encoded:writing:options:studio:decoding:stripsAbove:progress:)``
    /// with more kinds of output (a PNG cut-out over a colour, opaque or translucent; several
    /// masks) and without the spare capacity of a growing array. A photo of more than
    /// `stripsAbove` pixels goes through in strips (the cases that take the whole path are
    /// listed there); the bytes are those of the whole-picture result, as ``AnswerOutput``
    /// says for each.
    ///
    /// With `cropping`, every output holds only the rectangle of the photo it gives for the
    /// subject's bounds: the bytes of the whole-picture result's matte and colours cropped to
    /// it (`Image.cropped(to:)`), then encoded as ``AnswerOutput`` says. In strips, the
    /// subject's box is found by a bounds pass before the outputs are made (the photo decoded
    /// once more, every full-size matte row and colour made without encoding, and kept in
    /// anonymous spill files in `TMPDIR`, 4 bytes a pixel), and the outputs' pass reads back
    /// and encodes only the crop's rows and columns. If those files cannot be made or written,
    /// the outputs' pass makes the rows again instead (same bytes, more time).
    ///
    /// - Parameters:
    ///   - bytes: a PNG or JPEG file's contents.
    ///   - outputs: what to encode, in order (``EncodedAnswer/outputs`` follows it).
    ///   - cropping: nil for the whole photo; else the crop for the subject's bounds.
    ///   - options: as for ``matte(_:options:progress:)``.
    ///   - studio: nil to find the subject with the network (default post-processing: the
    ///     `portrait` preset); a `StudioTrimap` for a product on a plain backdrop, no network
    ///     (default: the `product` preset).
    ///   - decoding: the decoding options (the pixel limit).
    ///   - stripsAbove: photos of more pixels than this go through in strips; 0 for every photo.
    ///   - progress: as for ``matte(_:options:progress:)``.
    /// - Throws: `ImageError` naming `"<memory>"` (`invalidArgument` for a crop outside the
    ///   photo); what `cropping` throws; ``MattingError``; `CancellationError`.
    public func matte(
        encoded bytes: [UInt8], answering outputs: [AnswerOutput], options: MattingOptions = MattingOptions(),
        studio: StudioTrimap? = nil, decoding: DecodingOptions = DecodingOptions(),
        stripsAbove: Int = Matter.defaultStripThreshold, cropping: SubjectCrop? = nil,
        progress: (@Sendable (MattingProgress) -> Void)? = nil
    ) async throws -> EncodedAnswer {
        if studio == nil && runner == nil { throw MattingError.noModel }
        let sinks = UncheckedBox(outputs.map { _ in ChunkedMemorySink() })
        let (matte, frame) = try await matte(
            .bytes(bytes, decoding), writing: outputs.map(\.encoded), into: { sinks.value[$0] }, options: options,
            studio: studio, stripsAbove: stripsAbove, cropping: cropping, progress: progress)
        return EncodedAnswer(
            width: matte.width, height: matte.height, crop: frame.crop, timings: matte.timings, isStreamed: matte.isStreamed,
            outputs: sinks.value.map { EncodedBytes(chunks: $0.chunks) }, subjectBounds: frame.subject)
    }
}

extension MattingResult {
    /// The cut-out laid on `colour` of `opacity` (0…255), as
    /// `Compositing.cutout(_:matte:over:opacity:pool:)` makes it from ``foreground`` and
    /// ``matte``: RGB when `opacity` is 255, RGBA otherwise.
    public func cutout(over colour: RGBColor, opacity: UInt8, pool: ThreadPool = .serial) -> Image {
        // Cannot throw: the initialiser holds the sizes and layouts Compositing checks.
        (try? Compositing.cutout(foreground, matte: matte, over: colour, opacity: opacity, pool: pool)) ?? foreground
    }
}

extension Compositing {
    /// `foreground` (straight colours, RGB) with `matte` as alpha, laid on `colour` of
    /// `opacity` (0…255): for 255, `composite(_:matte:over:pool:)` over `.color(colour)`
    /// (RGB); below, the "over" operator with straight alpha (RGBA): for matte `a` and opacity
    /// `b` (both / 255), alpha `a + b·(1 − a)` and colour `(F·a + C·b·(1 − a)) / alpha`, each
    /// rounded to nearest (a pixel whose alpha is 0 keeps its colours).
    ///
    /// - Throws: `ImageError.invalidArgument` for size or layout mismatches.
    public static func cutout(
        _ foreground: Image, matte: Image, over colour: RGBColor, opacity: UInt8, pool: ThreadPool = .serial
    ) throws -> Image {
        if opacity == 255 { return try composite(foreground, matte: matte, over: .color(colour), pool: pool) }
        guard matte.layout == .gray, matte.width == foreground.width, matte.height == foreground.height else {
            throw ImageError.invalidArgument(
                "the matte is \(matte.width)×\(matte.height) \(matte.layout), the colours \(foreground.width)×\(foreground.height)")
        }
        let rgb = foreground.converted(to: .rgb)
        let width = rgb.width, height = rgb.height
        var colours = Image(width: width, height: height, layout: .rgb)
        var alpha = Image(width: width, height: height, layout: .gray)
        rgb.withUnsafeBufferPointer { f, fStride in
            matte.withUnsafeBufferPointer { a, aStride in
                colours.withUnsafeMutableBufferPointer { d, dStride in
                    alpha.withUnsafeMutableBufferPointer { o, oStride in
                        overRows(f, stride: fStride, alpha: a, alphaStride: aStride, colour: colour, opacity: opacity, width: width,
                                 count: height, into: d, outputStride: dStride, alphaInto: o, alphaOutputStride: oStride, pool: pool)
                    }
                }
            }
        }
        colours.colorProfile = foreground.colorProfile
        return try cutout(colours, matte: alpha)
    }

    /// Rows of ``cutout(_:matte:over:opacity:pool:)`` for `opacity` below 255: `count` rows
    /// of `width` straight RGB colours at `colours` with their matte rows at `alpha`, into RGB
    /// rows at `output` and alpha rows at `alphaOutput`. Rows are split over the pool.
    static func overRows(
        _ colours: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, alphaStride: Int,
        colour: RGBColor, opacity: UInt8, width: Int, count: Int,
        into output: UnsafeMutablePointer<UInt8>, outputStride: Int,
        alphaInto alphaOutput: UnsafeMutablePointer<UInt8>, alphaOutputStride: Int, pool: ThreadPool
    ) {
        let shared = UncheckedBox((colours, alpha, output, alphaOutput))
        let b = Double(opacity) / 255
        let background = [Double(colour.red), Double(colour.green), Double(colour.blue)]
        pool.parallelChunks(count) { rows in
            let (f, a, d, o) = shared.value
            for y in rows {
                let fr = f + y * stride, ar = a + y * alphaStride, dr = d + y * outputStride, or = o + y * alphaOutputStride
                for x in 0..<width {
                    let pixelAlpha = Double(ar[x]) / 255
                    let outA = pixelAlpha + b * (1 - pixelAlpha)
                    guard outA > 0 else {
                        for k in 0..<3 { dr[3 * x + k] = fr[3 * x + k] }
                        or[x] = ar[x]
                        continue
                    }
                    for k in 0..<3 {
                        let v = (Double(fr[3 * x + k]) * pixelAlpha + background[k] * b * (1 - pixelAlpha)) / outA
                        dr[3 * x + k] = UInt8(min(255, max(0, v.rounded())))
                    }
                    or[x] = UInt8(min(255, (outA * 255).rounded()))
                }
            }
        }
    }
}

/// The PNG of `Compositing.cutout(_:matte:over:opacity:pool:)`, written strip by strip:
/// each strip's colours and matte rows are laid on the colour and handed to a
/// `StreamingPNGWriter` (RGB for an opaque colour, RGB plus alpha rows otherwise).
final class CutoutOverWriter {
    private let png: StreamingPNGWriter
    private let colour: RGBColor, opacity: UInt8, width: Int
    private var colours: [UInt8]
    private var alpha: [UInt8]

    /// - Parameters: `rows`: the most rows one ``write(_:stride:alpha:alphaStride:count:pool:)`` gives.
    init(sink: any EncodedSink, width: Int, height: Int, rows: Int, over colour: RGBColor, opacity: UInt8,
         colorProfile: ColorProfile?, threads: Int) throws {
        png = try StreamingPNGWriter(sink: sink, width: width, height: height, layout: opacity == 255 ? .rgb : .rgba,
                                     colorProfile: colorProfile, threads: threads)
        self.colour = colour
        self.opacity = opacity
        self.width = width
        colours = [UInt8](repeating: 0, count: rows * width * 3)
        alpha = [UInt8](repeating: 0, count: opacity == 255 ? 0 : rows * width)
    }

    /// Adds `count` rows of straight RGB colours and their matte rows.
    func write(_ rows: UnsafePointer<UInt8>, stride: Int, alpha matte: UnsafePointer<UInt8>, alphaStride: Int, count: Int,
               pool: ThreadPool) throws {
        let width = width, colour = colour, opacity = opacity, png = png
        try colours.withUnsafeMutableBufferPointer { colours in
            let out = colours.baseAddress!
            if opacity == 255 {
                Compositing.compositeRows(rows, stride: stride, alpha: matte, alphaStride: alphaStride, over: colour,
                                          width: width, count: count, into: out, outputStride: width * 3, pool: pool)
                try png.write(out, stride: width * 3, count: count)
                return
            }
            try alpha.withUnsafeMutableBufferPointer { alpha in
                Compositing.overRows(rows, stride: stride, alpha: matte, alphaStride: alphaStride, colour: colour, opacity: opacity,
                                     width: width, count: count, into: out, outputStride: width * 3,
                                     alphaInto: alpha.baseAddress!, alphaOutputStride: width, pool: pool)
                try png.write(out, stride: width * 3, alpha: alpha.baseAddress!, alphaStride: width, count: count)
            }
        }
    }

    /// Writes the end of the PNG (the sink is committed by the caller).
    func finish() throws { try png.finish(committing: false) }
}

/// Encoded bytes gathered in memory in chunks of at most ``chunkSize`` (a whole picture
/// written at once is kept as one chunk, without a copy).
final class ChunkedMemorySink: EncodedSink {
    static let chunkSize = 1 << 20
    let name = "<memory>"
    /// The full chunks so far; ``commit()`` adds the last one.
    private(set) var chunks: [[UInt8]] = []
    private var current: [UInt8] = []

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        var rest = bytes
        while !rest.isEmpty {
            if current.isEmpty { current.reserveCapacity(Self.chunkSize) }
            let n = min(rest.count, Self.chunkSize - current.count)
            current.append(contentsOf: rest.prefix(n))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
            if current.count == Self.chunkSize { flush() }
        }
    }

    func write(whole bytes: [UInt8]) throws(ImageError) {
        flush()
        chunks.append(bytes)
    }

    private func flush() {
        guard !current.isEmpty else { return }
        chunks.append(current)
        current = []
    }

    func commit() throws(ImageError) { flush() }
    func discard() { chunks = []; current = [] }
    func revert() { discard() }
}
