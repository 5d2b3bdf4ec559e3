import Foundation

/// A minimal reader of NumPy `.npy` files (format versions 1–3, C order, little-endian numbers),
/// enough for the fixtures written by `Scripts/make-model-fixtures.py`.
struct NumpyArray {
    var descr: String
    var shape: [Int]
    var data: [UInt8]

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    init(contentsOf url: URL) throws {
        guard let contents = FileManager.default.contents(atPath: url.path) else {
            throw FormatError(description: "cannot read \(url.path)")
        }
        try self.init(bytes: [UInt8](contents))
    }

    init(bytes: [UInt8]) throws {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw FormatError(description: "not an .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw FormatError(description: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else { throw FormatError(description: "truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'fortran_order': False") else { throw FormatError(description: "Fortran order: \(header)") }
        guard let d = header.range(of: "'descr': '"), let dEnd = header[d.upperBound...].firstIndex(of: "'"),
              let s = header.range(of: "'shape': ("), let sEnd = header[s.upperBound...].firstIndex(of: ")") else {
            throw FormatError(description: "unexpected header \(header)")
        }
        descr = String(header[d.upperBound..<dEnd])
        shape = header[s.upperBound..<sEnd].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        data = Array(bytes[(headerStart + headerLength)...])
    }

    var count: Int { shape.reduce(1, *) }

    func floats() throws -> [Float] {
        guard descr == "<f4", data.count == count * 4 else { throw FormatError(description: "not float32: \(descr)") }
        return stride(from: 0, to: data.count, by: 4).map { p in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[p + $1]) << (8 * $1) })
        }
    }
}
