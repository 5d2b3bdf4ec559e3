import Foundation
import MattingImage
import MattingRefine

/// The one-call matting pipeline: photo in, matte and cut-out out, at the photo's size.
///
/// ```swift
/// let matter = try Matter()                                   // loads the default model once
/// let photo = try Image(contentsOf: inputURL)
/// let result = try matter.matte(photo, preset: .portrait)
/// try result.cutout.write(to: outputURL, format: .png)
/// try result.matte.write(to: maskURL, format: .png)
/// print(result.timings)
/// ```
///
/// Stages: the photo is reduced to the working size (``InputPolicy``: at most 2048 px a
/// side, short side at most 1600 px); the segmenter finds the subject at low resolution;
/// the refiner builds a trimap around the coarse edge and solves closed-form matting on the
/// unknown band; foreground colours are estimated there; the matte is brought back to the
/// original size along the photo's edges (guided upsampling) and post-processed
/// (threshold → erode → feather for the presets). `Matter` is `Sendable`: one instance can
/// serve many threads at once.
public final class Matter: Sendable {
    /// The segmenter that supplies the coarse alpha.
    public let segmenter: any Segmenter

    /// A pipeline around the installed default model (`Scripts/fetch-models.sh` fetches it).
    ///
    /// - Parameter threads: threads for the network (default 2).
    /// - Throws: ``MattingError/modelMissing(path:)`` if the model is not installed.
    public convenience init(threads: Int = 2) throws {
        try self.init(segmenter: SelfieSegmenter(threads: threads))
    }

    /// A pipeline around a selfie-style TFLite model file.
    public convenience init(modelURL: URL, threads: Int = 2) throws {
        try self.init(segmenter: SelfieSegmenter(modelURL: modelURL, threads: threads))
    }

    /// A pipeline around any segmenter.
    public init(segmenter: any Segmenter) {
        self.segmenter = segmenter
    }

    /// Mattes `image` with a preset's post-processing and default options.
    public func matte(_ image: Image, preset: MatteOperations = .portrait) throws -> MattingResult {
        try matte(image, options: MattingOptions(operations: preset))
    }

    /// Mattes `image`.
    ///
    /// - Parameter image: any layout (alpha is ignored), any size.
    /// - Throws: engine, refine or ``MattingError`` errors; the image is never modified.
    public func matte(_ image: Image, options: MattingOptions) throws -> MattingResult {
        try Self.run(image, options: options) { working, timings in
            let coarse = try timings.measure("segment") { try segmenter.coarseAlpha(for: working.image) }
            return try timings.measure("refine") {
                let upsampled = coarse.resized(width: working.image.width, height: working.image.height, filter: .bilinear)
                return try options.refiner.matte(working.float, coarseAlpha: upsampled)
            }
        }
    }

    /// Mattes `image` from a caller's trimap (0 background, 255 foreground, anything else
    /// unknown), with no network. The trimap is resized (nearest) to the working size.
    ///
    /// - Throws: ``MattingError/sizeMismatch(_:)`` unless the trimap has the image's size.
    public static func matte(_ image: Image, trimap: Image, options: MattingOptions = MattingOptions()) throws -> MattingResult {
        guard trimap.width == image.width, trimap.height == image.height else {
            throw MattingError.sizeMismatch("trimap is \(trimap.width)×\(trimap.height), photo is \(image.width)×\(image.height)")
        }
        return try run(image, options: options) { working, timings in
            try timings.measure("refine") {
                let small = trimap.converted(to: .gray)
                    .resized(width: working.image.width, height: working.image.height, filter: .nearest)
                return try options.refiner.matte(working.float, trimap: Trimap(small))
            }
        }
    }

    /// Mattes `image` from a caller's coarse mask (any single- or multi-channel picture of
    /// the photo's size; the first channel, 0…255, is the coarse alpha), with no network.
    public static func matte(_ image: Image, coarseMask: Image, options: MattingOptions = MattingOptions()) throws -> MattingResult {
        guard coarseMask.width == image.width, coarseMask.height == image.height else {
            throw MattingError.sizeMismatch("mask is \(coarseMask.width)×\(coarseMask.height), photo is \(image.width)×\(image.height)")
        }
        return try run(image, options: options) { working, timings in
            try timings.measure("refine") {
                let coarse = coarseMask.channel(0).converted(to: FloatImage.self)
                    .resized(width: working.image.width, height: working.image.height, filter: .area)
                return try options.refiner.matte(working.float, coarseAlpha: coarse)
            }
        }
    }

    /// Mattes a product shot on a plain or near-uniform backdrop, with no network: the
    /// backdrop colour is estimated from the picture's border, a trimap is made from each
    /// pixel's colour distance to it (``StudioTrimap``), and the same solver runs.
    public static func studioMatte(
        _ image: Image, options: MattingOptions = MattingOptions(operations: .product), studio: StudioTrimap = StudioTrimap()
    ) throws -> MattingResult {
        try run(image, options: options) { working, timings in
            try timings.measure("refine") {
                try options.refiner.matte(working.float, trimap: studio.trimap(for: working.float))
            }
        }
    }

    /// The photo at working size, 8-bit and float.
    struct Working {
        let image: Image
        let float: FloatImage
    }

    /// The stages shared by every path; `solve` turns the working copy into a working-size alpha.
    static func run(
        _ image: Image, options: MattingOptions,
        solve: (Working, inout MattingTimings) throws -> FloatImage
    ) throws -> MattingResult {
        guard !image.isEmpty else { throw ImageError.invalidArgument("cannot matte an empty image") }
        var timings = MattingTimings()
        let (original, working) = try timings.measure("prepare") { () throws -> (Image, Working) in
            var rgb = image.converted(to: .rgb)
            if options.enhance { rgb = try Enhancement().applied(to: rgb) }
            let size = options.inputPolicy.workingSize(width: rgb.width, height: rgb.height)
            let small = rgb.resized(width: size.width, height: size.height, filter: .area)
            return (rgb, Working(image: small, float: small.converted(to: FloatImage.self)))
        }
        let alpha = try solve(working, &timings)
        let foreground = try timings.measure("foreground") { () throws -> FloatImage? in
            options.estimatesForeground ? try ForegroundEstimator().foreground(working.float, alpha: alpha) : nil
        }
        let isReduced = working.image.width != original.width || working.image.height != original.height
        let (fullAlpha, fullForeground) = try timings.measure("upsample") { () throws -> (FloatImage, Image) in
            guard isReduced else {
                return (alpha, foreground.map { quantized($0) } ?? original)
            }
            // The 8-bit photo is the guide: no full-size float copy (see `Refiner.upsampled(_:guide:)`).
            let fullAlpha = try options.refiner.upsampled(alpha, guide: original)
            let fullForeground = try foreground.map { try correctedForeground(original: original, working: working.float, foreground: $0) } ?? original
            return (fullAlpha, fullForeground)
        }
        let matte = try timings.measure("postprocess") {
            // Presets run as one banded pass straight to 8 bits (no full-size float intermediates).
            try options.operations.appliedQuantized(to: fullAlpha)
        }
        return MattingResult(matte: matte, foreground: fullForeground, timings: timings)
    }

    /// A float picture (matte or foreground) as 8-bit: the same rule as `converted(to: Image.self)` (`UInt8(unitValue:)`:
    /// `v·255 + 0.5` truncated, clamped, NaN → 0) in a tight loop over raw pointers (the
    /// generic conversion costs ~100 ms at 12 MP); see `quantizedMatte(_:)`.
    static func quantized(_ matte: FloatImage) -> Image {
        quantizedMatte(matte)
    }

    /// Full-size foreground colours: the original photo plus the working-size correction
    /// `F − I` brought up bilinearly. Where the estimator changed nothing (the opaque
    /// interior, the background) the photo's full detail is kept; in the edge band the old
    /// background's colour is removed.
    static func correctedForeground(original: Image, working: FloatImage, foreground: FloatImage) throws -> Image {
        try Refiner.correctedForeground(original: original, working: working, foreground: foreground)
    }
}
