/// How stored pixels must be transformed to appear upright: the EXIF/TIFF `Orientation`
/// tag (0x0112), values 1…8.
///
/// The case names say where the stored picture's first row and first column belong when
/// it is displayed upright; ``ImageBuffer/applyingOrientation(_:)`` performs the fix.
public enum ImageOrientation: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 1: stored upright.
    case up = 1
    /// 2: mirrored left–right; fixed by a horizontal flip.
    case upMirrored = 2
    /// 3: upside down; fixed by a 180° rotation.
    case down = 3
    /// 4: mirrored top–bottom; fixed by a vertical flip.
    case downMirrored = 4
    /// 5: first row is the left side, first column the top; fixed by a transpose.
    case leftMirrored = 5
    /// 6: first row is the right side, first column the top; fixed by rotating 90° clockwise.
    case right = 6
    /// 7: first row is the right side, first column the bottom; fixed by a transverse
    /// (transpose across the other diagonal).
    case rightMirrored = 7
    /// 8: first row is the left side, first column the bottom; fixed by rotating 90°
    /// counter-clockwise.
    case left = 8

    /// Whether fixing this orientation swaps width and height (values 5–8).
    public var swapsDimensions: Bool { rawValue >= 5 }

    /// "EXIF orientation N", N being the tag value 1…8.
    public var description: String { "EXIF orientation \(rawValue)" }
}

/// Reads the orientation tag from an EXIF APP1 payload; bounds-checked, never traps.
enum EXIFReader {
    /// The orientation in `payload` (an APP1 body starting with `Exif\0\0`), or `nil` if
    /// there is no valid tag (missing, out of range, or malformed data).
    static func orientation(in payload: UnsafeRawBufferPointer) -> ImageOrientation? {
        let prefix: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
        guard payload.count >= 6 + 8, zip(payload.prefix(6), prefix).allSatisfy({ $0 == $1 }) else { return nil }
        return orientation(tiff: UnsafeRawBufferPointer(rebasing: payload[6...]))
    }

    /// The orientation in TIFF-structured EXIF data (a PNG eXIf chunk, or an APP1 body
    /// after its prefix), or `nil`.
    static func orientation(tiff: UnsafeRawBufferPointer) -> ImageOrientation? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false  // "II"
        case (0x4D, 0x4D): bigEndian = true   // "MM"
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let a = Int(tiff[at]), b = Int(tiff[at + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }
        func u32(_ at: Int) -> Int? {
            guard let hi = u16(bigEndian ? at : at + 2), let lo = u16(bigEndian ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for index in 0..<count {
            let entry = ifd + 2 + index * 12
            guard let tag = u16(entry) else { return nil }
            guard tag == 0x0112 else { continue }
            // Type SHORT (3), count 1: the value sits in the first two bytes of the field.
            guard u16(entry + 2) == 3, u32(entry + 4) == 1, let value = u16(entry + 8) else { return nil }
            return ImageOrientation(rawValue: value)
        }
        return nil
    }
}
