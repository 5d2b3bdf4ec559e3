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

    /// The decoded picture (as stored: orientation is the caller's job) and its orientation.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, options: DecodingOptions
    ) throws(ImageError) -> (Image, ImageOrientation) {
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
            return (image, orientation(decoder))
        }
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
