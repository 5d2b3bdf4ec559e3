/// Contrast-limited adaptive histogram equalisation of an 8-bit single-channel picture,
/// defined exactly as OpenCV's `cv::createCLAHE(clipLimit, tileGridSize)->apply(...)`.
///
/// The picture is divided into `tilesX × tilesY` tiles (when its size is not a multiple of
/// the grid it is first extended at the bottom and right by `tiles − size % tiles` pixels,
/// mirrored without repeating the edge, as OpenCV does); each tile's 256-bin histogram is
/// clipped at `max(1, ⌊clipLimit · tileArea / 256⌋)`, the excess spread evenly with the
/// remainder going to every `⌊256 / remainder⌋`-th bin, and turned into a mapping by its
/// cumulative sum scaled by `255 / tileArea`; each pixel is mapped by bilinear interpolation
/// between the four nearest tiles' mappings, rounded half to even. `clipLimit ≤ 0` disables
/// clipping.
public struct CLAHE: Sendable, Hashable {
    /// Contrast limit relative to a uniform histogram (OpenCV's `clipLimit`; default 2.0).
    public var clipLimit: Double
    /// Number of tile columns (≥ 1; default 8).
    public var tilesX: Int
    /// Number of tile rows (≥ 1; default 8).
    public var tilesY: Int

    public init(clipLimit: Double = 2.0, tilesX: Int = 8, tilesY: Int = 8) {
        self.clipLimit = clipLimit
        self.tilesX = tilesX
        self.tilesY = tilesY
    }

    /// Equalises `image`, which must be single-channel (`.gray`).
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for another layout or a grid < 1.
    public func applied(to image: Image) throws -> Image {
        guard image.layout == .gray else {
            throw ImageError.invalidArgument("CLAHE works on one channel; got \(image.layout)")
        }
        guard tilesX >= 1, tilesY >= 1 else {
            throw ImageError.invalidArgument("CLAHE tile grid \(tilesX)×\(tilesY) must be at least 1×1")
        }
        if image.isEmpty { return image }
        let width = image.width, height = image.height
        let divisible = width % tilesX == 0 && height % tilesY == 0
        let extendedWidth = divisible ? width : width + tilesX - width % tilesX
        let extendedHeight = divisible ? height : height + tilesY - height % tilesY
        let tileWidth = extendedWidth / tilesX, tileHeight = extendedHeight / tilesY
        let tileArea = tileWidth * tileHeight
        let lutScale = Float(255) / Float(tileArea)
        var limit = 0
        if clipLimit > 0 { limit = max(Int(clipLimit * Double(tileArea) / 256), 1) }

        var luts = [UInt8](repeating: 0, count: tilesX * tilesY * 256)
        image.withUnsafeBufferPointer { src, stride in
            // Mirror index into 0..<n without repeating the edge (BORDER_REFLECT_101).
            func reflect(_ i: Int, _ n: Int) -> Int { i < n ? i : max(2 * n - 2 - i, 0) }
            var histogram = [Int](repeating: 0, count: 256)
            for ty in 0..<tilesY {
                for tx in 0..<tilesX {
                    for i in 0..<256 { histogram[i] = 0 }
                    for y in ty * tileHeight..<(ty + 1) * tileHeight {
                        let row = src + reflect(y, height) * stride
                        for x in tx * tileWidth..<(tx + 1) * tileWidth {
                            histogram[Int(row[reflect(x, width)])] += 1
                        }
                    }
                    if limit > 0 {
                        var clipped = 0
                        for i in 0..<256 where histogram[i] > limit {
                            clipped += histogram[i] - limit
                            histogram[i] = limit
                        }
                        let batch = clipped / 256
                        var residual = clipped - batch * 256
                        for i in 0..<256 { histogram[i] += batch }
                        if residual != 0 {
                            let step = max(256 / residual, 1)
                            var i = 0
                            while i < 256 && residual > 0 {
                                histogram[i] += 1
                                i += step
                                residual -= 1
                            }
                        }
                    }
                    var sum = 0
                    let base = (ty * tilesX + tx) * 256
                    for i in 0..<256 {
                        sum += histogram[i]
                        luts[base + i] = Self.saturatedRound(Float(sum) * lutScale)
                    }
                }
            }
        }

        var result = Image(width: width, height: height, layout: .gray)
        result.colorProfile = image.colorProfile  // contrast changes, the colour space does not
        let inverseTileWidth = 1 / Float(tileWidth), inverseTileHeight = 1 / Float(tileHeight)
        var left = [Int](repeating: 0, count: width), right = [Int](repeating: 0, count: width)
        var weightRight = [Float](repeating: 0, count: width), weightLeft = [Float](repeating: 0, count: width)
        for x in 0..<width {
            let position = Float(x) * inverseTileWidth - 0.5
            let t1 = Int(position.rounded(.down))
            weightRight[x] = position - Float(t1)
            weightLeft[x] = 1 - weightRight[x]
            left[x] = max(t1, 0) * 256
            right[x] = min(t1 + 1, tilesX - 1) * 256
        }
        image.withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                luts.withUnsafeBufferPointer { lut in
                    for y in 0..<height {
                        let position = Float(y) * inverseTileHeight - 0.5
                        let t1 = Int(position.rounded(.down))
                        let wy = position - Float(t1), wy1 = 1 - wy
                        let top = lut.baseAddress! + max(t1, 0) * tilesX * 256
                        let bottom = lut.baseAddress! + min(t1 + 1, tilesY - 1) * tilesX * 256
                        let s = src + y * srcStride, d = dst + y * dstStride
                        for x in 0..<width {
                            let v = Int(s[x])
                            let i1 = left[x] + v, i2 = right[x] + v
                            // Same association as OpenCV so float rounding agrees exactly.
                            let upper = Float(top[i1]) * weightLeft[x] + Float(top[i2]) * weightRight[x]
                            let lower = Float(bottom[i1]) * weightLeft[x] + Float(bottom[i2]) * weightRight[x]
                            d[x] = Self.saturatedRound(upper * wy1 + lower * wy)
                        }
                    }
                }
            }
        }
        return result
    }

    /// Rounds half to even and clamps to 0…255, like OpenCV's `saturate_cast<uchar>(float)`.
    @inline(__always) static func saturatedRound(_ value: Float) -> UInt8 {
        let r = value.rounded(.toNearestOrEven)
        return r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
    }
}
