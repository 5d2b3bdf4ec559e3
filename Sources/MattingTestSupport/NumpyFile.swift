import Foundation

/// A little-endian, C-order NumPy `.npy` array read for tests (format versions 1–3).
///
/// Supports the dtypes fixtures use: `|u1`, `<f4`, `<f8`, `<i4`, `<i8`, `|b1`. Values are
/// available as `[Float]` whatever the stored type, or as raw bytes for `|u1`.
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

    /// The values converted to `Float`.
    public var floats: [Float] {
        data.withUnsafeBytes { raw in
            switch dtype {
            case "|u1", "|b1": return data.map { Float($0) }
            case "|i1": return data.map { Float(Int8(bitPattern: $0)) }
            case "<f4": return (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            case "<f8": return (0..<count).map { Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian)) }
            case "<i4": return (0..<count).map { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case "<i8": return (0..<count).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            default: return []
            }
        }
    }
}

/// Why a `.npy` file could not be read.
public struct NumpyFileError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}
