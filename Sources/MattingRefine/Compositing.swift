import MattingImage

/// Compositing a foreground with a matte onto a colour or a picture, and alpha conversions.
///
/// Straight (not premultiplied) alpha throughout: `result = F·α + B·(1 − α)`.
public enum Compositing {
    /// `foreground` over a plain colour, as an RGB picture (the JPEG output of DESIGN.md).
    ///
    /// ```swift
    /// let jpeg = try Compositing.composite(foreground, alpha: matte, over: try RGBColor(parsing: "#ffffff"))
    /// ```
    ///
    /// - Parameters:
    ///   - foreground: RGB or RGBA (alpha channel ignored), values 0…1; pass the estimated
    ///     foreground (``ForegroundEstimator``) rather than the photo to avoid halos.
    ///   - alpha: matte, single-channel, same size, values 0…1.
    ///   - color: the 8-bit background colour; each channel is used as `value / 255`.
    /// - Throws: ``ImageError/invalidArgument(_:)`` for size or layout mismatches.
    public static func composite(_ foreground: FloatImage, alpha: FloatImage, over color: RGBColor) throws -> FloatImage {
        let rgb = floatComponents(of: color)
        let background = FloatImage(width: alpha.width, height: alpha.height, layout: .rgb) { _, _, c in rgb[c] }
        return try composite(foreground, alpha: alpha, over: background)
    }

    /// `color`'s red, green and blue on the 0…1 scale (`value / 255`), as compositing uses them.
    static func floatComponents(of color: RGBColor) -> [Float] {
        [color.red, color.green, color.blue].map { Float($0) / 255 }
    }

    /// `foreground` over `background` (both RGB/RGBA, alpha channels ignored), as RGB.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for size or layout mismatches.
    public static func composite(_ foreground: FloatImage, alpha: FloatImage, over background: FloatImage) throws -> FloatImage {
        try requireMatte(alpha, "alpha")
        try requireSameSize(foreground, alpha, "composite foreground and alpha")
        try requireSameSize(background, alpha, "composite background and alpha")
        guard foreground.layout.isColor, background.layout.isColor else {
            throw ImageError.invalidArgument("compositing needs RGB or RGBA pictures")
        }
        let f = foreground.rgbImage, b = background.rgbImage
        var out = FloatImage(width: alpha.width, height: alpha.height, layout: .rgb)
        let w = alpha.width, h = alpha.height
        out.withUnsafeMutableBufferPointer { o, os in
            f.withUnsafeBufferPointer { f, fs in
                b.withUnsafeBufferPointer { b, bs in
                    alpha.withUnsafeBufferPointer { a, aStride in
                        for y in 0..<h {
                            for x in 0..<w {
                                let t = min(max(a[y * aStride + x], 0), 1)
                                for c in 0..<3 {
                                    let fv = f[y * fs + 3 * x + c], bv = b[y * bs + 3 * x + c]
                                    o[y * os + 3 * x + c] = bv + t * (fv - bv)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// A straight-alpha RGBA cut-out: the foreground's colour with the matte as alpha.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for size or layout mismatches.
    public static func cutout(_ foreground: FloatImage, alpha: FloatImage) throws -> FloatImage {
        try requireMatte(alpha, "alpha")
        try requireSameSize(foreground, alpha, "cut-out foreground and alpha")
        guard foreground.layout.isColor else { throw ImageError.invalidArgument("cut-out needs an RGB foreground") }
        let f = foreground.rgbImage
        return FloatImage(width: alpha.width, height: alpha.height, layout: .rgba) { x, y, c in
            c == 3 ? min(max(alpha[x, y, 0], 0), 1) : f[x, y, c]
        }
    }

    /// Straight RGBA to premultiplied RGBA (`rgb · a`).
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` unless the layout is RGBA.
    public static func premultiplied(_ image: FloatImage) throws -> FloatImage {
        try mapRGBA(image) { v, a in v * a }
    }

    /// Premultiplied RGBA back to straight RGBA (`rgb / a`; colour 0 where `a = 0`),
    /// colour clamped to 0…1.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` unless the layout is RGBA.
    public static func straightened(_ image: FloatImage) throws -> FloatImage {
        try mapRGBA(image) { v, a in a > 0 ? min(max(v / a, 0), 1) : 0 }
    }

    private static func mapRGBA(_ image: FloatImage, _ f: (Float, Float) -> Float) throws -> FloatImage {
        guard image.layout == .rgba else {
            throw ImageError.invalidArgument("premultiplication needs RGBA, got \(image.layout)")
        }
        var out = image
        let w = image.width, h = image.height
        out.withUnsafeMutableBufferPointer { p, stride in
            for y in 0..<h {
                for x in 0..<w {
                    let px = p + y * stride + 4 * x
                    let a = px[3]
                    for c in 0..<3 { px[c] = f(px[c], a) }
                }
            }
        }
        return out
    }
}
