/// A minimal ZIP writer: files stored uncompressed (method 0), which is what remove.bg's
/// `format=zip` holds (a JPEG and a PNG, both compressed already).
///
/// Layout (PKWARE APPNOTE 4.3): a local header and the data for each file, then the central
/// directory, then the end record. Sizes must fit 32 bits (no ZIP64), which the upload
/// limit guarantees for any result.
enum ZipArchive {
    static func stored(_ files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        // 1980-01-01 00:00, the format's earliest date: the archive's bytes depend only on its files.
        let dosTime: UInt16 = 0, dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
        for file in files {
            let name = Array(file.name.utf8)
            let crc = crc32(file.bytes)
            let offset = UInt32(out.count)
            out.append32(0x0403_4b50)
            out.append16(20); out.append16(0x0800); out.append16(0)          // version, flags (UTF-8 names), stored
            out.append16(dosTime); out.append16(dosDate)
            out.append32(crc); out.append32(UInt32(file.bytes.count)); out.append32(UInt32(file.bytes.count))
            out.append16(UInt16(name.count)); out.append16(0)
            out += name
            out += file.bytes

            central.append32(0x0201_4b50)
            central.append16(20); central.append16(20); central.append16(0x0800); central.append16(0)
            central.append16(dosTime); central.append16(dosDate)
            central.append32(crc); central.append32(UInt32(file.bytes.count)); central.append32(UInt32(file.bytes.count))
            central.append16(UInt16(name.count)); central.append16(0); central.append16(0)  // name, extra, comment
            central.append16(0); central.append16(0); central.append32(0)                   // disk, internal, external attributes
            central.append32(offset)
            central += name
        }
        let centralOffset = UInt32(out.count)
        out += central
        out.append32(0x0605_4b50)
        out.append16(0); out.append16(0)
        out.append16(UInt16(files.count)); out.append16(UInt16(files.count))
        out.append32(UInt32(central.count)); out.append32(centralOffset)
        out.append16(0)
        return out
    }

    /// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as ZIP and PNG use it.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}

extension [UInt8] {
    fileprivate mutating func append16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    fileprivate mutating func append32(_ v: UInt32) { append16(UInt16(v & 0xFFFF)); append16(UInt16(v >> 16)) }
}
