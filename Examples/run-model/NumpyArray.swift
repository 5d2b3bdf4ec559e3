import Foundation

/// A float32, C-order `.npy` array: the only kind `run-model` reads and writes.
///
/// Reads format versions 1.0–3.0 with dtype `<f4` (little-endian float32) and
/// `fortran_order: False`; anything else is an error naming the file and what was found.
struct NumpyArray {
    var shape: [Int]
    var values: [Float]

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// Parses `.npy` bytes; `label` names the file in errors.
    init(bytes: [UInt8], label: String) throws {
        func fail(_ message: String) -> FormatError { FormatError(description: "\(label): \(message)") }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail(".npy format version \(major) is not supported")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)

        func field(_ key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return header[r.upperBound...].drop { $0 == " " }
        }
        guard let descrField = field("descr"), descrField.first == "'",
              let descrEnd = descrField.dropFirst().firstIndex(of: "'") else { throw fail("header has no dtype ('descr')") }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<descrEnd])
        guard descr == "<f4" else {
            throw fail("dtype '\(descr)' is not supported; run-model reads float32 ('<f4') arrays, e.g. np.save(path, a.astype(np.float32))")
        }
        guard let fortran = field("fortran_order"), fortran.hasPrefix("False") else {
            throw fail("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        guard let shapeField = field("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw fail("header has no shape")
        }
        var shape: [Int] = []
        for part in shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let d = Int(trimmed), d >= 0 else { throw fail("bad shape entry '\(trimmed)'") }
            shape.append(d)
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(shape) is too large") }
            count = p
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == count * 4 else {
            throw fail("holds \(bytes.count - dataStart) data bytes; shape \(shape) needs \(count * 4)")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = dataStart + 4 * i
            let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            values[i] = Float(bitPattern: bits)
        }
        self.init(shape: shape, values: values)
    }

    init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FormatError(description: "\(url.path): cannot read the file (missing or unreadable)")
        }
        try self.init(bytes: [UInt8](data), label: url.path)
    }

    /// The `.npy` (version 1.0) encoding.
    var bytes: [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Pad so the data starts on a 64-byte boundary; the header ends with a newline.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + values.count * 4)
        for v in values {
            let b = v.bitPattern
            out += [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)]
        }
        return out
    }
}
