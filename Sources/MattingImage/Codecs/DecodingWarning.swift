/// Something a decoder found wrong in a file that did not stop it from decoding the pixels.
///
/// The library never prints: ``ImageBuffer/decode(contentsOfFile:options:)->DecodedImage<Float>`` and its siblings
/// return the warnings beside the picture, for the caller to show or log.
/// ``ImageBuffer/init(contentsOfFile:options:)-69c10`` decodes the same way and drops them.
public struct DecodingWarning: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it was.
    public enum Kind: Sendable, Hashable {
        /// The file's ICC profile was malformed, over ``ColorProfile/maximumByteCount``, or for
        /// other pixels than the decoded ones; the picture has no ``ImageBuffer/colorProfile``.
        case colorProfileDropped
    }

    /// What kind of problem it was.
    public var kind: Kind
    /// The file's path, or `"<memory>"`.
    public var source: String
    /// What was wrong, in words.
    public var detail: String

    /// Creates a warning; decoders make these.
    public init(kind: Kind, source: String, detail: String) {
        self.kind = kind
        self.source = source
        self.detail = detail
    }

    /// `source: warning: detail`, one line.
    public var description: String { "\(source): warning: \(detail)" }
}

/// A decoded picture with the warnings its decoder raised.
public struct DecodedImage<Component: ImageComponent>: Sendable {
    /// The picture, orientation applied as the options asked, with its colour profile if kept.
    public var image: ImageBuffer<Component>
    /// Problems that did not stop decoding (a dropped colour profile, ...), in the order found.
    public var warnings: [DecodingWarning]

    /// Wraps a picture and its warnings.
    public init(image: ImageBuffer<Component>, warnings: [DecodingWarning]) {
        self.image = image
        self.warnings = warnings
    }
}

/// Reading ICC profiles out of the codec shims and deciding whether to keep them.
enum ProfileReading {
    /// The profile if `bytes` is a valid one for pixels of `layout`, else a warning saying why not.
    static func check(_ bytes: [UInt8], layout: PixelLayout, source: String) -> (ColorProfile?, [DecodingWarning]) {
        func dropped(_ detail: String) -> (ColorProfile?, [DecodingWarning]) {
            (nil, [DecodingWarning(kind: .colorProfileDropped, source: source, detail: "ICC profile dropped: \(detail)")])
        }
        if let problem = ColorProfile.problem(bytes) { return dropped(problem) }
        guard let profile = try? ColorProfile(iccData: bytes) else { return dropped("invalid") }
        guard profile.describes(layout) else {
            return dropped("it describes \(profile.colorSpace) pixels, the decoded picture is \(layout)")
        }
        return (profile, [])
    }

    /// The profile in a JPEG's APP2 `ICC_PROFILE` markers: each payload is the 12-byte
    /// signature, a sequence number (1…count), the count, then a piece of the profile; the
    /// pieces are joined in sequence order (markers may come in any order). `payloads`
    /// holds every APP2 payload, ICC or not.
    static func jpegProfile(_ payloads: [UnsafeRawBufferPointer], layout: PixelLayout, source: String)
        -> (ColorProfile?, [DecodingWarning])
    {
        let signature = Array("ICC_PROFILE\0".utf8)
        let pieces = payloads.filter { $0.count >= 14 && $0.prefix(12).elementsEqual(signature) }
        if pieces.isEmpty { return (nil, []) }
        func dropped(_ detail: String) -> (ColorProfile?, [DecodingWarning]) {
            (nil, [DecodingWarning(kind: .colorProfileDropped, source: source, detail: "ICC profile dropped: \(detail)")])
        }
        let count = Int(pieces[0][13])
        guard count >= 1, pieces.count == count, pieces.allSatisfy({ Int($0[13]) == count }) else {
            return dropped("\(pieces.count) APP2 ICC_PROFILE markers, but they announce \(count)")
        }
        var ordered = [UnsafeRawBufferPointer?](repeating: nil, count: count)
        for piece in pieces {
            let sequence = Int(piece[12])
            guard (1...count).contains(sequence), ordered[sequence - 1] == nil else {
                return dropped("APP2 ICC_PROFILE markers numbered wrongly (marker \(sequence) of \(count))")
            }
            ordered[sequence - 1] = piece
        }
        // Each piece is at most 65,519 bytes and there are at most 255: the sum cannot overflow.
        let total = pieces.reduce(0) { $0 + $1.count - 14 }
        guard total <= ColorProfile.maximumByteCount else {
            return dropped("\(total) bytes is over the limit of \(ColorProfile.maximumByteCount)")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(total)
        for piece in ordered { bytes.append(contentsOf: piece!.dropFirst(14)) }
        return check(bytes, layout: layout, source: source)
    }
}
