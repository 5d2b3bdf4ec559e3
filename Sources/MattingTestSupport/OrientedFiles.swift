import MattingImage

/// PNG and JPEG files that carry an EXIF orientation, for tests of decoding them upright:
/// the stored picture is made from the upright one by the EXIF definition of the tag, written
/// independently of the library's orientation code.
public enum OrientedFiles {
    /// Where the stored pixel (sx, sy) of an orientation-`o` file shows up in the upright
    /// picture of size `width × height` ("the 0th row is the visual …, the 0th column is the
    /// visual …").
    public static func uprightPosition(_ o: Int, _ sx: Int, _ sy: Int, width w: Int, height h: Int) -> (Int, Int) {
        switch o {
        case 1: (sx, sy)                    // row 0 top, column 0 left
        case 2: (w - 1 - sx, sy)            // row 0 top, column 0 right
        case 3: (w - 1 - sx, h - 1 - sy)    // row 0 bottom, column 0 right
        case 4: (sx, h - 1 - sy)            // row 0 bottom, column 0 left
        case 5: (sy, sx)                    // row 0 left, column 0 top
        case 6: (w - 1 - sy, sx)            // row 0 right, column 0 top
        case 7: (w - 1 - sy, h - 1 - sx)    // row 0 right, column 0 bottom
        default: (sy, h - 1 - sx)           // 8: row 0 left, column 0 bottom
        }
    }

    /// The stored picture that displays as `upright` under orientation `o` (1…8).
    public static func stored(_ upright: Image, orientation o: Int) -> Image {
        let w = upright.width, h = upright.height
        let (sw, sh) = o >= 5 ? (h, w) : (w, h)
        return upright.withUnsafeBufferPointer { src, stride in
            let channels = upright.layout.channelCount
            return Image(width: sw, height: sh, layout: upright.layout) { sx, sy, c in
                let (x, y) = uprightPosition(o, sx, sy, width: w, height: h)
                return src[y * stride + x * channels + c]
            }
        }
    }

    /// TIFF-structured EXIF data holding only an Orientation tag (little-endian).
    public static func tiff(orientation: Int) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
        return [0x49, 0x49] + u16(42) + u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(0)
    }

    /// `upright` stored under orientation `o` and encoded as `format`, with the tag: an APP1
    /// EXIF segment right after a JPEG's SOI, or an eXIf chunk right after a PNG's IHDR.
    public static func file(_ upright: Image, orientation o: Int, format: ImageFormat,
                            options: EncodingOptions = .init()) throws -> [UInt8] {
        let bytes = try stored(upright, orientation: o).encoded(as: format, options: options)
        switch format {
        case .jpeg:
            let payload = Array("Exif\0\0".utf8) + tiff(orientation: o)
            let length = payload.count + 2
            return Array(bytes[0..<2]) + [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 255)] + payload + Array(bytes[2...])
        case .png:
            let data = tiff(orientation: o)
            let type = Array("eXIf".utf8)
            let n = UInt32(data.count), crc = crc32(type + data)
            let chunk = [UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)] + type + data
                + [UInt8(crc >> 24), UInt8(crc >> 16 & 255), UInt8(crc >> 8 & 255), UInt8(crc & 255)]
            let afterIHDR = 8 + 8 + 13 + 4  // signature, IHDR length and type, data, CRC
            return Array(bytes[..<afterIHDR]) + chunk + Array(bytes[afterIHDR...])
        }
    }

    /// CRC-32 as PNG defines it (bit by bit: slow and obviously right).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
