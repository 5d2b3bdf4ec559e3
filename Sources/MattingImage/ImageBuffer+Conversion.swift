import MattingThreads
extension ImageBuffer {
    /// The same pixels in another channel layout.
    ///
    /// - Colour to gray uses Rec. 601 luma (`0.299 R + 0.587 G + 0.114 B`, as OpenCV and
    ///   libjpeg do), rounded to nearest.
    /// - Gray to colour copies the value into R, G and B.
    /// - Adding alpha sets it to full opacity; dropping alpha discards it (no compositing:
    ///   use a compositing operator to flatten onto a colour).
    public func converted(to newLayout: PixelLayout) -> ImageBuffer {
        if newLayout == layout { return self }
        // Every channel of every output pixel is written below.
        var result = ImageBuffer(uninitializedWidth: width, height: height, layout: newLayout)
        // Colour ↔ gray changes what the values mean: a profile for the one is wrong for the other.
        if layout.isColor == newLayout.isColor { result.colorProfile = colorProfile }
        let sourceChannels = layout.channelCount, targetChannels = newLayout.channelCount
        let sourceColor = layout.isColor, targetColor = newLayout.isColor
        let sourceAlpha = layout.hasAlpha, targetAlpha = newLayout.hasAlpha
        let width = self.width, height = self.height
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    let s = src + y * srcStride, d = dst + y * dstStride
                    for x in 0..<width {
                        let sp = s + x * sourceChannels, dp = d + x * targetChannels
                        if targetColor {
                            if sourceColor {
                                dp[0] = sp[0]; dp[1] = sp[1]; dp[2] = sp[2]
                            } else {
                                dp[0] = sp[0]; dp[1] = sp[0]; dp[2] = sp[0]
                            }
                        } else {
                            dp[0] = sourceColor ? Self.luma(sp[0], sp[1], sp[2]) : sp[0]
                        }
                        if targetAlpha {
                            dp[targetChannels - 1] = sourceAlpha ? sp[sourceChannels - 1] : Component.fullScale
                        }
                    }
                }
            }
        }
        return result
    }

    @inline(__always)
    static func luma(_ r: Component, _ g: Component, _ b: Component) -> Component {
        Component(unitValue: 0.299 * r.unitValue + 0.587 * g.unitValue + 0.114 * b.unitValue)
    }

    /// One channel as a single-channel (gray) picture, for example the alpha of an RGBA image.
    ///
    /// - Precondition: `channel < channelCount`.
    public func channel(_ channel: Int) -> ImageBuffer {
        precondition(channel >= 0 && channel < channelCount, "channel \(channel) is outside \(layout)")
        var result = ImageBuffer(uninitializedWidth: width, height: height, layout: .gray)
        let channels = channelCount, width = self.width, height = self.height
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    let s = src + y * srcStride + channel, d = dst + y * dstStride
                    for x in 0..<width { d[x] = s[x * channels] }
                }
            }
        }
        return result
    }

    /// The picture with every value converted to another storage type.
    ///
    /// 8-bit to float divides by 255 (exact for every value); float to 8-bit multiplies by
    /// 255, rounds to nearest and clamps to 0…255 (NaN becomes 0). Large 8-bit-to-float
    /// conversions split their rows over the threads of `pool`.
    public func converted<Other: ImageComponent>(
        to _: ImageBuffer<Other>.Type, pool: ThreadPool = .serial
    ) -> ImageBuffer<Other> {
        var result = ImageBuffer<Other>(uninitializedWidth: width, height: height, layout: layout)
        result.colorProfile = colorProfile
        let rowLength = self.rowLength, height = self.height
        // 8-bit → float (every decode into the pipeline): the generic loop below calls
        // `unitValue` through the protocol when not specialised across modules (~30 ms at
        // 2 MP); the same arithmetic, concrete, vectorises.
        let isByteToFloat = Component.self == UInt8.self && Other.self == Float.self
        // A 2 MP photo's float copy is 26 MB of fresh memory: its page faults can cost more
        // than the arithmetic, and they are taken by the thread that writes, so splitting the
        // rows spreads both. Rows have one writer each.
        let split = isByteToFloat && height >= 2 && rowLength * height >= 1 << 20
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                ImageBuffer.forEachRowBlock(height, pool: split ? pool : .serial) { rows in
                    for y in rows {
                        let s = src + y * srcStride, d = dst + y * dstStride
                        if isByteToFloat {
                            let bytes = UnsafeRawPointer(s).assumingMemoryBound(to: UInt8.self)
                            let floats = UnsafeMutableRawPointer(d).assumingMemoryBound(to: Float.self)
                            for i in 0..<rowLength { floats[i] = Float(bytes[i]) * (1 / 255) }
                        } else {
                            for i in 0..<rowLength { d[i] = Other(unitValue: s[i].unitValue) }
                        }
                    }
                }
            }
        }
        return result
    }
}
