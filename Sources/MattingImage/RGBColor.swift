/// An opaque 8-bit sRGB colour, as used for backgrounds (`#rrggbb`).
///
/// ```swift
/// let paper = try RGBColor(parsing: "#f5f0e6")
/// print(paper)            // "#f5f0e6"
/// ```
/// It encodes as its `#rrggbb` text.
public struct RGBColor: Sendable, Hashable, Codable, CustomStringConvertible, LosslessStringConvertible {
    /// Red, 0…255.
    public var red: UInt8
    /// Green, 0…255.
    public var green: UInt8
    /// Blue, 0…255.
    public var blue: UInt8

    /// Creates a colour from its three 8-bit channels.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// White, `#ffffff` (the default background of the matting presets).
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    /// Black, `#000000`.
    public static let black = RGBColor(red: 0, green: 0, blue: 0)

    /// Parses `#rrggbb` (six hex digits, either case; the `#` may be omitted) or the
    /// short form `#rgb`, which means `#rrggbb`. Surrounding spaces are ignored.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` naming the text if it is not a colour.
    public init(parsing text: String) throws(ImageError) {
        var digits = Substring(text).drop { $0 == " " }
        while digits.last == " " { digits = digits.dropLast() }
        if digits.first == "#" { digits = digits.dropFirst() }
        let values = digits.unicodeScalars.map { scalar -> UInt8? in
            guard scalar.isASCII, let value = UInt8(String(scalar), radix: 16) else { return nil }
            return value
        }
        guard values.count == 6 || values.count == 3, values.allSatisfy({ $0 != nil }) else {
            throw .invalidArgument("\"\(text)\" is not a colour; expected #rrggbb, for example #ffffff")
        }
        let v = values.map { $0 ?? 0 }
        if v.count == 3 {
            self.init(red: v[0] * 17, green: v[1] * 17, blue: v[2] * 17)
        } else {
            self.init(red: v[0] << 4 | v[1], green: v[2] << 4 | v[3], blue: v[4] << 4 | v[5])
        }
    }

    /// Parses like ``init(parsing:)``, returning `nil` for text that is not a colour.
    public init?(_ description: String) {
        guard let color = try? RGBColor(parsing: description) else { return nil }
        self = color
    }

    /// The colour as `#rrggbb`, lower-case.
    public var description: String {
        let hex = Array("0123456789abcdef")
        return "#" + String([red, green, blue].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
    }

    /// Whether red, green and blue are equal (the colour is a shade of gray).
    public var isGray: Bool { red == green && green == blue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
