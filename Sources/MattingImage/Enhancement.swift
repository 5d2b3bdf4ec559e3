/// The optional "pre-enhance" step: CLAHE on the L*a*b* lightness, then a 3×3 sharpen.
///
/// Defined as the OpenCV recipe it reproduces: convert the 8-bit RGB picture to 8-bit Lab
/// (`L·255/100`, `a + 128`, `b + 128`; L computed in OpenCV's fixed point, so identical to
/// `cvtColor(COLOR_RGB2Lab)`), equalise L with ``CLAHE`` (clip limit 2.0,
/// 8×8 tiles), convert back to 8-bit RGB (in float, within one level of OpenCV), then convolve each colour channel with
/// `[[0,−1,0],[−1,5,−1],[0,−1,0]]`, mirroring at the borders without repeating the edge
/// (OpenCV `filter2D`'s default), clamped to 0…255. Alpha passes through untouched; the
/// size never changes.
///
/// ```swift
/// let enhanced = try Enhancement().applied(to: photo)
/// ```
public struct Enhancement: Sendable, Hashable {
    /// The contrast equalisation of the lightness channel; `nil` skips it.
    public var clahe: CLAHE?
    /// Whether to apply the 3×3 sharpen after equalisation.
    public var sharpen: Bool

    public init(clahe: CLAHE? = CLAHE(), sharpen: Bool = true) {
        self.clahe = clahe
        self.sharpen = sharpen
    }

    /// The enhanced picture, with the same size and layout as `image`.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` if the CLAHE grid is invalid.
    public func applied(to image: Image) throws -> Image {
        if image.isEmpty { return image }
        var result = image
        if let clahe {
            result = try Self.equalizingLightness(of: image, with: clahe)
        }
        if sharpen { result = Self.sharpened(result) }
        return result
    }

    /// CLAHE on the lightness channel, colour kept (gray pictures are equalised directly).
    static func equalizingLightness(of image: Image, with clahe: CLAHE) throws -> Image {
        if !image.layout.isColor {
            let gray = image.channel(0)
            let equalized = try clahe.applied(to: gray)
            return image.replacingChannel(0, with: equalized)
        }
        let width = image.width, height = image.height, channels = image.channelCount
        // 8-bit Lab planes exactly as OpenCV's COLOR_RGB2Lab computes them for CV_8U.
        var lightness = Image(width: width, height: height, layout: .gray)
        var ab = [UInt8](repeating: 0, count: width * height * 2)
        image.withUnsafeBufferPointer { src, srcStride in
            lightness.withUnsafeMutableBufferPointer { l, lStride in
                ab.withUnsafeMutableBufferPointer { ab in
                    for y in 0..<height {
                        lab(src + y * srcStride, channels: channels, width: width,
                            lightness: l + y * lStride, ab: ab.baseAddress! + 2 * y * width)
                    }
                }
            }
        }
        let equalized = try clahe.applied(to: lightness)
        var result = image
        equalized.withUnsafeBufferPointer { l, lStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                ab.withUnsafeBufferPointer { ab in
                    for y in 0..<height {
                        rgb(lightness: l + y * lStride, ab: ab.baseAddress! + 2 * y * width, width: width,
                            into: dst + y * dstStride, channels: channels)
                    }
                }
            }
        }
        return result
    }

    /// One row of RGB(A) pixels (`channels` apart) in 8-bit Lab, exactly as OpenCV's
    /// COLOR_RGB2Lab for CV_8U: L into `lightness`, a and b interleaved into `ab`.
    static func lab(
        _ row: UnsafePointer<UInt8>, channels: Int, width: Int,
        lightness l: UnsafeMutablePointer<UInt8>, ab: UnsafeMutablePointer<UInt8>
    ) {
        OpenCVLab8.withTables { gamma, cubeRoot, c in
            for x in 0..<width {
                let p = row + x * channels
                let lab = OpenCVLab8.lab(p[0], p[1], p[2], gamma: gamma, cubeRoot: cubeRoot, c: c)
                l[x] = lab.l
                ab[2 * x] = lab.a
                ab[2 * x + 1] = lab.b
            }
        }
    }

    /// The 8-bit Lab lightness of one row of RGB(A) pixels (`channels` apart): the `lightness`
    /// output of ``lab(_:channels:width:lightness:ab:)``, without a and b.
    static func lightness(_ row: UnsafePointer<UInt8>, channels: Int, width: Int, into l: UnsafeMutablePointer<UInt8>) {
        OpenCVLab8.withTables { gamma, cubeRoot, c in
            for x in 0..<width {
                let p = row + x * channels
                l[x] = OpenCVLab8.lightness(p[0], p[1], p[2], gamma: gamma, cubeRoot: cubeRoot, c: c)
            }
        }
    }

    /// One row back from 8-bit Lab to RGB, into the colour channels of `row` (`channels`
    /// apart; alpha is not written): each component `CLAHE.saturatedRound(LabColor.rgb · 255)`,
    /// its sRGB curve read from ``SRGBEncoding8``'s steps instead of `powf` (the same bytes).
    static func rgb(
        lightness l: UnsafePointer<UInt8>, ab: UnsafePointer<UInt8>, width: Int,
        into row: UnsafeMutablePointer<UInt8>, channels: Int
    ) {
        SRGBEncoding8.withTables { t, starts in
            for x in 0..<width {
                let lab = LabColor(l: Float(l[x]) * (100 / 255), a: Float(ab[2 * x]) - 128, b: Float(ab[2 * x + 1]) - 128)
                let linear = lab.linearRGB
                row[x * channels] = SRGBEncoding8.encode(linear.red, thresholds: t, cellStarts: starts)
                row[x * channels + 1] = SRGBEncoding8.encode(linear.green, thresholds: t, cellStarts: starts)
                row[x * channels + 2] = SRGBEncoding8.encode(linear.blue, thresholds: t, cellStarts: starts)
            }
        }
    }

    /// The 3×3 sharpen `[[0,−1,0],[−1,5,−1],[0,−1,0]]` on the colour (or gray) channels.
    static func sharpened(_ image: Image) -> Image {
        let width = image.width, height = image.height
        var result = image
        image.withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    sharpen(src + y * srcStride, above: src + reflect(y - 1, height) * srcStride,
                            below: src + reflect(y + 1, height) * srcStride,
                            into: dst + y * dstStride, width: width, layout: image.layout)
                }
            }
        }
        return result
    }

    /// One row of the sharpen: `row` with the rows `above` and `below` it (mirrored at the
    /// picture's top and bottom by the caller, with ``reflect(_:_:)``), into the colour
    /// channels of `output` (alpha is not written).
    static func sharpen(
        _ row: UnsafePointer<UInt8>, above up: UnsafePointer<UInt8>, below down: UnsafePointer<UInt8>,
        into d: UnsafeMutablePointer<UInt8>, width: Int, layout: PixelLayout
    ) {
        let channels = layout.channelCount
        let colorChannels = layout.hasAlpha ? channels - 1 : channels
        for x in 0..<width {
            let left = reflect(x - 1, width) * channels, right = reflect(x + 1, width) * channels
            let here = x * channels
            for c in 0..<colorChannels {
                let value = 5 * Int(row[here + c]) - Int(row[left + c]) - Int(row[right + c])
                    - Int(up[here + c]) - Int(down[here + c])
                d[here + c] = UInt8(clamping: value)
            }
        }
    }

    /// Mirrors `i` (at most one step outside) into `0..<n` without repeating the edge
    /// (OpenCV's BORDER_REFLECT_101); 0 when `n` is 1.
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i)
    }
}

extension ImageBuffer {
    /// A copy with channel `channel` replaced by the single-channel picture `plane`.
    ///
    /// - Precondition: `plane` is `.gray` with the same size.
    public func replacingChannel(_ channel: Int, with plane: ImageBuffer) -> ImageBuffer {
        precondition(plane.layout == .gray && plane.width == width && plane.height == height,
                     "replacement plane must be a gray image of the same size")
        precondition(channel >= 0 && channel < channelCount, "channel \(channel) is outside \(layout)")
        var result = self
        let channels = channelCount, width = self.width, height = self.height
        plane.withUnsafeBufferPointer { p, pStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    for x in 0..<width { dst[y * dstStride + x * channels + channel] = p[y * pStride + x] }
                }
            }
        }
        return result
    }
}
