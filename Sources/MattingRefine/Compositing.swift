import MattingImage
import MattingThreads

/// Putting a cut-out together: the subject's colours with the matte as alpha, or laid over a
/// background colour, picture or checkerboard.
///
/// Everything is 8-bit and straight (not premultiplied) alpha unless a name says otherwise:
/// a pixel over a background is `F·α + B·(1 − α)` with `α = matte / 255`, computed as
/// `round(F·a / 255) + round(B·(255 − a) / 255)` in integers (`a` the 8-bit matte value), so
/// every result is exact and the same on every machine. The same arithmetic serves the
/// pipeline's JPEG output, the preview sheets and the server. Results keep the colours'
/// colour profile (`ImageBuffer.colorProfile`).
///
/// ```swift
/// let rgba = try Compositing.cutout(result.foreground, matte: result.matte)
/// let jpeg = try Compositing.composite(result.foreground, matte: result.matte, over: .color(.white))
/// ```
public enum Compositing {
    /// What a cut-out is laid over.
    public enum Background: Sendable, Equatable {
        /// A plain colour.
        case color(RGBColor)
        /// A picture of the cut-out's size (RGB; other layouts are converted).
        case image(Image)
        /// Squares of `size` pixels, `light` where `(x / size + y / size)` is even, else `dark`.
        case checkerboard(size: Int, light: RGBColor, dark: RGBColor)
    }

    /// A straight-alpha RGBA cut-out: `foreground`'s colours with `matte` as alpha.
    ///
    /// - Parameters:
    ///   - foreground: RGB (other layouts are converted), the estimated foreground colours.
    ///   - matte: single-channel 8-bit, same size.
    /// - Throws: `ImageError.invalidArgument` for a size mismatch or a matte that is
    ///   not single-channel.
    public static func cutout(_ foreground: Image, matte: Image) throws -> Image {
        let rgb = try validated(foreground, matte: matte)
        // Every component is written below.
        var rgba = Image(uninitializedWidth: rgb.width, height: rgb.height, layout: .rgba)
        let width = rgb.width, height = rgb.height
        rgb.withUnsafeBufferPointer { f, fStride in
            matte.withUnsafeBufferPointer { a, aStride in
                rgba.withUnsafeMutableBufferPointer { d, dStride in
                    for y in 0..<height {
                        let fr = f + y * fStride, ar = a + y * aStride, dr = d + y * dStride
                        for x in 0..<width {
                            dr[4 * x] = fr[3 * x]
                            dr[4 * x + 1] = fr[3 * x + 1]
                            dr[4 * x + 2] = fr[3 * x + 2]
                            dr[4 * x + 3] = ar[x]
                        }
                    }
                }
            }
        }
        rgba.colorProfile = foreground.colorProfile
        return rgba
    }

    /// `foreground` (straight colours) over `background`, as RGB.
    ///
    /// - Parameters:
    ///   - foreground: RGB (other layouts are converted).
    ///   - matte: single-channel 8-bit, same size.
    ///   - background: what shows through where the matte is below 255.
    ///   - pool: threads for the rows (the result does not depend on their number).
    /// - Throws: `ImageError.invalidArgument` for size or layout mismatches.
    public static func composite(
        _ foreground: Image, matte: Image, over background: Background, pool: ThreadPool = .serial
    ) throws -> Image {
        try composite(try validated(foreground, matte: matte), matte: matte, isPremultiplied: false, over: background, pool: pool)
    }

    /// Premultiplied colours (`round(F·a / 255)`, RGB) over `background`, as RGB: for
    /// pictures that were premultiplied before resizing, as the preview sheet's panels are.
    ///
    /// - Throws: `ImageError.invalidArgument` for size or layout mismatches.
    public static func composite(
        premultiplied: Image, matte: Image, over background: Background, pool: ThreadPool = .serial
    ) throws -> Image {
        try composite(try validated(premultiplied, matte: matte), matte: matte, isPremultiplied: true, over: background, pool: pool)
    }

    /// `foreground`'s colours premultiplied by the matte: `round(F·a / 255)` per channel, RGB.
    ///
    /// - Throws: `ImageError.invalidArgument` for size or layout mismatches.
    public static func premultiplied(_ foreground: Image, matte: Image) throws -> Image {
        let rgb = try validated(foreground, matte: matte)
        var out = Image(uninitializedWidth: rgb.width, height: rgb.height, layout: .rgb)
        let width = rgb.width
        rgb.withUnsafeBufferPointer { f, fStride in
            matte.withUnsafeBufferPointer { a, aStride in
                out.withUnsafeMutableBufferPointer { d, dStride in
                    for y in 0..<rgb.height {
                        premultiply(f + y * fStride, alpha: a + y * aStride, into: d + y * dStride, count: width)
                    }
                }
            }
        }
        return out
    }

    // MARK: The one arithmetic

    /// `round(v / 255)` for `v` in 0…255·255, exactly, in integers.
    @inline(__always)
    static func divideBy255(_ v: UInt32) -> UInt32 {
        let t = v + 128
        return (t + (t >> 8)) >> 8
    }

    /// `count` RGB pixels premultiplied by their 8-bit alpha.
    @inline(__always)
    package static func premultiply(
        _ f: UnsafePointer<UInt8>, alpha a: UnsafePointer<UInt8>, into d: UnsafeMutablePointer<UInt8>, count: Int
    ) {
        for x in 0..<count {
            let t = UInt32(a[x])
            for c in 0..<3 { d[3 * x + c] = UInt8(divideBy255(UInt32(f[3 * x + c]) * t)) }
        }
    }

    /// `count` premultiplied RGB pixels over background pixels `b`, in place in `p`.
    @inline(__always)
    static func over(
        _ p: UnsafeMutablePointer<UInt8>, alpha a: UnsafePointer<UInt8>, background b: UnsafePointer<UInt8>, count: Int
    ) {
        for x in 0..<count {
            let t = 255 - UInt32(a[x])
            for c in 0..<3 {
                p[3 * x + c] = UInt8(min(UInt32(p[3 * x + c]) + divideBy255(UInt32(b[3 * x + c]) * t), 255))
            }
        }
    }

    private static func composite(
        _ colours: Image, matte: Image, isPremultiplied: Bool, over background: Background, pool: ThreadPool
    ) throws -> Image {
        let width = colours.width, height = colours.height
        var backdrop: Image?
        if case let .image(picture) = background {
            guard picture.width == width, picture.height == height else {
                throw ImageError.invalidArgument(
                    "background is \(picture.width)×\(picture.height), the cut-out \(width)×\(height)")
            }
            backdrop = picture.converted(to: .rgb)
        }
        // Every row is written below.
        var out = Image(uninitializedWidth: width, height: height, layout: .rgb)
        let backdropImage = backdrop ?? Image(width: 0, height: 0, layout: .rgb)
        colours.withUnsafeBufferPointer { f, fStride in
        matte.withUnsafeBufferPointer { a, aStride in
        backdropImage.withUnsafeBufferPointer { picture, pictureStride in
            out.withUnsafeMutableBufferPointer { d, dStride in
                let shared = UncheckedSendable((f, a, d, picture))
                pool.parallelChunks(height) { rows in
                    let (f, a, d, picture) = shared.value
                    // One row of background colours (a colour or a checker row).
                    let line = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * max(width, 1))
                    defer { line.deallocate() }
                    if case let .color(c) = background { fill(line, count: width) { _ in c } }
                    for y in rows {
                        let fr = f + y * fStride, ar = a + y * aStride, dr = d + y * dStride
                        if isPremultiplied {
                            dr.update(from: fr, count: 3 * width)
                        } else {
                            premultiply(fr, alpha: ar, into: dr, count: width)
                        }
                        var b = UnsafePointer(line)
                        switch background {
                        case .color: break
                        case let .checkerboard(size, light, dark):
                            let s = max(1, size)
                            fill(line, count: width) { x in (x / s + y / s) % 2 == 0 ? light : dark }
                        case .image:
                            b = picture + y * pictureStride
                        }
                        over(dr, alpha: ar, background: b, count: width)
                    }
                }
            }
        }
        }
        }
        out.colorProfile = colours.colorProfile
        return out
    }

    static func fill(_ line: UnsafeMutablePointer<UInt8>, count: Int, _ color: (Int) -> RGBColor) {
        for x in 0..<count {
            let c = color(x)
            line[3 * x] = c.red
            line[3 * x + 1] = c.green
            line[3 * x + 2] = c.blue
        }
    }

    /// `image` as RGB, after checking it against `matte`.
    private static func validated(_ image: Image, matte: Image) throws -> Image {
        guard matte.layout == .gray else {
            throw ImageError.invalidArgument("compositing needs a single-channel matte, got \(matte.layout)")
        }
        guard image.width == matte.width, image.height == matte.height else {
            throw ImageError.invalidArgument(
                "the colours are \(image.width)×\(image.height), the matte \(matte.width)×\(matte.height)")
        }
        return image.layout == .rgb ? image : image.converted(to: .rgb)
    }
}
