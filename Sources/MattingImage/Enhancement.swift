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
                OpenCVLab8.withTables { gamma, cubeRoot, c in
                    for y in 0..<height {
                        let s = src + y * srcStride
                        for x in 0..<width {
                            let p = s + x * channels
                            let lab = OpenCVLab8.lab(p[0], p[1], p[2], gamma: gamma, cubeRoot: cubeRoot, c: c)
                            l[y * lStride + x] = lab.l
                            ab[2 * (y * width + x)] = lab.a
                            ab[2 * (y * width + x) + 1] = lab.b
                        }
                    }
                }
            }
        }
        let equalized = try clahe.applied(to: lightness)
        var result = image
        equalized.withUnsafeBufferPointer { l, lStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    let d = dst + y * dstStride
                    for x in 0..<width {
                        let lab = LabColor(
                            l: Float(l[y * lStride + x]) * (100 / 255),
                            a: Float(ab[2 * (y * width + x)]) - 128,
                            b: Float(ab[2 * (y * width + x) + 1]) - 128)
                        let rgb = lab.rgb
                        d[x * channels] = CLAHE.saturatedRound(rgb.red * 255)
                        d[x * channels + 1] = CLAHE.saturatedRound(rgb.green * 255)
                        d[x * channels + 2] = CLAHE.saturatedRound(rgb.blue * 255)
                    }
                }
            }
        }
        return result
    }

    /// The 3×3 sharpen `[[0,−1,0],[−1,5,−1],[0,−1,0]]` on the colour (or gray) channels.
    static func sharpened(_ image: Image) -> Image {
        let width = image.width, height = image.height, channels = image.channelCount
        let colorChannels = image.layout.hasAlpha ? channels - 1 : channels
        var result = image
        image.withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                func reflect(_ i: Int, _ n: Int) -> Int {
                    if n == 1 { return 0 }
                    return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i)
                }
                for y in 0..<height {
                    let up = src + reflect(y - 1, height) * srcStride
                    let row = src + y * srcStride
                    let down = src + reflect(y + 1, height) * srcStride
                    let d = dst + y * dstStride
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
            }
        }
        return result
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
