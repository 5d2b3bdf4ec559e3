/// An ICC colour profile: what the numbers in a picture's pixels mean as colours.
///
/// Phones and cameras tag photos with Display P3 or Adobe RGB profiles; dropping the profile
/// makes viewers show the pixels as sRGB, dull or shifted. MattingKit never converts colours:
/// it keeps the profile with the ``ImageBuffer`` (``ImageBuffer/colorProfile``) from decoding
/// to encoding, so a cut-out shows the colours the photo had.
///
/// Decoders read JPEG APP2 `ICC_PROFILE` markers (reassembled in sequence order) and PNG iCCP
/// chunks; encoders write the same bytes back (PNG iCCP, JPEG APP2 split into markers of at
/// most 65,519 profile bytes). A profile is only kept when it is well formed (see
/// ``init(iccData:)``), at most ``maximumByteCount`` bytes, and describes the decoded pixels
/// (an RGB profile for colour pictures, a gray one for gray pictures); otherwise the decoder
/// drops it and says so in a ``DecodingWarning`` (see ``ImageBuffer/decode(contentsOfFile:options:)->DecodedImage<Float>``).
///
/// ```swift
/// let decoded = try Image.decode(contentsOfFile: "phone.jpg")
/// print(decoded.image.colorProfile?.colorSpace ?? "untagged (sRGB by convention)")
/// try decoded.image.write(toFile: "copy.png")      // the same profile, byte for byte
/// ```
public struct ColorProfile: Sendable, Hashable, CustomStringConvertible {
    /// The largest profile kept: 4 MiB. Display P3, Adobe RGB and sRGB profiles are a few
    /// hundred bytes to a few KB; the limit bounds what a hostile file can make a decoder
    /// hold (a JPEG could otherwise declare up to 255 × 65,519 bytes).
    public static let maximumByteCount = 4 << 20

    /// The profile's bytes, exactly as stored in the file (the ICC header first).
    public let data: [UInt8]

    /// The colour space of the pixels the profile describes (header bytes 16–19).
    public enum ColorSpace: Sendable, Hashable, CustomStringConvertible {
        /// `'RGB '`: three-channel colour pictures.
        case rgb
        /// `'GRAY'`: one-channel pictures.
        case gray
        /// `'CMYK'`: four-channel print pictures (MattingKit decodes CMYK JPEGs to RGB, so it
        /// never keeps such a profile with a decoded picture).
        case cmyk
        /// Any other signature (Lab, XYZ, multi-colour ...), as four characters.
        case other(String)

        public var description: String {
            switch self {
            case .rgb: "RGB"
            case .gray: "gray"
            case .cmyk: "CMYK"
            case let .other(signature): signature.trimmingTrailingSpaces
            }
        }
    }

    /// Checks and wraps an ICC profile.
    ///
    /// A profile is accepted when it has the 128-byte header and a tag count, the size in its
    /// header equals `iccData.count`, it carries the `'acsp'` signature at byte 36, and its tag
    /// table and every tag it lists lie inside the data. The contents of the tags are not
    /// interpreted.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` saying what is wrong, or that the profile
    ///   is larger than ``maximumByteCount``.
    public init(iccData: [UInt8]) throws(ImageError) {
        if let problem = Self.problem(iccData) { throw .invalidArgument("ICC profile: \(problem)") }
        data = iccData
    }

    /// What is wrong with `bytes` as an ICC profile, or `nil`. Offsets and sizes come from the
    /// data, so every sum is checked against the length before it is used.
    static func problem(_ bytes: [UInt8]) -> String? {
        guard bytes.count <= maximumByteCount else {
            return "\(bytes.count) bytes is over the limit of \(maximumByteCount)"
        }
        guard bytes.count >= 132 else { return "\(bytes.count) bytes is shorter than the 132-byte header and tag count" }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        guard u32(0) == bytes.count else { return "the header says \(u32(0)) bytes, the data has \(bytes.count)" }
        guard bytes[36..<40].elementsEqual("acsp".utf8) else { return "no 'acsp' signature" }
        let tags = u32(128)
        // Each tag-table entry is 12 bytes; the count itself is at most 2³² − 1, so this fits.
        guard 132 + tags * 12 <= bytes.count else { return "its tag table (\(tags) tags) runs past the end" }
        for i in 0..<tags {
            let entry = 132 + i * 12
            let offset = u32(entry + 4), size = u32(entry + 8)
            guard offset <= bytes.count, size <= bytes.count - offset else {
                return "tag \(i) (\(offset) + \(size) bytes) lies outside the profile"
            }
        }
        return nil
    }

    /// The colour space of the pixels the profile describes.
    public var colorSpace: ColorSpace {
        let signature = String(decoding: data[16..<20], as: UTF8.self)
        switch signature {
        case "RGB ": return .rgb
        case "GRAY": return .gray
        case "CMYK": return .cmyk
        default: return .other(signature)
        }
    }

    /// Whether the profile describes pixels of `layout` (RGB for colour, gray for gray).
    public func describes(_ layout: PixelLayout) -> Bool {
        switch layout {
        case .gray, .grayAlpha: colorSpace == .gray
        case .rgb, .rgba: colorSpace == .rgb
        }
    }

    /// "ICC profile (RGB, 3144 bytes)".
    public var description: String { "ICC profile (\(colorSpace), \(data.count) bytes)" }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
