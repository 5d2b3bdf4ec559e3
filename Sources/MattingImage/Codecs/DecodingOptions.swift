/// How to decode a picture file. The defaults suit photos and cut-outs.
///
/// ```swift
/// var options = DecodingOptions()
/// options.reducedSize = .longSide(atLeast: 2048)   // a 50 MP JPEG decodes at 1/2 or 1/4 size
/// let photo = try Image(contentsOf: url, options: options)
/// ```
public struct DecodingOptions: Sendable, Hashable {
    /// The largest `width × height` accepted, checked from the header before any pixel
    /// memory is allocated; larger pictures throw ``ImageError/tooLarge(source:width:height:limit:)``.
    ///
    /// The default, 268,435,456 (16384 × 16384), admits every camera photo while keeping a
    /// hostile header from asking for tens of gigabytes: at most 1 GiB for 8-bit RGBA. The
    /// check uses the full size stored in the file, also when ``reducedSize`` asks for less.
    /// Must be positive.
    public var maximumPixelCount: Int

    /// Whether to turn the pixels upright according to the EXIF orientation tag (JPEG APP1
    /// segment, or a PNG eXIf chunk before IDAT; default `true`). When `false` the pixels
    /// come out as stored.
    public var appliesOrientation: Bool

    /// A size the caller will scale down to anyway, so that a JPEG can be decoded at a
    /// reduced DCT scale (libjpeg's `N/8`, N = 1…8) without a full-size buffer.
    ///
    /// The decoder picks the *smallest* N whose output still has the requested side at
    /// least as long as asked (libjpeg rounds scaled sizes up), so the result is never
    /// smaller than requested, and is the full size if the picture is smaller than that.
    /// The side is measured on the stored pixels; long and short side are the same after
    /// rotation. PNG has no reduced decoding and ignores this. `nil` (default): full size.
    public var reducedSize: ReducedDecodeSize?

    /// Default options: 268,435,456-pixel limit, orientation applied, full size.
    public init(
        maximumPixelCount: Int = 268_435_456, appliesOrientation: Bool = true,
        reducedSize: ReducedDecodeSize? = nil
    ) {
        self.maximumPixelCount = maximumPixelCount
        self.appliesOrientation = appliesOrientation
        self.reducedSize = reducedSize
    }
}

/// The smallest size a reduced-size decode may return; see ``DecodingOptions/reducedSize``.
public struct ReducedDecodeSize: Sendable, Hashable {
    /// Which side of the picture ``minimum`` constrains.
    public enum Side: Sendable, Hashable {
        /// The longer of width and height.
        case long
        /// The shorter of width and height.
        case short
    }

    /// The side that must stay at least ``minimum`` pixels long.
    public var side: Side
    /// The least acceptable length of ``side`` in pixels (≥ 1).
    public var minimum: Int

    /// A constraint that `side` stays at least `minimum` pixels long (`minimum` ≥ 1;
    /// decoding throws ``ImageError/invalidArgument(_:)`` otherwise).
    public init(side: Side, minimum: Int) {
        self.side = side
        self.minimum = minimum
    }

    /// Decode as small as possible while the longer side stays ≥ `pixels`.
    public static func longSide(atLeast pixels: Int) -> ReducedDecodeSize {
        ReducedDecodeSize(side: .long, minimum: pixels)
    }

    /// Decode as small as possible while the shorter side stays ≥ `pixels`.
    public static func shortSide(atLeast pixels: Int) -> ReducedDecodeSize {
        ReducedDecodeSize(side: .short, minimum: pixels)
    }

    /// Whether a `width × height` result is large enough.
    func isSatisfied(width: Int, height: Int) -> Bool {
        (side == .long ? max(width, height) : min(width, height)) >= minimum
    }
}
