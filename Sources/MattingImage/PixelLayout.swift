/// How the channels of one pixel are arranged in memory (interleaved, in this order).
public enum PixelLayout: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// One channel: luminance.
    case gray
    /// Two channels: luminance, then alpha.
    case grayAlpha
    /// Three channels: red, green, blue.
    case rgb
    /// Four channels: red, green, blue, then straight (not premultiplied) alpha.
    case rgba

    /// The number of interleaved channels per pixel (1…4).
    @inlinable public var channelCount: Int {
        switch self {
        case .gray: 1
        case .grayAlpha: 2
        case .rgb: 3
        case .rgba: 4
        }
    }

    /// Whether the last channel is alpha.
    @inlinable public var hasAlpha: Bool { self == .grayAlpha || self == .rgba }

    /// Whether the layout carries colour (red, green, blue) rather than luminance.
    @inlinable public var isColor: Bool { self == .rgb || self == .rgba }

    /// The layout with the same colour model and an alpha channel added (or kept).
    public var withAlpha: PixelLayout { isColor ? .rgba : .grayAlpha }

    /// The layout with the same colour model and no alpha channel.
    public var withoutAlpha: PixelLayout { isColor ? .rgb : .gray }

    public var description: String {
        switch self {
        case .gray: "gray"
        case .grayAlpha: "gray+alpha"
        case .rgb: "RGB"
        case .rgba: "RGBA"
        }
    }
}
