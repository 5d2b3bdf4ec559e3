import MattingThreads
import MattingImage

/// The refine stage in one call: coarse alpha or trimap in, full-resolution matte (and
/// halo-free foreground) out.
///
/// ```swift
/// let refiner = Refiner()
/// let alpha = try refiner.matte(photo, coarseAlpha: upsampledMask)   // from the network
/// let alpha2 = try refiner.matte(photo, trimap: userTrimap)           // no network
/// let (foreground, _) = try ForegroundEstimator().estimate(photo, alpha: alpha)
/// ```
public struct Refiner: Sendable, Hashable, Codable {
    /// How the trimap is made from a coarse alpha.
    public var trimapOptions = Trimap.Options()
    /// The alpha solver and its stopping rule.
    public var solver = ClosedFormMatting()

    /// Default trimap options and solver.
    public init() {}

    /// The matte of `image` given a user trimap (0 background, 255 foreground, else unknown).
    ///
    /// - Parameters:
    ///   - image: RGB/RGBA (alpha ignored) or gray, values 0…1.
    ///   - trimap: same size as `image`.
    ///   - pool: the threads to solve on; the result does not depend on their number.
    /// - Returns: single-channel matte, 0…1.
    /// - Throws: `ImageError.invalidArgument` if the sizes differ.
    public func matte(_ image: FloatImage, trimap: Trimap, pool: ThreadPool = .serial) throws -> FloatImage {
        try solver.alpha(for: image, trimap: trimap, pool: pool)
    }

    /// The matte of `image` from a coarse alpha of the same size (for example the
    /// segmentation network's mask, bilinearly upsampled): a trimap is made from it
    /// (``Trimap/init(coarseAlpha:options:pool:)``) and the coarse alpha starts the solver.
    /// When no pixel of that trimap is foreground (a faint coarse alpha, nowhere above
    /// ``Trimap/Options/foregroundThreshold``), nothing anchors the solve, whose minimiser would
    /// be 0 everywhere: the coarse alpha is returned as it is.
    ///
    /// - Throws: `ImageError.invalidArgument` if the sizes differ or `coarseAlpha`
    ///   is not single-channel.
    public func matte(_ image: FloatImage, coarseAlpha: FloatImage, pool: ThreadPool = .serial) throws -> FloatImage {
        try matte(image, coarseAlpha: coarseAlpha, hairRegions: [], pool: pool)
    }

    /// As ``matte(_:coarseAlpha:pool:)``, with rectangles (pixels of `image`) where the band is
    /// wide when ``Trimap/Options/hairBand`` is set — around and above a detected head, say.
    /// The photo is the trimap's guide for the hair band's texture cue
    /// (``Trimap/init(coarseAlpha:guide:hairRegions:options:pool:)``).
    ///
    /// - Throws: as ``matte(_:coarseAlpha:pool:)``.
    public func matte(
        _ image: FloatImage, coarseAlpha: FloatImage, hairRegions: [ImageRect], pool: ThreadPool = .serial
    ) throws -> FloatImage {
        try requireSameSize(image, coarseAlpha, "image and coarse alpha")
        let trimap = try Trimap(
            coarseAlpha: coarseAlpha, guide: trimapOptions.hairBand == nil ? nil : image, hairRegions: hairRegions,
            options: trimapOptions, pool: pool)
        // No pixel surely foreground: nothing anchors the solve (its minimiser is 0 everywhere),
        // so the coarse alpha, the only estimate there is, is kept as it is.
        guard trimap.foregroundCount > 0 else { return coarseAlpha }
        return try solver.alpha(for: image, trimap: trimap, initialAlpha: coarseAlpha, pool: pool)
    }
}
