extension ImageBuffer {
    /// The picture turned upright from a stored `orientation` (see ``ImageOrientation``).
    ///
    /// `.up` returns the picture unchanged (no copy); orientations 5–8 swap width and height.
    public func applyingOrientation(_ orientation: ImageOrientation) -> ImageBuffer {
        switch orientation {
        case .up: self
        case .upMirrored: flippedHorizontally()
        case .down: rotated180()
        case .downMirrored: flippedVertically()
        case .leftMirrored: transposed()
        case .right: rotatedClockwise()
        case .rightMirrored: transversed()
        case .left: rotatedCounterClockwise()
        }
    }

    /// Mirrored left–right: the pixel at (x, y) moves to (width − 1 − x, y).
    public func flippedHorizontally() -> ImageBuffer {
        remapped(width: width, height: height) { x, y in (width - 1 - x, y) }
    }

    /// Mirrored top–bottom: the pixel at (x, y) moves to (x, height − 1 − y).
    public func flippedVertically() -> ImageBuffer {
        remapped(width: width, height: height) { x, y in (x, height - 1 - y) }
    }

    /// Turned 180°.
    public func rotated180() -> ImageBuffer {
        remapped(width: width, height: height) { x, y in (width - 1 - x, height - 1 - y) }
    }

    /// Mirrored across the main diagonal: the result's pixel (x, y) is this picture's (y, x).
    public func transposed() -> ImageBuffer {
        remapped(width: height, height: width) { x, y in (y, x) }
    }

    /// Mirrored across the anti-diagonal: the result's pixel (x, y) is this picture's
    /// (width − 1 − y, height − 1 − x).
    public func transversed() -> ImageBuffer {
        remapped(width: height, height: width) { x, y in (width - 1 - y, height - 1 - x) }
    }

    /// Turned 90° clockwise: the bottom-left pixel becomes the top-left one.
    public func rotatedClockwise() -> ImageBuffer {
        remapped(width: height, height: width) { x, y in (y, height - 1 - x) }
    }

    /// Turned 90° counter-clockwise: the top-right pixel becomes the top-left one.
    public func rotatedCounterClockwise() -> ImageBuffer {
        remapped(width: height, height: width) { x, y in (width - 1 - y, x) }
    }

    /// A `newWidth × newHeight` picture whose pixel (x, y) is this picture's `source(x, y)`.
    @inline(__always)
    private func remapped(
        width newWidth: Int, height newHeight: Int, _ source: (Int, Int) -> (Int, Int)
    ) -> ImageBuffer {
        var result = ImageBuffer(width: newWidth, height: newHeight, layout: layout)
        result.colorProfile = colorProfile
        let channels = channelCount
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<newHeight {
                    let row = dst + y * dstStride
                    for x in 0..<newWidth {
                        let (sx, sy) = source(x, y)
                        let from = src + sy * srcStride + sx * channels, to = row + x * channels
                        for c in 0..<channels { to[c] = from[c] }
                    }
                }
            }
        }
        return result
    }
}
