#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a picture file's header says, read without decoding any pixels.
///
/// ```swift
/// let info = try ImageInfo(contentsOfFile: "photo.jpg")
/// print(info.uprightWidth, info.uprightHeight)   // the size Image(contentsOf:) returns
/// ```
public struct ImageInfo: Sendable, Hashable {
    /// The file's format, detected from its signature.
    public var format: ImageFormat
    /// Width of the pixels as stored in the file.
    public var width: Int
    /// Height of the pixels as stored in the file.
    public var height: Int
    /// The EXIF orientation (JPEG APP1, PNG eXIf before IDAT); `.up` when absent or invalid.
    public var orientation: ImageOrientation

    /// Creates an info value; decoders make these.
    public init(format: ImageFormat, width: Int, height: Int, orientation: ImageOrientation) {
        self.format = format
        self.width = width
        self.height = height
        self.orientation = orientation
    }

    /// Width once the orientation is applied (height for orientations 5–8).
    public var uprightWidth: Int { orientation.swapsDimensions ? height : width }
    /// Height once the orientation is applied (width for orientations 5–8).
    public var uprightHeight: Int { orientation.swapsDimensions ? width : height }

    /// Reads the header of the file at `path`.
    ///
    /// - Throws: ``ImageError/io(path:detail:)`` if the file cannot be read, or the
    ///   decoding errors of ``ImageBuffer/init(decoding:options:)-2mqeq`` for its header.
    public init(contentsOfFile path: String) throws(ImageError) {
        // Headers sit at the start: try the first 256 KiB (room for EXIF and ICC segments)
        // and read the whole file only if the header runs past that.
        let prefixLength = 256 << 10
        let prefix = try FileIO.contents(ofFile: path, limit: prefixLength)
        do {
            self = try FileIO.withBytes(prefix) { buffer throws(ImageError) in try ImageInfo.read(buffer, source: path) }
        } catch .truncated(_, _) where prefix.count == prefixLength {
            let bytes = try FileIO.contents(ofFile: path)
            self = try FileIO.withBytes(bytes) { buffer throws(ImageError) in try ImageInfo.read(buffer, source: path) }
        }
    }

    /// Reads the header of the file at `url` (a `file:` URL).
    public init(contentsOf url: URL) throws(ImageError) {
        try self.init(contentsOfFile: try CodecSource.path(of: url))
    }

    /// Reads the header of a picture held in memory.
    public init(decoding bytes: some Collection<UInt8>) throws(ImageError) {
        self = try FileIO.withBytes(Array(bytes)) { buffer throws(ImageError) in
            try ImageInfo.read(buffer, source: CodecSource.memory)
        }
    }

    static func read(_ bytes: UnsafeRawBufferPointer, source: String) throws(ImageError) -> ImageInfo {
        switch try CodecSource.format(of: bytes, source: source) {
        case .png: try PNGCodec.info(bytes, source: source)
        case .jpeg: try JPEGCodec.info(bytes, source: source)
        }
    }
}

/// Naming and sniffing shared by the decoders.
enum CodecSource {
    /// How errors name data that did not come from a file.
    static let memory = "<memory>"

    static func path(of url: URL) throws(ImageError) -> String {
        guard url.isFileURL else {
            throw .io(path: url.absoluteString, detail: "not a file URL")
        }
        return url.path
    }

    static func format(of bytes: UnsafeRawBufferPointer, source: String) throws(ImageError) -> ImageFormat {
        if bytes.isEmpty { throw .unsupportedFormat(source: source, detail: "empty (0 bytes)") }
        if let format = ImageFormat(sniffing: bytes) { return format }
        // A short prefix of a valid signature is a truncated file, not an unknown format.
        let png = ImageFormat.pngSignature
        if bytes.count < 8 && bytes.elementsEqual(png.prefix(bytes.count)) {
            throw .truncated(source: source, detail: "the data ends inside the PNG signature")
        }
        if bytes.count < 3 && bytes.elementsEqual([0xFF, 0xD8].prefix(bytes.count)) {
            throw .truncated(source: source, detail: "the data ends inside the JPEG signature")
        }
        let head = bytes.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        throw .unsupportedFormat(source: source, detail: "not PNG or JPEG (first bytes: \(head))")
    }
}
