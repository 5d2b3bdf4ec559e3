import Foundation
import MattingImage

/// A NumPy `.npy` array (format 1.0/2.0, C order, little-endian `u1`, `f4` or `f8`), read
/// for fixtures written by the Scripts/ generators.
public struct NumpyArray: Sendable {
    /// The array's shape, outermost first (`[height, width]` or `[height, width, channels]`).
    public let shape: [Int]
    /// The values as Float, in C order (`u1` values are kept on the 0…255 scale).
    public let values: [Float]

    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(decoding: bytes[1...5], as: UTF8.self) == "NUMPY" else {
            throw ImageError.corrupt(source: url.path, detail: "not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        }
        let header = String(decoding: bytes[start..<start + headerLength], as: UTF8.self)
        guard !header.contains("'fortran_order': True") else {
            throw ImageError.corrupt(source: url.path, detail: "Fortran order is not supported")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw ImageError.corrupt(source: url.path, detail: "no shape in \(header)")
        }
        shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let body = Array(bytes[(start + headerLength)...])
        if header.contains("'|u1'") {
            values = body.prefix(count).map { Float($0) }
        } else if header.contains("'<f4'") {
            values = (0..<count).map { i in
                Float(bitPattern: UInt32(body[4 * i]) | UInt32(body[4 * i + 1]) << 8 | UInt32(body[4 * i + 2]) << 16 | UInt32(body[4 * i + 3]) << 24)
            }
        } else if header.contains("'<f8'") {
            values = (0..<count).map { i in
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(body[8 * i + b]) << (8 * b) }
                return Float(Double(bitPattern: bits))
            }
        } else {
            throw ImageError.unsupportedFormat(source: url.path, detail: "dtype in \(header)")
        }
        guard values.count == count else { throw ImageError.truncated(source: url.path, detail: "\(values.count) of \(count) values") }
    }

    /// The array as a picture: 2-D arrays become gray, `[h, w, 3]` RGB; values × `scale`.
    public func image(scale: Float = 1) throws -> FloatImage {
        guard shape.count == 2 || (shape.count == 3 && (shape[2] == 3 || shape[2] == 1)) else {
            throw ImageError.invalidArgument("shape \(shape) is not a picture")
        }
        let layout: PixelLayout = shape.count == 3 && shape[2] == 3 ? .rgb : .gray
        return try FloatImage(width: shape[1], height: shape[0], layout: layout, components: values.map { $0 * scale })
    }
}
