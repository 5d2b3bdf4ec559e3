import MattingImage

/// A trimap: which pixels are surely foreground, surely background, or unknown.
///
/// Stored as a single-channel 8-bit ``Image`` with the convention users supply: 0 is
/// background, 255 is foreground, any other value is unknown (128 when MattingKit makes one).
public struct Trimap: Sendable, Equatable {
    /// The trimap pixels (`.gray`, 0 background, 255 foreground, else unknown).
    public let image: Image
    /// Pixels equal to 255.
    public let foregroundCount: Int
    /// Pixels equal to 0.
    public let backgroundCount: Int

    /// Pixels that are neither 0 nor 255.
    public var unknownCount: Int { image.pixelCount - foregroundCount - backgroundCount }
    /// Width in pixels.
    public var width: Int { image.width }
    /// Height in pixels.
    public var height: Int { image.height }

    /// The value MattingKit writes for unknown pixels.
    public static let unknownValue: UInt8 = 128

    /// Wraps a user-supplied trimap.
    ///
    /// - Parameter image: gray (or gray+alpha, RGB, RGBA: the first channel is used, so an
    ///   RGB trimap painted in black, white and gray works).
    public init(_ image: Image) {
        let gray = image.layout == .gray ? image : image.channel(0)
        var fg = 0, bg = 0
        gray.withUnsafeBufferPointer { p, stride in
            for y in 0..<gray.height {
                for x in 0..<gray.width {
                    let v = p[y * stride + x]
                    if v == 255 { fg += 1 } else if v == 0 { bg += 1 }
                }
            }
        }
        self.image = gray
        self.foregroundCount = fg
        self.backgroundCount = bg
    }

    /// How a trimap is made from a coarse alpha (see ``init(coarseAlpha:options:)``).
    public struct Options: Sendable, Hashable {
        /// Band half-width as a fraction of the picture's short side: the band radius is
        /// `max(minimumBandRadius, round(bandFraction × short side))` pixels. Default 0.01
        /// (12 px at a 1200 px short side: a 25 px wide unknown band around the contour,
        /// about the error of a 256×256 mask upscaled 5×).
        public var bandFraction: Float = 0.01
        /// Smallest band radius in pixels. Default 2.
        public var minimumBandRadius: Int = 2
        /// Coarse alpha at or above this is foreground (outside the band). Default 0.95.
        public var foregroundThreshold: Float = 0.95
        /// Coarse alpha at or below this is background (outside the band). Default 0.05.
        public var backgroundThreshold: Float = 0.05

        /// The defaults above.
        public init() {}

        /// The band radius for a `width × height` picture.
        public func bandRadius(width: Int, height: Int) -> Int {
            max(minimumBandRadius, Int((bandFraction * Float(min(width, height))).rounded()))
        }
    }

    /// A trimap from a coarse alpha (an upsampled segmentation, values 0…1).
    ///
    /// The mask `alpha ≥ 0.5` is eroded and dilated by the band radius with a square
    /// window (O(1) per pixel, ``FloatImage/eroded(radius:)``): a pixel is foreground if it
    /// survives the erosion and its alpha is ≥ `foregroundThreshold`, background if it is
    /// outside the dilation and its alpha is ≤ `backgroundThreshold`, unknown otherwise. So
    /// the unknown region is the band around the 0.5 contour plus every pixel of
    /// intermediate coarse alpha.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` unless `coarseAlpha` is single-channel.
    public init(coarseAlpha: FloatImage, options: Options = Options()) throws {
        try requireMatte(coarseAlpha, "coarse alpha")
        let w = coarseAlpha.width, h = coarseAlpha.height
        let alpha = Plane(coarseAlpha)
        var mask = Plane(width: w, height: h)
        for i in 0..<alpha.count { mask.data[i] = alpha.data[i] >= 0.5 ? 1 : 0 }
        let r = options.bandRadius(width: w, height: h)
        let inner = MinMaxKernel.filter(mask, radius: r, isMin: true)
        let outer = MinMaxKernel.filter(mask, radius: r, isMin: false)
        var values = [UInt8](repeating: Trimap.unknownValue, count: w * h)
        for i in 0..<values.count {
            let a = alpha.data[i]
            if inner.data[i] == 1 && a >= options.foregroundThreshold {
                values[i] = 255
            } else if outer.data[i] == 0 && a <= options.backgroundThreshold {
                values[i] = 0
            }
        }
        self.init(try Image(width: w, height: h, layout: .gray, components: values))
    }

    /// Per pixel: 1 for foreground, 0 for background, nil for unknown (packed, row-major).
    var knownValues: [Float?] {
        image.packedComponents.map { $0 == 255 ? 1 : ($0 == 0 ? 0 : nil) }
    }
}
