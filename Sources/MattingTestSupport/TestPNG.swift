import MattingImage

/// PNG files of any colour type, bit depth and interlacing, for tests of the decoders, written
/// here from the PNG specification (the five row filters, Adam7, zlib's stored blocks, CRC-32,
/// Adler-32) without libpng, so that a decoder is checked against an independent writer.
public enum TestPNG {
    /// PNG colour types.
    public enum ColorType: UInt8, Sendable, CaseIterable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        /// Samples per pixel as stored.
        public var samples: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    /// Adam7: first column and row, column and row steps, of passes 1–7.
    public static let adam7: [(x0: Int, y0: Int, dx: Int, dy: Int)] = [
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    ]

    /// The PNG of `samples` (`colorType.samples` values a pixel, row after row, each below
    /// 2^`bitDepth`; palette indices for `.palette`).
    ///
    /// - Parameters:
    ///   - interlaced: Adam7, the seven reduced pictures one after the other.
    ///   - palette: the PLTE entries (`.palette` only).
    ///   - transparency: the tRNS chunk's data as the specification lays it out (alpha per
    ///     palette entry; a 16-bit gray value; three 16-bit RGB values), or nil.
    ///   - exifOrientation: an eXIf chunk holding this orientation (1–8), or nil.
    ///   - idatSize: bytes of compressed data per IDAT chunk.
    /// Each reduced row is filtered with filter type (row + pass) % 5, so every filter, and
    /// every filter on a pass's first row (where the row above is taken as zeros), occurs.
    public static func encode(
        width: Int, height: Int, colorType: ColorType, bitDepth: Int, samples: [UInt16], interlaced: Bool,
        palette: [(UInt8, UInt8, UInt8)] = [], transparency: [UInt8]? = nil, exifOrientation: Int? = nil,
        idatSize: Int = 4096
    ) -> [UInt8] {
        let channels = colorType.samples
        precondition(samples.count == width * height * channels && [1, 2, 4, 8, 16].contains(bitDepth))
        let bitsPerPixel = channels * bitDepth, bpp = max(1, bitsPerPixel / 8)
        var raw: [UInt8] = []
        func addPass(columns: [Int], rows: [Int], pass: Int) {
            guard !columns.isEmpty, !rows.isEmpty else { return }
            let rowBytes = (columns.count * bitsPerPixel + 7) / 8
            var previous = [UInt8](repeating: 0, count: rowBytes)
            for (r, y) in rows.enumerated() {
                var line = [UInt8](repeating: 0, count: rowBytes)
                var bit = 0
                for x in columns {
                    for c in 0..<channels {
                        let value = Int(samples[(y * width + x) * channels + c])
                        precondition(value < 1 << bitDepth, "sample \(value) over \(bitDepth) bits")
                        if bitDepth == 16 {
                            line[bit / 8] = UInt8(value >> 8)
                            line[bit / 8 + 1] = UInt8(value & 255)
                        } else {
                            line[bit / 8] |= UInt8(value << (8 - bitDepth - bit % 8) & 255)
                        }
                        bit += bitDepth
                    }
                }
                let filter = (r + pass) % 5
                raw.append(UInt8(filter))
                for i in 0..<rowBytes {
                    let a = i >= bpp ? Int(line[i - bpp]) : 0, b = Int(previous[i])
                    let c = i >= bpp ? Int(previous[i - bpp]) : 0
                    let predictor: Int = switch filter {
                    case 1: a
                    case 2: b
                    case 3: (a + b) / 2
                    case 4: paeth(a, b, c)
                    default: 0
                    }
                    raw.append(UInt8((Int(line[i]) - predictor) & 255))
                }
                previous = line
            }
        }
        if interlaced {
            for (pass, p) in adam7.enumerated() {
                addPass(columns: Array(stride(from: p.x0, to: width, by: p.dx)),
                        rows: Array(stride(from: p.y0, to: height, by: p.dy)), pass: pass)
            }
        } else {
            addPass(columns: Array(0..<width), rows: Array(0..<height), pass: 0)
        }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            let body = Array(type.utf8) + data
            png += be32(UInt32(data.count)) + body + be32(crc32(body))
        }
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height))
                + [UInt8(bitDepth), colorType.rawValue, 0, 0, interlaced ? 1 : 0])
        if let exifOrientation { chunk("eXIf", OrientedFiles.tiff(orientation: exifOrientation)) }
        if colorType == .palette { chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if let transparency { chunk("tRNS", transparency) }
        let stream = zlibStored(raw)
        var start = 0
        repeat {
            let end = min(start + max(idatSize, 1), stream.count)
            chunk("IDAT", Array(stream[start..<end]))
            start = end
        } while start < stream.count
        chunk("IEND", [])
        return png
    }

    /// `data` as a zlib stream of stored (uncompressed) deflate blocks.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let n = min(65535, data.count - start), last = start + n == data.count
            out += [last ? 1 : 0, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            out += data[start..<(start + n)]
            start += n
        } while start < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + be32(b << 16 | a)
    }

    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    /// CRC-32 as PNG defines it.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.reduce(UInt32(0xFFFF_FFFF)) { crc, byte in crcTable[Int((crc ^ UInt32(byte)) & 255)] ^ (crc >> 8) }
    }

    /// The 8-bit picture `image` (gray, gray+alpha, RGB or RGBA) as an interlaced PNG of the
    /// same colour type, with an eXIf orientation chunk if given.
    public static func interlaced(_ image: Image, exifOrientation: Int? = nil) -> [UInt8] {
        let colorType: ColorType = switch image.layout {
        case .gray: .gray
        case .grayAlpha: .grayAlpha
        case .rgb: .rgb
        case .rgba: .rgba
        }
        let channels = colorType.samples
        var samples = [UInt16](repeating: 0, count: image.width * image.height * channels)
        image.withUnsafeBufferPointer { pixels, stride in
            for y in 0..<image.height {
                for i in 0..<(image.width * channels) { samples[y * image.width * channels + i] = UInt16(pixels[y * stride + i]) }
            }
        }
        return encode(width: image.width, height: image.height, colorType: colorType, bitDepth: 8, samples: samples,
                      interlaced: true, exifOrientation: exifOrientation, idatSize: 65536)
    }
}
