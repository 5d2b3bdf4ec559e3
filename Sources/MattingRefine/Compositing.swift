import MattingImage

/// An opaque RGB colour with channels in 0…1, for compositing.
public struct MatteColor: Sendable, Hashable {
    /// Red, 0…1.
    public var red: Float
    /// Green, 0…1.
    public var green: Float
    /// Blue, 0…1.
    public var blue: Float

    /// A colour from channels in 0…1 (not checked; compositing clamps nothing but alpha).
    public init(red: Float, green: Float, blue: Float) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Parses `#rrggbb` (the `#` is optional, case-insensitive), as DESIGN.md's parameter.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for anything else.
    public init(hex: String) throws {
        var digits = Substring(hex)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else {
            throw ImageError.invalidArgument("colour \"\(hex)\" is not #rrggbb")
        }
        self.init(
            red: Float((value >> 16) & 0xFF) / 255, green: Float((value >> 8) & 0xFF) / 255,
            blue: Float(value & 0xFF) / 255)
    }

    /// White, the default background of DESIGN.md.
    public static let white = MatteColor(red: 1, green: 1, blue: 1)
}

/// Compositing a foreground with a matte onto a colour or a picture, and alpha conversions.
///
/// Straight (not premultiplied) alpha throughout: `result = F·α + B·(1 − α)`.
public enum Compositing {
    /// `foreground` over a plain colour, as an RGB picture (the JPEG output of DESIGN.md).
    ///
    /// - Parameters:
    ///   - foreground: RGB or RGBA (alpha channel ignored), values 0…1; pass the estimated
    ///     foreground (``ForegroundEstimator``) rather than the photo to avoid halos.
    ///   - alpha: matte, single-channel, same size, values 0…1.
    /// - Throws: ``ImageError/invalidArgument(_:)`` for size or layout mismatches.
    public static func composite(_ foreground: FloatImage, alpha: FloatImage, over color: MatteColor) throws -> FloatImage {
        let background = FloatImage(width: alpha.width, height: alpha.height, layout: .rgb) { _, _, c in
            c == 0 ? color.red : (c == 1 ? color.green : color.blue)
        }
        return try composite(foreground, alpha: alpha, over: background)
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
