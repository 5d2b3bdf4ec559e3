import Foundation

/// A little-endian, C-order NumPy `.npy` array (format versions 1–3): what `run-model` reads
/// and writes and what the tests' fixtures are. Not public API.
///
/// Supports the dtypes fixtures use: `|u1`, `|i1`, `|b1`, `<f4`, `<f8`, `<i4`, `<i8`. Values
/// are available as ``floats``, ``doubles`` or ``ints`` whatever the stored type, or as raw
/// bytes in ``data``; ``bytes`` encodes a float32 array (version 1.0).
package struct NumpyFile: Sendable {
    /// The dtype descriptor, e.g. `"<f4"`.
    package let dtype: String
    /// The array's shape, outermost first.
    package let shape: [Int]
    /// The data bytes (C order, little-endian).
    package let data: [UInt8]

    /// Reads `url`.
    ///
    /// - Throws: `NumpyFileError` if the file is not a supported `.npy`.
    package init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](Data(contentsOf: url)), name: url.lastPathComponent)
    }

    /// Reads an `.npy` file already in memory; `name` is used in error messages.
    ///
    /// - Throws: `NumpyFileError` if the bytes are not a supported `.npy`.
    package init(bytes: [UInt8], name: String = "<memory>") throws {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw NumpyFileError(file: name, reason: "not an .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        guard (1...3).contains(major) else { throw NumpyFileError(file: name, reason: ".npy format version \(major) is not supported") }
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
        var shape: [Int] = []
        for part in shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let d = Int(trimmed), d >= 0 else { throw NumpyFileError(file: name, reason: "bad shape entry '\(trimmed)'") }
            shape.append(d)
        }
        self.shape = shape
        data = Array(bytes[(headerStart + headerLength)...])
        guard Self.itemSize(dtype) > 0 else { throw NumpyFileError(file: name, reason: "unsupported dtype \(dtype)") }
        // Sizes come from the file: multiply with overflow checks.
        var expected = Self.itemSize(dtype)
        for d in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NumpyFileError(file: name, reason: "shape \(shape) is too large") }
            expected = product
        }
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
    package var count: Int { shape.reduce(1, *) }

    /// The values converted to `Float`, in C order (`|u1` values stay on the 0…255 scale).
    package var floats: [Float] { doubles.map { Float($0) } }

    /// The values converted to `Double`, in C order (exact for every supported dtype but
    /// 64-bit integers beyond 2⁵³).
    package var doubles: [Double] {
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
    package var ints: [Int]? {
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

    /// A float32 array of `shape` holding `floats` (C order).
    package init(shape: [Int], floats: [Float]) {
        dtype = "<f4"
        self.shape = shape
        data = floats.flatMap { value -> [UInt8] in
            let b = value.bitPattern
            return [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)]
        }
    }

    /// The `.npy` (version 1.0) encoding of the array.
    package var bytes: [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': (\(dims)), }"
        // Pad so the data starts on a 64-byte boundary; the header ends with a newline.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }
}

/// Why a `.npy` file could not be read.
package struct NumpyFileError: Error, CustomStringConvertible {
    /// The file's name.
    package let file: String
    /// What is wrong with it.
    package let reason: String
    /// An error about `file`.
    package init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    /// `"file: reason"`.
    package var description: String { "\(file): \(reason)" }
}
