import Foundation
import Testing
@testable import MattingImage

#if canImport(Glibc)
import Glibc
#endif

/// Hand-made PNG headers (issue 15): sizes whose product overflows, damaged IHDR checksums.
enum HandMadePNG {
    static func chunk(_ type: String, _ data: [UInt8], crc: UInt32? = nil) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let sum = crc ?? (typeBytes + data).withUnsafeBytes { CRC32.checksum($0) }
        return be32(UInt32(data.count)) + typeBytes + data + be32(sum)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func ihdrData(width: UInt32, height: UInt32) -> [UInt8] {
        be32(width) + be32(height) + [8, 2, 0, 0, 0]  // 8-bit RGB, not interlaced
    }

    /// Signature, IHDR (with `crc`, or the right one), a 12-byte IDAT and IEND: 69 bytes.
    static func file(width: UInt32, height: UInt32, ihdrCRC: UInt32? = nil) -> [UInt8] {
        ImageFormat.pngSignature + chunk("IHDR", ihdrData(width: width, height: height), crc: ihdrCRC)
            + chunk("IDAT", [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0, 0])
            + chunk("IEND", [])
    }
}

@Suite("Hostile input")
struct HostileInputTests {
    @Test("CRC32 matches zlib's check value")
    func crcCheckValue() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
    }

    @Test("a 69-byte PNG declaring 0xFFFFFFFF×0xFFFFFFFF is an error, not a trap",
          arguments: [(UInt32(0xFFFF_FFFF), UInt32(0xFFFF_FFFF)), (0x8000_0000, 0x8000_0000), (0, 5), (7, 0)])
    func overflowingHeader(_ width: UInt32, _ height: UInt32) throws {
        let bytes = HandMadePNG.file(width: width, height: height)
        #expect(bytes.count == 69)
        for decode in [{ _ = try Image(decoding: bytes) }, { _ = try FloatImage(decoding: bytes) }, { _ = try ImageInfo(decoding: bytes) }] {
            let error = try #require(throws: ImageError.self) { try decode() }
            // PNG sides are at most 2³¹ − 1 (and at least 1): beyond that the file is corrupt.
            #expect(ErrorKind(error) == .corrupt, "\(error)")
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
    }

    @Test("a PNG of the largest legal sides is too large, and the message is built without overflow")
    func largestLegalHeader() throws {
        let side = UInt32(Int32.max)
        let error = try #require(throws: ImageError.self) { try Image(decoding: HandMadePNG.file(width: side, height: side)) }
        #expect(error == .tooLarge(source: "<memory>", width: Int(side), height: Int(side), limit: 268_435_456))
        #expect(error.description.contains("2147483647×2147483647 = 4611686014132420609 pixels"), "\(error)")
    }

    @Test("too-large messages never trap, whatever the sizes", arguments: [
        (0xFFFF_FFFF, 0xFFFF_FFFF), (Int.max, 2), (Int.max, Int.max), (Int.min, -1),
    ])
    func tooLargeDescription(_ width: Int, _ height: Int) {
        let text = ImageError.tooLarge(source: "a.png", width: width, height: height, limit: 100).description
        #expect(text.hasPrefix("a.png: too large: \(width)×\(height)"), "\(text)")
        #expect(text.components(separatedBy: "a.png").count == 2, "the file is named once: \(text)")
    }

    @Test("a broken IHDR checksum is reported as corrupt, not as a huge size")
    func brokenIHDRChecksum() throws {
        // The issue's file: 1200×1800 whose height bytes were damaged after the CRC was made.
        let good = HandMadePNG.ihdrData(width: 1200, height: 1800)
        let crc = (Array("IHDR".utf8) + good).withUnsafeBytes { CRC32.checksum($0) }
        let bytes = HandMadePNG.file(width: 1200, height: 4_278_191_676, ihdrCRC: crc)
        let error = try #require(throws: ImageError.self) { try Image(decoding: bytes) }
        #expect(error == .corrupt(source: "<memory>", detail: "IHDR: CRC error"))
        let folder = try TemporaryFolder()
        let path = folder.path("broken-crc.png")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try #require(throws: ImageError.self) { try Image(contentsOfFile: path) }.description
            == "\(path): corrupt: IHDR: CRC error")
    }

    @Test("messages stay one line even when the file name has a newline")
    func oneLineMessages() throws {
        let error = ImageError.corrupt(source: "a\nb.png", detail: "bad\r\u{2028}chunk")
        #expect(error.description == #"a\nb.png: corrupt: bad\r\u{2028}chunk"#)
        #expect(!error.description.contains("\n"))
    }
}

@Suite("Inputs that are not regular files")
struct NonRegularInputTests {
    /// Decodes `path` on another thread, giving it `seconds` to fail; a read that blocks is
    /// unblocked by `unblock` (so the suite does not hang) and recorded as an issue.
    static func decodeError(_ path: String, seconds: Double = 10, unblock: () -> Void = {}) -> ImageError? {
        let done = DispatchSemaphore(value: 0)
        let result = LockedBox<Result<Image, ImageError>?>(nil)
        Thread.detachNewThread {
            result.value = Result { () throws(ImageError) in try Image(contentsOfFile: path) }
            done.signal()
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            Issue.record("reading \(path) blocked for \(seconds) s")
            unblock()
            done.wait()
        }
        guard case let .failure(error) = result.value else {
            Issue.record("\(path) decoded")
            return nil
        }
        return error
    }

    @Test("a FIFO is refused at once, with no writer and no hang")
    func fifo() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("photo.png")
        #expect(mkfifo(path, 0o600) == 0)
        let error = Self.decodeError(path) {
            // Opening the write end releases a reader blocked in open(2); closing it ends its read.
            let fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        #expect(error == .io(path: path, detail: "is a FIFO (named pipe), not a regular file"))
        #expect(throws: ImageError.io(path: path, detail: "is a FIFO (named pipe), not a regular file")) {
            try ImageInfo(contentsOfFile: path)
        }
    }

    @Test("a directory, a socket and devices are refused before any read")
    func otherKinds() throws {
        let folder = try TemporaryFolder()
        #expect(Self.decodeError(folder.url.path) == .io(path: folder.url.path, detail: "is a directory, not a regular file"))
        // /dev/zero never ends: reading it whole would never return.
        #expect(Self.decodeError("/dev/zero") == .io(path: "/dev/zero", detail: "is a character device, not a regular file"))
        #expect(Self.decodeError("/dev/null") == .io(path: "/dev/null", detail: "is a character device, not a regular file"))
        let socketPath = folder.path("s.png")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(Self.decodeError(socketPath) == .io(path: socketPath, detail: "is a socket, not a regular file"))
    }

    @Test("a symbolic link to a regular file is read as the file")
    func symlinkToFile() throws {
        let folder = try TemporaryFolder()
        let link = folder.path("link.png")
        #expect(symlink(F.url("png-rgb-8.png").path, link) == 0)
        #expect(try Image(contentsOfFile: link) == Image(contentsOfFile: F.url("png-rgb-8.png").path))
    }
}

/// A value shared with another thread under a lock (tests only).
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
