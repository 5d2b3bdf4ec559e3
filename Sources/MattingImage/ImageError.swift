/// Everything that can go wrong reading, writing or handling a picture.
///
/// Every case carries enough to tell a user what happened and to which file: codec
/// errors name the source (`path` for files, `"<memory>"` for bytes) and, for corrupt
/// data, quote the C library's own message.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not a format MattingKit reads (detected by signature, not extension).
    case unsupportedFormat(source: String, detail: String)
    /// The data ends before the picture does.
    case truncated(source: String, detail: String)
    /// The data is damaged or not valid for its format; `detail` is the codec's message.
    case corrupt(source: String, detail: String)
    /// The picture is larger than the configured limit (checked from the header, before
    /// any large allocation).
    case tooLarge(source: String, width: Int, height: Int, limit: Int)
    /// Reading or writing the file failed; `detail` is the system's reason.
    case io(path: String, detail: String)
    /// The temporary spill file that holds a picture's decoded rows between passes (an
    /// anonymous file in `directory`, the temporary folder: `TMPDIR`, else `/tmp`) could not be
    /// created, its space reserved, written or read. `input` is the picture's file (`"<memory>"`
    /// for bytes), `action` what failed ("create", "reserve 1000 bytes for", "write", "read")
    /// and `detail` the system's reason. Nothing falls back to holding the picture whole.
    case spill(input: String, directory: String, action: String, detail: String)
    /// The picture cannot be written as asked (for example RGBA to JPEG with no background).
    case unsupportedEncoding(destination: String, detail: String)
    /// A caller passed a value outside the documented range.
    case invalidArgument(String)

    /// One line of text: control characters and line separators (a newline in a file name or
    /// in a library's message) are written as escapes, so a log line or a program's stderr line stays one line.
    public var description: String {
        let text = rawDescription
        func breaksLine(_ scalar: Unicode.Scalar) -> Bool {
            [.control, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory)
        }
        guard text.unicodeScalars.contains(where: breaksLine) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.flatMap { scalar -> [Unicode.Scalar] in
            breaksLine(scalar) ? Array(scalar.escaped(asASCII: true).unicodeScalars) : [scalar]
        }))
    }

    private var rawDescription: String {
        switch self {
        case let .unsupportedFormat(source, detail): "\(source): unsupported format: \(detail)"
        case let .truncated(source, detail): "\(source): truncated: \(detail)"
        case let .corrupt(source, detail): "\(source): corrupt: \(detail)"
        case let .tooLarge(source, width, height, limit):
            // The sizes come from a file's header: their product may not fit in an Int.
            switch width.multipliedReportingOverflow(by: height) {
            case (let pixels, false):
                "\(source): too large: \(width)×\(height) = \(pixels) pixels exceeds the limit of \(limit) pixels"
            case (_, true):
                "\(source): too large: \(width)×\(height) pixels exceeds the limit of \(limit) pixels"
            }
        case let .io(path, detail): "\(path): \(detail)"
        case let .spill(input, directory, action, detail):
            "\(input): cannot \(action) the temporary spill file of its decoded rows in \(directory): \(detail) (TMPDIR chooses the folder)"
        case let .unsupportedEncoding(destination, detail): "\(destination): cannot encode: \(detail)"
        case let .invalidArgument(detail): "invalid argument: \(detail)"
        }
    }
}
