import Foundation

/// The model file formats the importers read.
public enum ModelFormat: String, Sendable, Hashable {
    /// TensorFlow Lite FlatBuffers (`.tflite`, schema identifier `TFL3`).
    case tflite = "TFLite"
    /// ONNX protobuf (`.onnx`), with optional external data files.
    case onnx = "ONNX"
}

/// An error thrown while reading a model file: names the file, the format and what is wrong.
///
/// Every violation of a format's structure (an offset or length outside the file, a reference to
/// a tensor that does not exist, a byte count that does not match a shape, ...) is reported with
/// this type; the importers never trap on file data. The ``description`` reads like
/// `selfie.tflite: TFLite: operator 12 reads tensor 400 but the subgraph has 180 tensors`.
public struct ModelImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem was found.
    public enum Kind: String, Sendable, Hashable {
        /// The file (or an external data file) could not be read.
        case io
        /// An offset, length or count points outside the data it belongs to.
        case outOfBounds
        /// The bytes do not follow the format's encoding rules (bad varint, wire type, UTF-8...).
        case malformed
        /// A structurally valid reference is inconsistent (tensor index out of range, wrong
        /// byte count for a shape, missing required field...).
        case invalidModel
        /// Valid for the format but not supported by MattingKit (unknown data type, ...).
        case unsupported
        /// An external data reference is unsafe (escapes the model's folder) or inconsistent.
        case externalData
    }

    /// The file name (last path component) or a caller-chosen label for in-memory data.
    public var file: String
    /// The format being read.
    public var format: ModelFormat
    /// The kind of problem.
    public var kind: Kind
    /// What is wrong, including where (e.g. "subgraph 0, operator 12: ...").
    public var message: String

    /// Creates an error; importers build these, callers usually only read them.
    public init(file: String, format: ModelFormat, kind: Kind, message: String) {
        self.file = file
        self.format = format
        self.kind = kind
        self.message = message
    }

    /// `file: format: message`.
    public var description: String { "\(file): \(format.rawValue): \(message)" }
}

/// A format violation found by a low-level reader, before the file name is known.
///
/// The public entry points catch it and wrap it in a ``ModelImportError``.
extension ModelImportError {
    /// What kind of file is at `path` when it is not a regular file ("a FIFO (named pipe)"),
    /// or `nil` for a regular file, a missing one, or one that cannot be examined (the read
    /// then reports why). Symbolic links are followed. Reading a FIFO would block for ever
    /// and a device may never end, so callers refuse these before opening anything.
    static func irregularKind(atPath path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(
            atPath: (path as NSString).resolvingSymlinksInPath),
            let type = attributes[.type] as? FileAttributeType, type != .typeRegular
        else { return nil }
        switch type {
        case .typeDirectory: return "a directory"
        case .typeCharacterSpecial: return "a character device"
        case .typeBlockSpecial: return "a block device"
        case .typeSocket: return "a socket"
        case .typeSymbolicLink: return "a dangling symbolic link"
        default: return "a FIFO (named pipe)"
        }
    }

    /// The bytes of a model file; a read failure becomes an `.io` error naming the file.
    /// Only regular files are read (see ``irregularKind(atPath:)``).
    static func contents(of url: URL, format: ModelFormat) throws -> [UInt8] {
        if let kind = irregularKind(atPath: url.path) {
            throw ModelImportError(file: url.lastPathComponent, format: format, kind: .io,
                                   message: "cannot read the file: it is \(kind), not a regular file")
        }
        if !FileManager.default.fileExists(atPath: url.path) {
            throw ModelImportError(file: url.lastPathComponent, format: format, kind: .io,
                                   message: "cannot read the file: no such file")
        }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw ModelImportError(file: url.lastPathComponent, format: format, kind: .io,
                                   message: "cannot read the file: \(error.localizedDescription)")
        }
    }
}

struct FormatViolation: Error {
    var kind: ModelImportError.Kind
    var message: String

    init(_ kind: ModelImportError.Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The same violation with a location prefix ("subgraph 0, tensor 3: ...").
    func located(_ prefix: String) -> FormatViolation {
        FormatViolation(kind, "\(prefix): \(message)")
    }
}

/// Runs `body`, prefixing the message of any ``FormatViolation`` it throws with `prefix`.
@inline(__always)
func withLocation<T>(_ prefix: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let violation as FormatViolation {
        throw violation.located(prefix())
    }
}

/// A running total of decoded elements, so a hostile file cannot make the importer allocate far
/// more than its own size (e.g. ten thousand tensors all pointing at one large shape vector).
struct DecodeBudget {
    private(set) var remaining: Int

    init(fileSize: Int) {
        // Generous: real models decode to a small multiple of their size in element counts.
        let (product, overflow) = fileSize.multipliedReportingOverflow(by: 8)
        remaining = (overflow ? Int.max / 2 : product) + 1 << 20
    }

    mutating func spend(_ count: Int) throws {
        guard count >= 0, count <= remaining else {
            throw FormatViolation(.outOfBounds, "decoded data exceeds the budget for a file of this size (shared or looping references?)")
        }
        remaining -= count
    }
}
