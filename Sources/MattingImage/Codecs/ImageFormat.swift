/// A file format MattingKit reads and writes.
public enum ImageFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Portable Network Graphics (lossless, optional alpha).
    case png
    /// JPEG (JFIF/EXIF, lossy, no alpha).
    case jpeg

    /// Detects the format from the first bytes (the signature), not from a file name.
    ///
    /// PNG needs its full 8-byte signature; JPEG needs `FF D8 FF`. Returns `nil` for
    /// anything else, including empty or shorter input.
    public init?(sniffing bytes: some Collection<UInt8>) {
        let head = Array(bytes.prefix(8))
        if head.count >= 8 && head == ImageFormat.pngSignature {
            self = .png
        } else if head.count >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }

    /// The format a file name extension stands for (`png`; `jpg`, `jpeg`, `jpe`, `jfif`),
    /// ignoring case and a leading dot; `nil` for others. Used to choose an *output* format.
    public init?(fileExtension: String) {
        var ext = fileExtension.lowercased()
        if ext.hasPrefix(".") { ext.removeFirst() }
        switch ext {
        case "png": self = .png
        case "jpg", "jpeg", "jpe", "jfif": self = .jpeg
        default: return nil
        }
    }

    /// The usual file name extension, without a dot: `png` or `jpg`.
    public var fileExtension: String { self == .png ? "png" : "jpg" }

    /// The format's usual name: "PNG" or "JPEG".
    public var description: String { self == .png ? "PNG" : "JPEG" }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
}
