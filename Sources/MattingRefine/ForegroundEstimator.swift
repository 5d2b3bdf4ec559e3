import MattingThreads
import MattingImage

/// Foreground (and background) colour estimation from an image and its matte: Germer,
/// Uelwer, Conrad & Harmeling, "Fast Multi-Level Foreground Estimation", ICPR 2020 — the
/// algorithm of pymatting's `estimate_foreground_ml`, with the same defaults.
///
/// A cut-out that uses the photo's colours keeps the old background mixed into every
/// semi-transparent pixel (a halo). This solves, per pixel, for `F` and `B` with
/// `I ≈ αF + (1−α)B`, regularised towards the neighbours' `F` and `B` with weights
/// `regularization + gradientWeight·|Δα|`. It runs coarse to fine: levels of size
/// `round(w^(l/n)) × round(h^(l/n))`, `n = ceil(log2(max(w, h)))`, nearest-neighbour
/// resampling, starting from the mean colours of `α > 0.9` and `α < 0.1`;
/// `smallIterations` Gauss–Seidel sweeps on levels no larger than `smallSize`, `bigIterations`
/// above. Each sweep visits fixed 32-row bands, even bands then odd bands, on the pool's threads; each
/// band is swept in raster order, so results are identical for any thread count (and differ
/// from pymatting's single raster sweep only near band boundaries, well within 1e-2).
/// On levels larger than 128×128 only pixels within ``activeMargin`` of a fractional alpha or
/// an alpha edge are swept (``activeMargin`` `nil` sweeps all, as pymatting).
/// ``foreground(_:alpha:pool:)`` gives the same foreground without the background picture.
///
/// ```swift
/// let (foreground, _) = try ForegroundEstimator().estimate(photo, alpha: matte)
/// let png = try Compositing.cutout(foreground, alpha: matte)
/// ```
public struct ForegroundEstimator: Sendable {
    /// ε, the base neighbour weight (pymatting default 1e-5; larger is smoother).
    public var regularization: Float = 1e-5
    /// Weight of `|Δα|` in the neighbour term (default 1).
    public var gradientWeight: Float = 1
    /// Sweeps on small levels (default 10).
    public var smallIterations: Int = 10
    /// Sweeps on large levels (default 2).
    public var bigIterations: Int = 2
    /// Levels with both sides ≤ this use `smallIterations` (default 32).
    public var smallSize: Int = 32
    /// On levels larger than 128×128, sweep only pixels within this many pixels of a
    /// fractional alpha or an alpha edge (default 4); elsewhere the visible colour is the
    /// photo's (`F = I` where α = 1, `B = I` where α = 0, as the full update gives to within
    /// `4ε`), and the invisible one keeps the coarser level's value. `nil` sweeps every
    /// pixel, exactly as pymatting does. On a portrait this skips about 90 % of the work.
    public var activeMargin: Int? = 4
    /// Sweeps with the one-channel-at-a-time C loop instead of the vector one (for the tests;
    /// the results are the same).
    var usesScalarSweep = false

    /// pymatting's defaults: regularisation 1e-5, gradient weight 1, 10/2 sweeps, small size 32.
    public init() {}

    /// The estimated foreground and background colours.
    ///
    /// - Parameters:
    ///   - image: RGB or RGBA (alpha ignored), values 0…1.
    ///   - alpha: single-channel matte, same size, 0…1.
    ///   - pool: the threads to work on (the result does not depend on their number); a
    ///     cancelled job of the pool stops the estimate between two levels.
    /// - Returns: RGB pictures of the same size, values clamped to 0…1.
    /// - Throws: `ImageError.invalidArgument` for layout or size mismatches.
    public func estimate(
        _ image: FloatImage, alpha: FloatImage, pool: ThreadPool = .serial
    ) throws -> (foreground: FloatImage, background: FloatImage) {
        try validate(image, alpha: alpha)
        if image.isEmpty { return (image.rgbImage, image.rgbImage) }
        var foreground = FloatImage(width: image.width, height: image.height, layout: .rgb)
        var background = foreground
        try foreground.withUnsafeMutableBufferPointer { f, fStride in
            try background.withUnsafeMutableBufferPointer { b, bStride in
                try solve(image.rgbImage, alpha: alpha, foreground: f, stride: fStride, background: b, stride: bStride, pool: pool)
            }
        }
        return (foreground, background)
    }

    /// The estimated foreground colours alone: exactly ``estimate(_:alpha:pool:)``'s `foreground`
    /// (the same floats, for any thread count), without producing the background.
    ///
    /// What a cut-out needs; it saves the full-size background picture (12 bytes a pixel).
    ///
    /// - Parameters:
    ///   - image: RGB or RGBA (alpha ignored), values 0…1.
    ///   - alpha: single-channel matte, same size, 0…1.
    ///   - pool: as ``estimate(_:alpha:pool:)``.
    /// - Returns: an RGB picture of the same size, values clamped to 0…1.
    /// - Throws: `ImageError.invalidArgument` for layout or size mismatches.
    public func foreground(_ image: FloatImage, alpha: FloatImage, pool: ThreadPool = .serial) throws -> FloatImage {
        try validate(image, alpha: alpha)
        if image.isEmpty { return image.rgbImage }
        var foreground = FloatImage(width: image.width, height: image.height, layout: .rgb)
        // The finest level's background is scratch, written in full before it is read.
        let background = UnsafeMutablePointer<Float>.allocate(capacity: 3 * image.pixelCount)
        defer { background.deallocate() }
        try foreground.withUnsafeMutableBufferPointer { f, fStride in
            try solve(image.rgbImage, alpha: alpha, foreground: f, stride: fStride, background: background, stride: 3 * image.width,
                      pool: pool)
        }
        return foreground
    }

    private func validate(_ image: FloatImage, alpha: FloatImage) throws {
        try requireMatte(alpha, "alpha")
        try requireSameSize(image, alpha, "image and alpha")
        guard image.layout.isColor else { throw ImageError.invalidArgument("foreground estimation needs an RGB image") }
        guard smallIterations >= 0, bigIterations >= 0, regularization >= 0 else {
            throw ImageError.invalidArgument("foreground estimation parameters must not be negative")
        }
    }
}
