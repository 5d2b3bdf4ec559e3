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
    /// - Returns: single-channel matte, 0…1.
    /// - Throws: ``ImageError/invalidArgument(_:)`` if the sizes differ.
    public func matte(_ image: FloatImage, trimap: Trimap, pool: ThreadPool = .serial) throws -> FloatImage {
        try solver.alpha(for: image, trimap: trimap, pool: pool)
    }

    /// The matte of `image` from a coarse alpha of the same size (for example the
    /// segmentation network's mask, bilinearly upsampled): a trimap is made from it
    /// (``Trimap/init(coarseAlpha:options:)``) and the coarse alpha starts the solver.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` if the sizes differ or `coarseAlpha`
    ///   is not single-channel.
    public func matte(_ image: FloatImage, coarseAlpha: FloatImage, pool: ThreadPool = .serial) throws -> FloatImage {
        try requireSameSize(image, coarseAlpha, "image and coarse alpha")
        let trimap = try Trimap(coarseAlpha: coarseAlpha, options: trimapOptions, pool: pool)
        return try solver.alpha(for: image, trimap: trimap, initialAlpha: coarseAlpha, pool: pool)
    }

    /// A matte solved at a reduced working size, brought back to the size of `guide` with
    /// edges taken from the full-resolution photo — guided upsampling as in He & Sun's "Fast
    /// Guided Filter" (2015): the guide is area-averaged to the matte's size, the guided
    /// filter's per-pixel linear coefficients `(a, b)` are computed there, bilinearly
    /// upsampled (pixel centres aligned), and applied to the full-resolution guide:
    /// `α = a·I + b`, clamped to 0…1. Edges therefore follow the photo, not the low-resolution grid.
    ///
    /// - Parameters:
    ///   - alpha: single-channel matte at the working size.
    ///   - guide: the full-resolution photo (RGB/RGBA or gray); its size is the output size.
    ///   - radius: guided-filter radius in working-size pixels (default 2; 0 gives plain
    ///     bilinear upsampling).
    ///   - epsilon: guided-filter regularisation (default 1e-4).
    /// - Throws: ``ImageError/invalidArgument(_:)`` if `alpha` is not single-channel,
    ///   either picture is empty, `radius < 0` or `epsilon ≤ 0`.
    public func upsampled(
        _ alpha: FloatImage, guide: FloatImage, radius: Int = 2, epsilon: Float = 1e-4, pool: ThreadPool = .serial
    ) throws -> FloatImage {
        try requireMatte(alpha, "alpha")
        guard !alpha.isEmpty, !guide.isEmpty else { throw ImageError.invalidArgument("cannot upsample an empty matte") }
        guard radius >= 0, epsilon > 0 else { throw ImageError.invalidArgument("guided upsampling needs radius ≥ 0 and epsilon > 0") }
        let w = alpha.width, h = alpha.height, W = guide.width, H = guide.height
        let full = guide.layout.isColor ? Plane.planes(of: guide.rgbImage) : [Plane(guide, channel: 0)]
        let p = Plane(alpha)
        if radius == 0 {
            let up = ClosedFormMatting.upsampled(p.data, width: w, height: h, to: W, H)
            return clampedToUnit(Plane(width: W, height: H, data: up).grayImage)
        }
        // Area average of the guide onto the matte's grid.
        let small = full.map { plane -> Plane in
            var sums = Plane(width: w, height: h), counts = Plane(width: w, height: h)
            for y in 0..<H {
                let sy = min(h - 1, y * h / H)
                for x in 0..<W {
                    let j = sy * w + min(w - 1, x * w / W)
                    sums.data[j] += plane.data[y * W + x]
                    counts.data[j] += 1
                }
            }
            for j in 0..<sums.count { sums.data[j] /= max(counts.data[j], 1) }
            return sums
        }
        let coefficients = GuidedFilter.coefficients(p, guide: small, radius: radius, epsilon: epsilon, pool: pool)
        let upsampled = coefficients.map {
            Plane(width: W, height: H, data: ClosedFormMatting.upsampled($0.data, width: w, height: h, to: W, H))
        }
        return clampedToUnit(GuidedFilter.apply(upsampled, guide: full).grayImage)
    }
}
