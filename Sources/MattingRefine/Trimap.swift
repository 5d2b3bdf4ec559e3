import MattingThreads
import MattingImage

/// A trimap: which pixels are surely foreground, surely background, or unknown.
///
/// Stored as a single-channel 8-bit `Image` with the convention users supply: 0 is
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

    /// How a trimap is made from a coarse alpha (see ``init(coarseAlpha:options:pool:)``).
    public struct Options: Sendable, Hashable, Codable {
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
        /// How far from the 0.5 contour intermediate coarse alpha stays unknown, in band
        /// radii (at least 1: 1 leaves only the band unknown; 4 is 48 px at a 1200 px short
        /// side; a smaller value throws). Farther away, the coarse
        /// mask decides: alpha ≥ 0.5 foreground, else background. Default `nil`: every
        /// intermediate pixel stays unknown, however far from the contour.
        ///
        /// A low-resolution segmenter's intermediate values over a large area (a glossy
        /// helmet held against the body) are doubt about a whole object rather than
        /// transparency; solved as unknown, the matte there follows the object's shading.
        /// Bounding the reach makes the solve cheaper (on the README's sample upscaled to
        /// 1200×1800, reach 4 leaves 242 k of 362 k unknown pixels and saves ~100 ms) but
        /// forces such areas to the mask, holes included — which is why it is not the default.
        /// Hair and other fine structures near the contour stay in the unknown band either way.
        public var intermediateReach: Int? = nil
        /// A wider unknown band where the edge looks like hair, narrow elsewhere
        /// (``HairBand``). Default `nil`: the band has one width everywhere.
        ///
        /// Only ``init(coarseAlpha:guide:hairRegions:options:pool:)`` reads the texture cue (it
        /// needs the photo); the partial-alpha cue and the regions work without it.
        public var hairBand: HairBand? = nil

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
    /// window (O(1) per pixel, `eroded(radius:)`): a pixel is foreground if it
    /// survives the erosion and its alpha is ≥ `foregroundThreshold`, background if it is
    /// outside the dilation and its alpha is ≤ `backgroundThreshold`, unknown otherwise —
    /// except that beyond ``Options/intermediateReach`` band radii from the 0.5 contour the
    /// mask itself decides. So the unknown region is the band around the 0.5 contour plus the
    /// pixels of intermediate coarse alpha near it.
    ///
    /// - Throws: `ImageError.invalidArgument` unless `coarseAlpha` is single-channel,
    ///   or if ``Options/intermediateReach`` is below 1.
    public init(coarseAlpha: FloatImage, options: Options = Options(), pool: ThreadPool = .serial) throws {
        try self.init(coarseAlpha: coarseAlpha, guide: nil, hairRegions: [], options: options, pool: pool)
    }

    /// A trimap from a coarse alpha, with the band widened where the edge looks like hair when
    /// ``Options/hairBand`` is set (see ``HairBand`` for the rule); otherwise as
    /// ``init(coarseAlpha:options:pool:)``.
    ///
    /// - Parameters:
    ///   - coarseAlpha: as for ``init(coarseAlpha:options:pool:)``.
    ///   - guide: the photo at the coarse alpha's size (RGB/RGBA/gray, 0…1), for the texture
    ///     cue; `nil` uses the partial-alpha cue and `hairRegions` only.
    ///   - hairRegions: rectangles in pixels (for example around and above a detected head)
    ///     where the band is wide whatever the cues say.
    ///   - options: as for ``init(coarseAlpha:options:pool:)``.
    ///   - pool: the threads to work on; the result does not depend on their number.
    /// - Throws: as ``init(coarseAlpha:options:pool:)``; `ImageError.invalidArgument` if
    ///   `guide` differs in size or the hair band's settings are out of range.
    public init(
        coarseAlpha: FloatImage, guide: FloatImage?, hairRegions: [ImageRect] = [], options: Options = Options(),
        pool: ThreadPool = .serial
    ) throws {
        try requireMatte(coarseAlpha, "coarse alpha")
        if let guide { try requireSameSize(guide, coarseAlpha, "guide and coarse alpha") }
        if let hair = options.hairBand { try hair.validate() }
        let w = coarseAlpha.width, h = coarseAlpha.height
        let r = options.bandRadius(width: w, height: h)
        if let reach = options.intermediateReach, reach < 1 {
            throw ImageError.invalidArgument("trimap intermediateReach \(reach) must be at least 1 band radius (or nil)")
        }
        let values = coarseAlpha.withUnsafeBufferPointer { alpha, stride in
            var values = Self.classify(alpha, rowStride: stride, width: w, height: h, radius: r, options: options, pool: pool)
            if let hair = options.hairBand {
                Self.widenForHair(
                    &values, alpha: alpha, rowStride: stride, width: w, height: h, guide: guide, regions: hairRegions, radius: r, hair: hair,
                    options: options, pool: pool)
            }
            if let reach = options.intermediateReach {
                // Far from the contour the window of radius reach·r holds only mask pixels or none:
                // the same count with thresholds at the mask's own boundary classifies by the mask.
                var byMask = options
                byMask.foregroundThreshold = 0.5
                byMask.backgroundThreshold = Float(0.5).nextDown
                // A window wider than the picture already sees all of it: cap the factor so
                // reach · r cannot overflow.
                let far = Self.classify(
                    alpha, rowStride: stride, width: w, height: h, radius: min(reach, max(w, h)) * r, options: byMask,
                    pool: pool)
                for i in values.indices where values[i] == Trimap.unknownValue { values[i] = far[i] }
            }
            return values
        }
        self.init(try Image(width: w, height: h, layout: .gray, components: values))
    }

    /// The trimap values of ``init(coarseAlpha:options:pool:)``.
    ///
    /// The mask `α ≥ 0.5` survives a square erosion of radius `r` exactly where its window
    /// (clipped to the picture) holds only mask pixels, and lies outside the dilation where
    /// the window holds none; so both come from one count of mask pixels per window —
    /// separable running sums in Int32, rows then columns, O(1) per pixel — instead of two
    /// min/max filters over float planes. Rows are split over the pool's threads, then bands of rows
    /// (each band primes its column sums from its first window), so the result does not
    /// depend on the thread count.
    static func classify(_ alpha: [Float], width w: Int, height h: Int, radius r: Int, options: Options, pool: ThreadPool = .serial) -> [UInt8] {
        alpha.withUnsafeBufferPointer { alpha in
            guard let base = alpha.baseAddress else { return [UInt8](repeating: Trimap.unknownValue, count: w * h) }
            return classify(base, rowStride: w, width: w, height: h, radius: r, options: options, pool: pool)
        }
    }

    /// ``classify(_:width:height:radius:options:threads:)`` of rows `rowStride` floats apart.
    /// Counts are Int32 with wrapping adds (a count never exceeds `(2r + 1)²` clipped to the
    /// picture), so the loops vectorise.
    static func classify(
        _ alpha: UnsafePointer<Float>, rowStride: Int, width w: Int, height h: Int, radius r: Int, options: Options,
        pool: ThreadPool = .serial
    ) -> [UInt8] {
        var values = [UInt8](repeating: Trimap.unknownValue, count: w * h)
        if w == 0 || h == 0 { return values }
        let rowCounts = UnsafeMutablePointer<Int32>.allocate(capacity: w * h)
        // Per column, the window's width clipped to the picture.
        let columnWidths = UnsafeMutablePointer<Int32>.allocate(capacity: w)
        defer { rowCounts.deallocate(); columnWidths.deallocate() }
        for x in 0..<w { columnWidths[x] = Int32(min(w - 1, x + r) - max(0, x - r) + 1) }
        let fg = options.foregroundThreshold, bg = options.backgroundThreshold
        values.withUnsafeMutableBufferPointer { values in
            let shared = UncheckedSendable((alpha, rowCounts, values.baseAddress!, UnsafePointer(columnWidths)))
            // Horizontal: mask pixels in [x − r, x + r] ∩ [0, w) of each row.
            parallelChunks(h, pool: pool) { rows in
                let (A, C, _, _) = shared.value
                for y in rows {
                    let a = A + y * rowStride, c = C + y * w
                    @inline(__always) func m(_ x: Int) -> Int32 { a[x] >= 0.5 ? 1 : 0 }
                    var sum: Int32 = 0
                    for x in 0..<min(r, w) { sum &+= m(x) }
                    for x in 0..<w {
                        if x + r < w { sum &+= m(x + r) }
                        c[x] = sum
                        if x - r >= 0 { sum &-= m(x - r) }
                    }
                }
            }
            // Vertical, in bands of rows; then classify each pixel.
            parallelChunks(h, pool: pool) { rows in
                let (A, C, V, widths) = shared.value
                let column = UnsafeMutablePointer<Int32>.allocate(capacity: w)
                defer { column.deallocate() }
                column.initialize(repeating: 0, count: w)
                for v in max(0, rows.lowerBound - r)..<min(h, rows.lowerBound + r) {
                    let add = C + v * w
                    for x in 0..<w { column[x] &+= add[x] }
                }
                for y in rows {
                    if y + r < h { let add = C + (y + r) * w; for x in 0..<w { column[x] &+= add[x] } }
                    let windowRows = Int32(min(h - 1, y + r) - max(0, y - r) + 1)
                    let a = A + y * rowStride, out = V + y * w
                    for x in 0..<w {
                        let full = windowRows &* widths[x]
                        let count = column[x], value = a[x]
                        if count == full && value >= fg {
                            out[x] = 255
                        } else if count == 0 && value <= bg {
                            out[x] = 0
                        }
                    }
                    if y - r >= 0 { let sub = C + (y - r) * w; for x in 0..<w { column[x] &-= sub[x] } }
                }
            }
        }
        return values
    }

    /// Per pixel: 1 for foreground, 0 for background, nil for unknown (packed, row-major).
    var knownValues: [Float?] {
        image.packedComponents.map { $0 == 255 ? 1 : ($0 == 0 ? 0 : nil) }
    }
}
