#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ImageBuffer where Component == UInt8 {
    /// Decodes a PNG or JPEG file (format detected from the bytes, not the name).
    ///
    /// The layout follows the file: gray, gray+alpha, RGB or RGBA (palette PNGs become RGB,
    /// or RGBA when they have transparency; CMYK/YCCK JPEGs become RGB). 16-bit PNG samples
    /// are scaled to 8 bits with rounding; use `init(contentsOf:options:)`
    /// on ``FloatImage`` to keep their precision. Sample values are never gamma- or
    /// colour-converted (gAMA, cHRM and sRGB are ignored); an ICC profile (JPEG APP2, PNG
    /// iCCP) is kept as ``ImageBuffer/colorProfile`` when valid, and dropped otherwise — use
    /// ``decode(contentsOfFile:options:)->DecodedImage<Float>`` to hear about that. The EXIF orientation (a
    /// JPEG's APP1 segment, a PNG's eXIf chunk before IDAT) is applied unless
    /// ``DecodingOptions/appliesOrientation`` is `false`.
    ///
    /// ```swift
    /// let photo = try Image(contentsOf: URL(fileURLWithPath: "portrait.jpg"))
    /// ```
    ///
    /// - Throws: ``ImageError`` naming the file: `.io` if it cannot be read, `.unsupportedFormat`,
    ///   `.truncated`, `.corrupt` (with libpng's or libjpeg's message), `.tooLarge`.
    public init(contentsOf url: URL, options: DecodingOptions = .init()) throws(ImageError) {
        try self.init(contentsOfFile: try CodecSource.path(of: url), options: options)
    }

    /// Decodes the PNG or JPEG file at `path`; see `init(contentsOf:options:)`.
    public init(contentsOfFile path: String, options: DecodingOptions = .init()) throws(ImageError) {
        self = try Self.decode(contentsOfFile: path, options: options).image
    }

    /// Decodes the PNG or JPEG file at `path` like ``init(contentsOfFile:options:)-69c10``, and
    /// returns the warnings raised on the way (a dropped colour profile, ...) with the picture.
    ///
    /// ```swift
    /// let decoded = try Image.decode(contentsOfFile: "phone.jpg")
    /// for warning in decoded.warnings { log(warning.description) }
    /// ```
    ///
    /// - Throws: as `init(contentsOf:options:)`.
    public static func decode(contentsOfFile path: String, options: DecodingOptions = .init()) throws(ImageError) -> DecodedImage<UInt8> {
        let bytes = try FileIO.contents(ofFile: path)
        return try FileIO.withBytes(bytes) { buffer throws(ImageError) in
            try Self.decode8(buffer, source: path, options: options)
        }
    }

    /// Decodes a PNG or JPEG held in memory, with its warnings; errors and warnings name `"<memory>"`.
    public static func decode(bytes: some Collection<UInt8>, options: DecodingOptions = .init()) throws(ImageError) -> DecodedImage<UInt8> {
        try FileIO.withBytes(Array(bytes)) { buffer throws(ImageError) in
            try Self.decode8(buffer, source: CodecSource.memory, options: options)
        }
    }

    /// Decodes a PNG or JPEG held in memory; errors name the source `"<memory>"`.
    public init(decoding bytes: some Collection<UInt8>, options: DecodingOptions = .init()) throws(ImageError) {
        let decoded = bytes.withContiguousStorageIfAvailable { buffer in
            Result<Image, ImageError> { () throws(ImageError) in
                try Self.decode8(UnsafeRawBufferPointer(buffer), source: CodecSource.memory, options: options).image
            }
        }
        if let decoded {
            self = try decoded.get()
        } else {
            self = try Self.decode(bytes: bytes, options: options).image
        }
    }

    /// Decodes a PNG or JPEG held in `data`; errors name the source `"<memory>"`.
    public init(decoding data: Data, options: DecodingOptions = .init()) throws(ImageError) {
        let result = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            Result<Image, ImageError> { () throws(ImageError) in
                try Self.decode8(buffer, source: CodecSource.memory, options: options).image
            }
        }
        self = try result.get()
    }

    static func decode8(_ bytes: UnsafeRawBufferPointer, source: String, options: DecodingOptions) throws(ImageError) -> DecodedImage<UInt8> {
        var image: Image
        let (pixels, extras) = try CodecDecoding.decode(bytes, source: source, options: options, keep16Bit: false)
        switch pixels {
        case let .eight(eight): image = eight
        case let .sixteen(width, height, layout, samples):
            // Not reached (8-bit output was asked for); scale with rounding all the same.
            image = Image(width: width, height: height, layout: layout) { x, y, c in
                let v = UInt32(samples[(y * width + x) * layout.channelCount + c])
                return UInt8((v * 255 + 32767) / 65535)
            }
        }
        image.colorProfile = extras.colorProfile
        return DecodedImage(image: image.applyingOrientation(extras.orientation), warnings: extras.warnings)
    }
}

extension ImageBuffer where Component == Float {
    /// Decodes a PNG or JPEG file into float samples (0…1), keeping 16-bit PNG precision.
    ///
    /// 16-bit PNG samples become `v / 65535`; 8-bit samples `v / 255`. Everything else is
    /// as for ``Image``'s `init(contentsOf:options:)`.
    public init(contentsOf url: URL, options: DecodingOptions = .init()) throws(ImageError) {
        try self.init(contentsOfFile: try CodecSource.path(of: url), options: options)
    }

    /// Decodes the PNG or JPEG file at `path` into float samples; see `init(contentsOf:options:)`.
    public init(contentsOfFile path: String, options: DecodingOptions = .init()) throws(ImageError) {
        self = try Self.decode(contentsOfFile: path, options: options).image
    }

    /// Decodes the PNG or JPEG file at `path` into float samples, with the warnings raised
    /// on the way; see ``ImageBuffer/decode(contentsOfFile:options:)->DecodedImage<Float>``.
    public static func decode(contentsOfFile path: String, options: DecodingOptions = .init()) throws(ImageError) -> DecodedImage<Float> {
        let bytes = try FileIO.contents(ofFile: path)
        return try FileIO.withBytes(bytes) { buffer throws(ImageError) in
            try Self.decodeFloat(buffer, source: path, options: options)
        }
    }

    /// Decodes a PNG or JPEG held in memory into float samples; errors name `"<memory>"`.
    public init(decoding bytes: some Collection<UInt8>, options: DecodingOptions = .init()) throws(ImageError) {
        self = try FileIO.withBytes(Array(bytes)) { buffer throws(ImageError) in
            try Self.decodeFloat(buffer, source: CodecSource.memory, options: options).image
        }
    }

    /// Decodes a PNG or JPEG held in `data` into float samples; errors name `"<memory>"`.
    public init(decoding data: Data, options: DecodingOptions = .init()) throws(ImageError) {
        let result = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            Result<FloatImage, ImageError> { () throws(ImageError) in
                try Self.decodeFloat(buffer, source: CodecSource.memory, options: options).image
            }
        }
        self = try result.get()
    }

    static func decodeFloat(_ bytes: UnsafeRawBufferPointer, source: String, options: DecodingOptions) throws(ImageError) -> DecodedImage<Float> {
        let (pixels, extras) = try CodecDecoding.decode(bytes, source: source, options: options, keep16Bit: true)
        var image: FloatImage
        switch pixels {
        case let .eight(eight):
            image = eight.converted(to: FloatImage.self)
        case let .sixteen(width, height, layout, samples):
            image = FloatImage(uninitializedWidth: width, height: height, layout: layout)
            let rowLength = width * layout.channelCount
            image.withUnsafeMutableBufferPointer { pixels, stride in
                samples.withUnsafeBufferPointer { source in
                    for y in 0..<height {
                        for i in 0..<rowLength {
                            pixels[y * stride + i] = Float(source[y * rowLength + i]) / 65535
                        }
                    }
                }
            }
        }
        image.colorProfile = extras.colorProfile
        return DecodedImage(image: image.applyingOrientation(extras.orientation), warnings: extras.warnings)
    }
}

/// Format dispatch and orientation, shared by the 8-bit and float entry points.
enum CodecDecoding {
    /// The pixels as stored, the orientation still to apply (`.up` when the options say not
    /// to apply it), the colour profile and the warnings.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, source: String, options: DecodingOptions, keep16Bit: Bool
    ) throws(ImageError) -> (DecodedPixels, DecodedExtras) {
        guard options.maximumPixelCount > 0 else {
            throw .invalidArgument("maximumPixelCount must be positive, not \(options.maximumPixelCount)")
        }
        if let reduced = options.reducedSize, reduced.minimum < 1 {
            throw .invalidArgument("reducedSize.minimum must be at least 1, not \(reduced.minimum)")
        }
        switch try CodecSource.format(of: bytes, source: source) {
        case .png:
            var (pixels, extras) = try PNGCodec.decode(bytes, source: source, options: options, keep16Bit: keep16Bit)
            if !options.appliesOrientation { extras.orientation = .up }
            return (pixels, extras)
        case .jpeg:
            var (image, extras) = try JPEGCodec.decode(bytes, source: source, options: options)
            if !options.appliesOrientation { extras.orientation = .up }
            return (.eight(image), extras)
        }
    }
}
