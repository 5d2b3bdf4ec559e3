import MattingKit

/// A minimal ZIP writer: files stored uncompressed (method 0), which is what remove.bg's
/// `format=zip` holds (a JPEG and a PNG, both compressed already).
///
/// Layout (PKWARE APPNOTE 4.3): a local header and the data for each file, then the central
/// directory, then the end record. Sizes must fit 32 bits (no ZIP64), which the upload
/// limit guarantees for any result.
enum ZipArchive {
    static func stored(_ files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        stored(files.map { ($0.name, EncodedBytes(chunks: [$0.bytes])) }).joined
    }

    /// The archive of `files` as chunks: its own headers, and each file's chunks as they are
    /// (the files' bytes are not copied).
    static func stored(_ files: [(name: String, bytes: EncodedBytes)]) -> EncodedBytes {
        var chunks: [[UInt8]] = []
        var offset = 0
        var central: [UInt8] = []
        // 1980-01-01 00:00, the format's earliest date: the archive's bytes depend only on its files.
        let dosTime: UInt16 = 0, dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
        for file in files {
            let name = Array(file.name.utf8)
            let crc = crc32(file.bytes.chunks)
            let size = UInt32(file.bytes.count)
            var local: [UInt8] = []
            local.append32(0x0403_4b50)
            local.append16(20); local.append16(0x0800); local.append16(0)          // version, flags (UTF-8 names), stored
            local.append16(dosTime); local.append16(dosDate)
            local.append32(crc); local.append32(size); local.append32(size)
            local.append16(UInt16(name.count)); local.append16(0)
            local += name

            central.append32(0x0201_4b50)
            central.append16(20); central.append16(20); central.append16(0x0800); central.append16(0)
            central.append16(dosTime); central.append16(dosDate)
            central.append32(crc); central.append32(size); central.append32(size)
            central.append16(UInt16(name.count)); central.append16(0); central.append16(0)  // name, extra, comment
            central.append16(0); central.append16(0); central.append32(0)                   // disk, internal, external attributes
            central.append32(UInt32(offset))
            central += name

            offset += local.count + Int(size)
            chunks.append(local)
            chunks += file.bytes.chunks
        }
        var end = central
        end.append32(0x0605_4b50)
        end.append16(0); end.append16(0)
        end.append16(UInt16(files.count)); end.append16(UInt16(files.count))
        end.append32(UInt32(central.count)); end.append32(UInt32(offset))
        end.append16(0)
        chunks.append(end)
        return EncodedBytes(chunks: chunks)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 { crc32([bytes]) }

    /// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as ZIP and PNG use it, of the
    /// chunks' bytes in order.
    static func crc32(_ chunks: [[UInt8]]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for chunk in chunks {
            for byte in chunk {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
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
