import Foundation
import Testing
import CJPEG
import CPNG
@testable import MattingImage

/// Which ``ImageError`` case an input must produce (the details vary with the library).
enum ErrorKind: String, Sendable {
    case unsupportedFormat, truncated, corrupt, tooLarge, io

    init?(_ error: ImageError) {
        switch error {
        case .unsupportedFormat: self = .unsupportedFormat
        case .truncated: self = .truncated
        case .corrupt: self = .corrupt
        case .tooLarge: self = .tooLarge
        case .io: self = .io
        default: return nil
        }
    }
}

extension ImageError {
    var source: String? {
        switch self {
        case let .unsupportedFormat(source, _), let .truncated(source, _), let .corrupt(source, _): source
        case let .tooLarge(source, _, _, _): source
        case let .io(path, _): path
        case let .spill(input, _, _, _): input
        case let .unsupportedEncoding(destination, _): destination
        case .invalidArgument: nil
        }
    }
}

@Suite("Bad input")
struct BadInputTests {
    static let cases: [(String, ErrorKind, String)] = [
        ("bad-empty.png", .unsupportedFormat, "empty"),
        ("bad-text.png", .unsupportedFormat, "not PNG or JPEG"),
        ("bad-truncated.png", .truncated, "ends"),
        ("bad-truncated.jpg", .truncated, "Premature end"),
        ("bad-huge.png", .tooLarge, "100000×100000"),
        ("bad-crc.png", .corrupt, "CRC"),
        ("bad-idat.png", .corrupt, "incorrect header check"),
        ("bad-idat-bit.png", .corrupt, "IDAT"),
        ("bad-huffman.jpg", .corrupt, "Huffman"),
    ]

    @Test("each bad file gives its typed error, naming the file", arguments: cases)
    func badFile(_ file: String, _ kind: ErrorKind, _ fragment: String) throws {
        let path = F.url(file).path
        let error = try #require(throws: ImageError.self) { try Image(contentsOfFile: path) }
        #expect(ErrorKind(error) == kind, "\(error)")
        #expect(error.source == path)
        #expect(error.description.contains(fragment), "\(error)")
        // The same from memory, named "<memory>", and for float decoding and header reads.
        let bytes = try F.bytes(file)
        let fromMemory = try #require(throws: ImageError.self) { try Image(decoding: bytes) }
        #expect(ErrorKind(fromMemory) == kind && fromMemory.source == "<memory>")
        let asFloat = try #require(throws: ImageError.self) { try FloatImage(decoding: bytes) }
        #expect(ErrorKind(asFloat) == kind)
    }

    @Test("a 100000×100000 header fails before allocating, with the declared size")
    func hugeHeader() throws {
        let bytes = try F.bytes("bad-huge.png")
        #expect(throws: ImageError.tooLarge(source: "<memory>", width: 100_000, height: 100_000, limit: 268_435_456)) {
            try Image(decoding: bytes)
        }
        // Smaller budgets report the declared size too.
        #expect(throws: ImageError.tooLarge(source: "<memory>", width: 100_000, height: 100_000, limit: 50_000)) {
            try Image(decoding: bytes, options: DecodingOptions(maximumPixelCount: 50_000))
        }
        let path = F.url("png-rgb-8.png").path
        #expect(throws: ImageError.tooLarge(source: path, width: 13, height: 11, limit: 100)) {
            try Image(contentsOfFile: path, options: DecodingOptions(maximumPixelCount: 100))
        }
    }

    @Test("libpng's own per-side limit refuses the header in IHDR")
    func libpngUserLimit() throws {
        let bytes = try F.bytes("bad-huge.png")
        let status = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            guard let decoder = cpng_decoder_create(buffer.baseAddress, buffer.count, 99_999) else { return -1 }
            defer { cpng_decoder_destroy(decoder) }
            return cpng_decoder_status(decoder)
        }
        #expect(status == CPNG_TOO_LARGE)
    }

    @Test("progressive JPEGs with too many scans are refused")
    func scanLimit() throws {
        let bytes = try F.bytes("jpeg-rgb-progressive.jpg")
        func decode(maxScans: Int32) -> (Int32, String) {
            bytes.withUnsafeBufferPointer { buffer in
                guard let decoder = cjpeg_decoder_create(buffer.baseAddress, buffer.count, maxScans) else { return (-1, "") }
                defer { cjpeg_decoder_destroy(decoder) }
                var pixels = [UInt8](repeating: 0, count: 64 * 48 * 3)
                var status = cjpeg_decoder_start(decoder, 8)
                if status == CJPEG_OK { status = cjpeg_decoder_read(decoder, &pixels, 64 * 3) }
                return (status, String(cString: cjpeg_decoder_message(decoder)))
            }
        }
        let (limited, message) = decode(maxScans: 3)
        #expect(limited == CJPEG_CORRUPT && message.contains("too many scans"), "\(message)")
        #expect(decode(maxScans: 0).0 == CJPEG_OK)
    }

    @Test("every prefix of a valid file fails cleanly", arguments: ["png-rgba-8-interlaced.png", "jpeg-rgb-progressive.jpg", "jpeg-cmyk-adobe.jpg"])
    func everyPrefix(_ file: String) throws {
        let bytes = try F.bytes(file)
        for length in 0..<bytes.count {
            do {
                _ = try Image(decoding: bytes[0..<length])
                Issue.record("a \(length)-byte prefix of \(file) decoded without error")
            } catch {
                // Only the kinds a damaged file may give.
                #expect([.truncated, .corrupt, .unsupportedFormat].contains(ErrorKind(error)), "\(length): \(error)")
            }
        }
    }

    @Test("files that cannot be read give .io with the path")
    func unreadable() throws {
        let folder = try TemporaryFolder()
        let missing = folder.path("missing.png")
        #expect(throws: ImageError.io(path: missing, detail: "No such file or directory")) {
            try Image(contentsOfFile: missing)
        }
        let error = try #require(throws: ImageError.self) { try Image(contentsOfFile: folder.url.path) }
        #expect(ErrorKind(error) == .io)
        #expect(throws: ImageError.self) { try Image(contentsOf: URL(string: "https://example.com/a.png")!) }
    }

    @Test("invalid options are refused")
    func invalidOptions() throws {
        let bytes = try F.bytes("png-gray-8.png")
        #expect(throws: ImageError.invalidArgument("maximumPixelCount must be positive, not 0")) {
            try Image(decoding: bytes, options: DecodingOptions(maximumPixelCount: 0))
        }
        #expect(throws: ImageError.self) {
            try Image(decoding: bytes, options: DecodingOptions(reducedSize: .longSide(atLeast: 0)))
        }
    }
}
