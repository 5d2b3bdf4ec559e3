import CPNG

/// Decoded pixels before the caller's choice of storage type: 8-bit, or 16-bit samples
/// in host order (only when 16-bit output was asked for and the file is 16-bit).
enum DecodedPixels {
    case eight(Image)
    case sixteen(width: Int, height: Int, layout: PixelLayout, samples: [UInt16])
}

/// What a decoder found beside the pixels.
struct DecodedExtras {
    /// The orientation that would make the pixels upright.
    var orientation: ImageOrientation
    /// The file's ICC profile, if it was valid for the pixels.
    var colorProfile: ColorProfile?
    /// Problems that did not stop decoding.
    var warnings: [DecodingWarning]
}

/// PNG through the CPNG shim.
enum PNGCodec {
    static func layout(channels: Int32) -> PixelLayout? {
        switch channels {
        case 1: .gray
        case 2: .grayAlpha
        case 3: .rgb
        case 4: .rgba
        default: nil
        }
    }

    static func error(_ status: Int32, _ message: String, source: String) -> ImageError {
        switch Int(status) {
        case Int(CPNG_TRUNCATED): .truncated(source: source, detail: message)
        case Int(CPNG_NOT_PNG): .unsupportedFormat(source: source, detail: message)
        case Int(CPNG_NO_MEMORY): .corrupt(source: source, detail: "out of memory: \(message)")
        default: .corrupt(source: source, detail: message)
        }
    }

    /// The size stored in IHDR, read by hand so that the pixel limit is checked before
    /// libpng is even started. `nil` if the data is too short or does not start with IHDR
    /// (libpng then reports the damage).
    ///
    /// - Throws: ``ImageError/corrupt(source:detail:)`` when the IHDR chunk's length or CRC
    ///   is wrong (a damaged size must not be reported as "too large") or a side is 0 or
    ///   over the PNG maximum of 2³¹ − 1.
    static func headerSize(_ bytes: UnsafeRawBufferPointer, source: String) throws(ImageError) -> (width: Int, height: Int)? {
        // Signature (8), then the first chunk's length (4) and type, which must be IHDR.
        guard bytes.count >= 24, bytes[12] == 0x49, bytes[13] == 0x48, bytes[14] == 0x44, bytes[15] == 0x52
        else { return nil }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        guard u32(8) == 13 else { throw .corrupt(source: source, detail: "IHDR: invalid length \(u32(8))") }
        // Type (4) + data (13), then the CRC; a shorter file is libpng's to report as truncated.
        guard bytes.count >= 33 else { return nil }
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[12..<29])) == UInt32(u32(29)) else {
            throw .corrupt(source: source, detail: "IHDR: CRC error")
        }
        let width = u32(16), height = u32(20)
        let maximum = Int(Int32.max)
        guard (1...maximum).contains(width), (1...maximum).contains(height) else {
            throw .corrupt(source: source, detail: "IHDR: invalid size \(width)×\(height) (each side must be 1…\(maximum))")
        }
        return (width, height)
    }

    static func checkLimit(width: Int, height: Int, source: String, options: DecodingOptions) throws(ImageError) {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > options.maximumPixelCount {
            throw .tooLarge(source: source, width: width, height: height, limit: options.maximumPixelCount)
        }
    }

    static func info(_ bytes: UnsafeRawBufferPointer, source: String) throws(ImageError) -> ImageInfo {
        guard let decoder = cpng_decoder_create(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, 0)
        else { throw .corrupt(source: source, detail: "out of memory") }
        defer { cpng_decoder_destroy(decoder) }
        let status = cpng_decoder_status(decoder)
        guard status == CPNG_OK else {
            throw error(status, String(cString: cpng_decoder_message(decoder)), source: source)
        }
        let header = cpng_decoder_header(decoder)
        return ImageInfo(format: .png, width: Int(header.width), height: Int(header.height),
                         orientation: orientation(decoder))
    }

    /// The orientation from an eXIf chunk before IDAT (`.up` if none or unreadable).
    static func orientation(_ decoder: OpaquePointer) -> ImageOrientation {
        var size = 0
        guard let exif = cpng_decoder_exif(decoder, &size) else { return .up }
        return EXIFReader.orientation(tiff: UnsafeRawBufferPointer(start: exif, count: size)) ?? .up
    }

    /// The iCCP profile (libpng has inflated and checked it) if valid for `layout`, or the
    /// warning about why libpng or we dropped it.
    static func colorProfile(_ decoder: OpaquePointer, layout: PixelLayout, source: String) -> (ColorProfile?, [DecodingWarning]) {
        var size = 0
        if let icc = cpng_decoder_icc(decoder, &size) {
            return ProfileReading.check(Array(UnsafeBufferPointer(start: icc, count: size)), layout: layout, source: source)
        }
        if let warning = cpng_decoder_icc_warning(decoder) {
            return (nil, [DecodingWarning(kind: .colorProfileDropped, source: source,
                                          detail: "ICC profile dropped: " + String(cString: warning))])
        }
        return (nil, [])
    }

    /// The pixels as stored, the orientation that would make them upright and the profile.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, options: DecodingOptions, keep16Bit: Bool
    ) throws(ImageError) -> (DecodedPixels, DecodedExtras) {
        if let size = try headerSize(bytes, source: source) {
            try checkLimit(width: size.width, height: size.height, source: source, options: options)
        }
        // Per-side libpng limit: no side may be longer than the pixel budget allows.
        let sideLimit = UInt32(clamping: max(options.maximumPixelCount, 1))
        guard let decoder = cpng_decoder_create(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, sideLimit)
        else { throw .corrupt(source: source, detail: "out of memory") }
        defer { cpng_decoder_destroy(decoder) }
        func failure(_ status: Int32) -> ImageError {
            let message = String(cString: cpng_decoder_message(decoder))
            if status == CPNG_TOO_LARGE, let size = try? headerSize(bytes, source: source) {
                return .tooLarge(source: source, width: size.width, height: size.height, limit: options.maximumPixelCount)
            }
            return error(status, message, source: source)
        }
        var status = cpng_decoder_status(decoder)
        guard status == CPNG_OK else { throw failure(status) }
        status = cpng_decoder_start(decoder, keep16Bit ? 1 : 0)
        guard status == CPNG_OK else { throw failure(status) }
        let header = cpng_decoder_header(decoder)
        let width = Int(header.width), height = Int(header.height)
        try checkLimit(width: width, height: height, source: source, options: options)
        guard let layout = layout(channels: header.channels) else {
            throw .corrupt(source: source, detail: "unexpected channel count \(header.channels)")
        }
        let (profile, warnings) = colorProfile(decoder, layout: layout, source: source)
        if header.output_bit_depth == 16 {
            let count = width * height * layout.channelCount
            var samples = [UInt16](repeating: 0, count: count)
            status = samples.withUnsafeMutableBytes { buffer in
                cpng_decoder_read(decoder, buffer.baseAddress, width * layout.channelCount * 2)
            }
            guard status == CPNG_OK else { throw failure(status) }
            return (.sixteen(width: width, height: height, layout: layout, samples: samples),
                    DecodedExtras(orientation: orientation(decoder), colorProfile: profile, warnings: warnings))
        }
        // cpng_decoder_read writes every row or fails (and the image is dropped).
        var image = Image(uninitializedWidth: width, height: height, layout: layout)
        status = image.withUnsafeMutableBufferPointer { pixels, stride in
            cpng_decoder_read(decoder, pixels, stride)
        }
        guard status == CPNG_OK else { throw failure(status) }
        image.colorProfile = profile
        return (.eight(image), DecodedExtras(orientation: orientation(decoder), colorProfile: profile, warnings: warnings))
    }

    /// `png` (as the encoders make it: signature, then IHDR) with an iCCP chunk holding
    /// `profile` right after IHDR, where PNG wants it (before PLTE and IDAT).
    static func inserting(_ profile: ColorProfile, into png: [UInt8], destination: String) throws(ImageError) -> [UInt8] {
        let chunk = try iccpChunk(profile, destination: destination)
        let afterIHDR = 8 + 25
        var result = [UInt8]()
        result.reserveCapacity(png.count + chunk.count)
        result.append(contentsOf: png[..<afterIHDR])
        result.append(contentsOf: chunk)
        result.append(contentsOf: png[afterIHDR...])
        return result
    }

    /// The whole iCCP chunk (length, type, zlib-compressed `profile`, CRC) for a PNG.
    static func iccpChunk(_ profile: ColorProfile, destination: String) throws(ImageError) -> [UInt8] {
        var chunk: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = profile.data.withUnsafeBufferPointer { cpng_make_iccp_chunk($0.baseAddress, $0.count, &chunk, &size) }
        guard status == CPNG_OK, let chunk else {
            throw .unsupportedEncoding(destination: destination, detail: "PNG: cannot compress the ICC profile")
        }
        defer { cpng_free(chunk) }
        return Array(UnsafeBufferPointer(start: chunk, count: size))
    }

    /// The default filter choice: "Up" only. Measured on a 1200×1800 photo-like RGBA
    /// picture at zlib level 2 (see Docs/Codecs.md): much faster than libpng's adaptive
    /// choice over all five filters, and the file is only a few percent larger.
    static let defaultFilters = Int32(CPNG_FILTER_UP)

    /// Encodes `image`; with the default filters and `threads` given, through
    /// `cpng_encode_threaded` (bands deflated on that many threads, same pixels), else
    /// (other filters, or `threads` nil) through libpng.
    static func encode(
        _ image: Image, compressionLevel: Int, destination: String, filters: Int32 = defaultFilters,
        threads: Int32? = 1
    ) throws(ImageError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.withUnsafeBufferPointer { pixels, stride in
            if filters == defaultFilters, let threads {
                cpng_encode_threaded(
                    pixels, UInt32(clamping: image.width), UInt32(clamping: image.height), stride,
                    Int32(image.channelCount), Int32(compressionLevel), max(1, threads),
                    &output, &size, &message, message.count)
            } else {
                cpng_encode(
                    pixels, UInt32(clamping: image.width), UInt32(clamping: image.height), stride,
                    Int32(image.channelCount), Int32(compressionLevel), filters,
                    &output, &size, &message, message.count)
            }
        }
        guard status == CPNG_OK, let output else {
            throw .unsupportedEncoding(destination: destination, detail: "PNG: " + FileIO.string(message))
        }
        defer { cpng_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    /// The PNG of the RGBA picture with `color`'s RGB and `alpha` as its alpha channel (same
    /// size; 8-bit), deflated in bands like ``encode(_:compressionLevel:destination:filters:threads:)``
    /// with the default filters: the same bytes as encoding the interleaved RGBA picture, but
    /// rows are interleaved as they are deflated, so no full-size RGBA copy is made.
    static func encode(
        color: Image, alpha: Image, compressionLevel: Int, destination: String, threads: Int32 = 1
    ) throws(ImageError) -> [UInt8] {
        guard color.layout == .rgb, alpha.layout == .gray, color.width == alpha.width, color.height == alpha.height,
              !color.isEmpty
        else {
            throw .unsupportedEncoding(destination: destination, detail: "PNG: colour and alpha planes do not match")
        }
        guard (0...9).contains(compressionLevel) else {
            throw .unsupportedEncoding(destination: destination, detail: "PNG compression level must be 0…9, not \(compressionLevel)")
        }
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = color.withUnsafeBufferPointer { rgb, rgbStride in
            alpha.withUnsafeBufferPointer { a, aStride in
                cpng_encode_threaded_rgb_alpha(
                    rgb, rgbStride, a, aStride, UInt32(clamping: color.width), UInt32(clamping: color.height),
                    Int32(compressionLevel), max(1, threads), &output, &size, &message, message.count)
            }
        }
        guard status == CPNG_OK, let output else {
            throw .unsupportedEncoding(destination: destination, detail: "PNG: " + FileIO.string(message))
        }
        defer { cpng_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}

/// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320, as zlib's `crc32`).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
