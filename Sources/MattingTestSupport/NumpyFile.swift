import Foundation
import MattingImage

/// A little-endian, C-order NumPy `.npy` array read for tests (format versions 1–3).
///
/// Supports the dtypes fixtures use: `|u1`, `|i1`, `|b1`, `<f4`, `<f8`, `<i4`, `<i8`. Values
/// are available as ``floats``, ``doubles`` or ``ints`` whatever the stored type, as raw bytes
/// in ``data``, or as a picture with ``image(scale:)``.
public struct NumpyFile: Sendable {
    /// The dtype descriptor, e.g. `"<f4"`.
    public let dtype: String
    /// The array's shape, outermost first.
    public let shape: [Int]
    /// The data bytes (C order, little-endian).
    public let data: [UInt8]

    /// Reads `url`.
    ///
    /// - Throws: `NumpyFileError` if the file is not a supported `.npy`.
    public init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](Data(contentsOf: url)), name: url.lastPathComponent)
    }

    /// Reads an `.npy` file already in memory; `name` is used in error messages.
    ///
    /// - Throws: `NumpyFileError` if the bytes are not a supported `.npy`.
    public init(bytes: [UInt8], name: String = "<memory>") throws {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw NumpyFileError(file: name, reason: "not an .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw NumpyFileError(file: name, reason: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8)
        else { throw NumpyFileError(file: name, reason: "truncated header") }
        func field(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop { $0 == " " }
        }
        guard let descr = field("descr"), descr.first == "'",
              let end = descr.dropFirst().firstIndex(of: "'")
        else { throw NumpyFileError(file: name, reason: "no descr in header") }
        dtype = String(descr[descr.index(after: descr.startIndex)..<end])
        if let order = field("fortran_order"), order.hasPrefix("True") {
            throw NumpyFileError(file: name, reason: "Fortran order is not supported")
        }
        guard let shapeField = field("shape"), shapeField.first == "(",
              let close = shapeField.firstIndex(of: ")")
        else { throw NumpyFileError(file: name, reason: "no shape in header") }
        shape = shapeField[shapeField.index(after: shapeField.startIndex)..<close]
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        data = Array(bytes[(headerStart + headerLength)...])
        let expected = shape.reduce(1, *) * Self.itemSize(dtype)
        guard Self.itemSize(dtype) > 0 else { throw NumpyFileError(file: name, reason: "unsupported dtype \(dtype)") }
        guard data.count == expected else {
            throw NumpyFileError(file: name, reason: "has \(data.count) data bytes, shape \(shape) needs \(expected)")
        }
    }

    static func itemSize(_ dtype: String) -> Int {
        switch dtype {
        case "|u1", "|b1", "|i1": 1
        case "<f4", "<i4": 4
        case "<f8", "<i8": 8
        default: 0
        }
    }

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// The values converted to `Float`, in C order (`|u1` values stay on the 0…255 scale).
    public var floats: [Float] { doubles.map { Float($0) } }

    /// The values converted to `Double`, in C order (exact for every supported dtype but
    /// 64-bit integers beyond 2⁵³).
    public var doubles: [Double] {
        data.withUnsafeBytes { raw in
            switch dtype {
            case "|u1", "|b1": return data.map { Double($0) }
            case "|i1": return data.map { Double(Int8(bitPattern: $0)) }
            case "<f4": return (0..<count).map { Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian)) }
            case "<f8": return (0..<count).map { Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
            case "<i4": return (0..<count).map { Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case "<i8": return (0..<count).map { Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            default: return []
            }
        }
    }

    /// The values of an integer or boolean array as `Int`, in C order; `nil` for float dtypes.
    public var ints: [Int]? {
        data.withUnsafeBytes { raw in
            switch dtype {
            case "|u1", "|b1": return data.map { Int($0) }
            case "|i1": return data.map { Int(Int8(bitPattern: $0)) }
            case "<i4": return (0..<count).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case "<i8": return (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            default: return nil
            }
        }
    }

    /// The array as a picture: `[h, w]` and `[h, w, 1]` become gray, `[h, w, 3]` RGB; values × `scale`.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` for any other shape.
    public func image(scale: Float = 1) throws -> FloatImage {
        guard shape.count == 2 || (shape.count == 3 && (shape[2] == 3 || shape[2] == 1)) else {
            throw ImageError.invalidArgument("shape \(shape) is not a picture")
        }
        let layout: PixelLayout = shape.count == 3 && shape[2] == 3 ? .rgb : .gray
        return try FloatImage(width: shape[1], height: shape[0], layout: layout, components: floats.map { $0 * scale })
    }
}

/// Why a `.npy` file could not be read.
public struct NumpyFileError: Error, CustomStringConvertible {
    /// The file's name.
    public let file: String
    /// What is wrong with it.
    public let reason: String
    /// An error about `file`.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    /// `"file: reason"`.
    public var description: String { "\(file): \(reason)" }
}
