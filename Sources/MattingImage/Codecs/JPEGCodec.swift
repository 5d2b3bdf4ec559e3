import CJPEG

/// JPEG through the CJPEG shim.
enum JPEGCodec {
    static func error(_ status: Int32, _ message: String, source: String) -> ImageError {
        switch Int(status) {
        case Int(CJPEG_TRUNCATED): .truncated(source: source, detail: message)
        case Int(CJPEG_NOT_JPEG): .unsupportedFormat(source: source, detail: message)
        case Int(CJPEG_UNSUPPORTED): .unsupportedFormat(source: source, detail: message)
        case Int(CJPEG_NO_MEMORY): .corrupt(source: source, detail: "out of memory: \(message)")
        default: .corrupt(source: source, detail: message)
        }
    }

    /// Runs `body` with a decoder whose header has been read successfully.
    static func withDecoder<R>(
        _ bytes: UnsafeRawBufferPointer, source: String,
        _ body: (OpaquePointer, cjpeg_header) throws(ImageError) -> R
    ) throws(ImageError) -> R {
        guard let decoder = cjpeg_decoder_create(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, 0)
        else { throw .corrupt(source: source, detail: "out of memory") }
        defer { cjpeg_decoder_destroy(decoder) }
        let status = cjpeg_decoder_status(decoder)
        guard status == CJPEG_OK else {
            throw error(status, String(cString: cjpeg_decoder_message(decoder)), source: source)
        }
        return try body(decoder, cjpeg_decoder_header(decoder))
    }

    static func orientation(_ decoder: OpaquePointer) -> ImageOrientation {
        var size = 0
        guard let exif = cjpeg_decoder_exif(decoder, &size) else { return .up }
        return EXIFReader.orientation(in: UnsafeRawBufferPointer(start: exif, count: size)) ?? .up
    }

    static func info(_ bytes: UnsafeRawBufferPointer, source: String) throws(ImageError) -> ImageInfo {
        try withDecoder(bytes, source: source) { decoder, header throws(ImageError) in
            ImageInfo(format: .jpeg, width: Int(header.width), height: Int(header.height),
                      orientation: orientation(decoder))
        }
    }

    /// The profile in the APP2 `ICC_PROFILE` markers if valid for `layout`, or a warning.
    static func colorProfile(_ decoder: OpaquePointer, layout: PixelLayout, source: String) -> (ColorProfile?, [DecodingWarning]) {
        var payloads: [UnsafeRawBufferPointer] = []
        var size = 0
        while let payload = cjpeg_decoder_app2(decoder, Int32(payloads.count), &size) {
            payloads.append(UnsafeRawBufferPointer(start: payload, count: size))
        }
        return ProfileReading.jpegProfile(payloads, layout: layout, source: source)
    }

    /// The decoded picture (as stored: orientation is the caller's job, the profile is set)
    /// and what was found beside it.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, options: DecodingOptions
    ) throws(ImageError) -> (Image, DecodedExtras) {
        try withDecoder(bytes, source: source) { decoder, header throws(ImageError) in
            let width = Int(header.width), height = Int(header.height)
            try PNGCodec.checkLimit(width: width, height: height, source: source, options: options)
            func failure(_ status: Int32) -> ImageError {
                error(status, String(cString: cjpeg_decoder_message(decoder)), source: source)
            }
            var scale: Int32 = 8
            if let target = options.reducedSize {
                // The smallest N/8 whose output is still large enough (libjpeg rounds up).
                for n in Int32(1)...8 {
                    var w: UInt32 = 0, h: UInt32 = 0
                    let status = cjpeg_decoder_scaled_size(decoder, n, &w, &h)
                    guard status == CJPEG_OK else { throw failure(status) }
                    if target.isSatisfied(width: Int(w), height: Int(h)) { scale = n; break }
                }
            }
            var status = cjpeg_decoder_start(decoder, scale)
            guard status == CJPEG_OK else { throw failure(status) }
            let started = cjpeg_decoder_header(decoder)
            let layout: PixelLayout = started.output_channels == 1 ? .gray : .rgb
            // cjpeg_decoder_read writes every row or fails (and the image is dropped).
            var image = Image(uninitializedWidth: Int(started.output_width), height: Int(started.output_height), layout: layout)
            status = image.withUnsafeMutableBufferPointer { pixels, stride in
                cjpeg_decoder_read(decoder, pixels, stride)
            }
            guard status == CJPEG_OK else { throw failure(status) }
            // CMYK files decode to RGB here: a CMYK profile no longer describes the pixels.
            let (profile, warnings) = colorProfile(decoder, layout: layout, source: source)
            image.colorProfile = profile
            return (image, DecodedExtras(orientation: orientation(decoder), colorProfile: profile, warnings: warnings))
        }
    }

    /// The most profile bytes one APP2 marker carries: 65,535 (the largest segment length)
    /// − 2 (the length field) − 14 (`ICC_PROFILE\0`, sequence number, count).
    static let iccBytesPerMarker = 65_519

    /// `jpeg` (as the encoder makes it: SOI, then JFIF APP0 for gray and RGB) with `profile`
    /// in APP2 `ICC_PROFILE` markers right after SOI and APP0, split into pieces of at most
    /// ``iccBytesPerMarker`` bytes numbered 1…n (ICC.1, annex B.4). A ``ColorProfile`` is at most
    /// 4 MiB, so n ≤ 65 fits the one-byte count.
    static func inserting(_ profile: ColorProfile, into jpeg: [UInt8]) -> [UInt8] {
        var position = 2
        if jpeg.count >= 6, jpeg[2] == 0xFF, jpeg[3] == 0xE0 { position = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5])) }
        let pieces = stride(from: 0, to: profile.data.count, by: iccBytesPerMarker).map {
            profile.data[$0..<min($0 + iccBytesPerMarker, profile.data.count)]
        }
        var result = [UInt8]()
        result.reserveCapacity(jpeg.count + profile.data.count + 18 * pieces.count)
        result.append(contentsOf: jpeg[..<position])
        for (index, piece) in pieces.enumerated() {
            let length = 2 + 14 + piece.count
            result += [0xFF, 0xE2, UInt8(length >> 8), UInt8(length & 0xFF)]
            result += Array("ICC_PROFILE\0".utf8) + [UInt8(index + 1), UInt8(pieces.count)]
            result.append(contentsOf: piece)
        }
        result.append(contentsOf: jpeg[position...])
        return result
    }

    /// Encodes gray or RGB (or, for tests, 4-channel CMYK stored as CMYK or YCCK).
    static func encode(
        _ image: Image, quality: Int, destination: String, cmykAsYCCK: Bool = false,
        progressive: Bool = false
    ) throws(ImageError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.withUnsafeBufferPointer { pixels, stride in
            cjpeg_encode(
                pixels, UInt32(clamping: image.width), UInt32(clamping: image.height), stride,
                Int32(image.channelCount), cmykAsYCCK ? 1 : 0, Int32(quality), 0, progressive ? 1 : 0,
                &output, &size, &message, message.count)
        }
        guard status == CJPEG_OK, let output else {
            throw .unsupportedEncoding(destination: destination, detail: "JPEG: " + FileIO.string(message))
        }
        defer { cjpeg_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}
