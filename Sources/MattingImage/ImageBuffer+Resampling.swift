extension ImageBuffer {
    /// The picture scaled to `width × height` pixels with the given filter.
    ///
    /// Works on every layout; channels are filtered independently (alpha included, so
    /// resample straight-alpha images only where colour under transparent pixels is
    /// meaningful, or premultiply first). Computation is in `Float`; 8-bit results are
    /// rounded to nearest and clamped. Returns the picture itself when the size is unchanged.
    ///
    /// - Precondition: `width > 0`, `height > 0`, and the picture is not empty.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResamplingFilter = .area) -> ImageBuffer {
        precondition(newWidth > 0 && newHeight > 0, "resize target \(newWidth)×\(newHeight) must be positive")
        precondition(!isEmpty, "cannot resize an empty image")
        if newWidth == width && newHeight == height { return self }
        let horizontal = ResamplingWeights(inputSize: width, outputSize: newWidth, filter: filter)
        let vertical = ResamplingWeights(inputSize: height, outputSize: newHeight, filter: filter)
        let channels = channelCount

        // Horizontal pass into a float buffer of (input rows × output columns), then the
        // vertical pass into the result. Only the input rows the vertical pass reads are
        // needed, which is every row unless the picture is cropped vertically.
        let midStride = newWidth * channels
        var middle = [Float](repeating: 0, count: midStride * height)
        withUnsafeBufferPointer { src, srcStride in
            middle.withUnsafeMutableBufferPointer { mid in
                horizontal.withPointers { start, count, weights, taps in
                    for y in 0..<height {
                        let s = src + y * srcStride
                        let m = mid.baseAddress! + y * midStride
                        for x in 0..<newWidth {
                            let first = Int(start[x]), n = Int(count[x])
                            let w = weights + x * taps
                            for c in 0..<channels {
                                var sum: Float = 0
                                var p = s + first * channels + c
                                for k in 0..<n {
                                    sum += w[k] * p.pointee.unitValue
                                    p += channels
                                }
                                m[x * channels + c] = sum
                            }
                        }
                    }
                }
            }
        }

        var result = ImageBuffer(width: newWidth, height: newHeight, layout: layout)
        middle.withUnsafeBufferPointer { mid in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                vertical.withPointers { start, count, weights, taps in
                    var row = [Float](repeating: 0, count: midStride)
                    for y in 0..<newHeight {
                        let first = Int(start[y]), n = Int(count[y])
                        let w = weights + y * taps
                        for i in 0..<midStride { row[i] = 0 }
                        for k in 0..<n {
                            let weight = w[k]
                            let m = mid.baseAddress! + (first + k) * midStride
                            for i in 0..<midStride { row[i] += weight * m[i] }
                        }
                        let d = dst + y * dstStride
                        for i in 0..<midStride { d[i] = Component(unitValue: row[i]) }
                    }
                }
            }
        }
        return result
    }

    /// The picture scaled so that its longer side is at most `maximumSide`, aspect ratio kept
    /// (sides rounded to nearest, at least 1). Returns the picture itself if it already fits.
    public func resized(toFitWithin maximumSide: Int, filter: ResamplingFilter = .area) -> ImageBuffer {
        precondition(maximumSide > 0, "maximum side must be positive")
        let longer = max(width, height)
        if longer <= maximumSide { return self }
        let scale = Double(maximumSide) / Double(longer)
        return resized(
            width: max(1, Int((Double(width) * scale).rounded())),
            height: max(1, Int((Double(height) * scale).rounded())), filter: filter)
    }
}

extension ResamplingWeights {
    func withPointers<R>(
        _ body: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Float>, Int) -> R
    ) -> R {
        start.withUnsafeBufferPointer { s in
            count.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in body(s.baseAddress!, c.baseAddress!, w.baseAddress!, taps) }
            }
        }
    }
}
