#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ImageBuffer {
    /// The picture encoded as a PNG or JPEG file's bytes.
    ///
    /// Float pictures are converted to 8 bits first (×255, rounded, clamped). PNG writes
    /// gray, gray+alpha, RGB or RGBA at 8 bits; JPEG writes gray or RGB, and needs
    /// ``EncodingOptions/background`` for pictures with alpha.
    ///
    /// ```swift
    /// let jpeg = try cutout.encoded(as: .jpeg, options: .init(background: .white))
    /// ```
    ///
    /// - Throws: ``ImageError/unsupportedEncoding(destination:detail:)`` (destination
    ///   `"<memory>"`) for an empty picture, alpha to JPEG without a background, or
    ///   settings out of range.
    public func encoded(as format: ImageFormat, options: EncodingOptions = .init()) throws(ImageError) -> [UInt8] {
        try ImageEncoding.encode(eightBit, format: format, options: options, destination: CodecSource.memory)
    }

    /// Writes the picture to `url` as PNG or JPEG, atomically.
    ///
    /// The bytes go to a temporary file in the same folder which is then renamed over
    /// `url`: readers never see a partial file, and on any failure neither the temporary
    /// file nor a changed destination is left behind (an existing file stays as it was).
    /// An existing regular file is replaced atomically; a symbolic link, directory, FIFO,
    /// socket or device at `url` is refused (see ``AtomicFile/write(_:to:)``).
    ///
    /// - Parameters:
    ///   - url: the file to write (a `file:` URL).
    ///   - format: The format to write; `nil` (default) chooses from the file extension
    ///     (`.png`, `.jpg`/`.jpeg`).
    ///   - options: the encoder's settings (JPEG quality, PNG compression).
    /// - Throws: ``ImageError/unsupportedEncoding(destination:detail:)`` if the format
    ///   is unknown or the picture cannot be encoded as asked, ``ImageError/io(path:detail:)``
    ///   if the file cannot be written or `url` is not absent or a regular file.
    public func write(to url: URL, format: ImageFormat? = nil, options: EncodingOptions = .init()) throws(ImageError) {
        try write(toFile: try CodecSource.path(of: url), format: format, options: options)
    }

    /// Writes the picture to the file at `path` atomically; see ``write(to:format:options:)``.
    public func write(toFile path: String, format: ImageFormat? = nil, options: EncodingOptions = .init()) throws(ImageError) {
        let chosen: ImageFormat
        if let format {
            chosen = format
        } else {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            guard let dot = name.lastIndex(of: "."),
                  let guessed = ImageFormat(fileExtension: String(name[name.index(after: dot)...]))
            else {
                throw .unsupportedEncoding(
                    destination: path, detail: "cannot tell the format from the file name; use .png or .jpg")
            }
            chosen = guessed
        }
        let bytes = try ImageEncoding.encode(eightBit, format: chosen, options: options, destination: path)
        try FileIO.writeAtomically(bytes, to: path)
    }

    /// The picture with 8-bit samples.
    var eightBit: Image {
        if let image = self as? Image { return image }
        return converted(to: Image.self)
    }
}

extension ImageBuffer where Component == UInt8 {
    /// The picture composited over an opaque `background` (straight alpha):
    /// `out = (value·alpha + background·(255 − alpha)) / 255`, rounded. Pictures without
    /// alpha are returned unchanged. Gray+alpha stays gray over a gray background and
    /// becomes RGB over a colour.
    public func flattened(over background: RGBColor) -> Image {
        guard layout.hasAlpha else { return self }
        let target: PixelLayout = layout == .grayAlpha && background.isGray ? .gray : .rgb
        // Every component is written below.
        var result = Image(uninitializedWidth: width, height: height, layout: target)
        if target.isColor == layout.isColor { result.colorProfile = colorProfile }
        let source = channelCount, outChannels = target.channelCount, gray = layout == .grayAlpha
        let back = [UInt32(background.red), UInt32(background.green), UInt32(background.blue)]
        withUnsafeBufferPointer { src, srcStride in
            result.withUnsafeMutableBufferPointer { dst, dstStride in
                for y in 0..<height {
                    let s = src + y * srcStride, d = dst + y * dstStride
                    for x in 0..<width {
                        let p = s + x * source, q = d + x * outChannels
                        let alpha = UInt32(p[source - 1]), rest = 255 - alpha
                        for c in 0..<outChannels {
                            let value = UInt32(p[gray ? 0 : c])
                            let t = value * alpha + back[c] * rest + 128
                            q[c] = UInt8((t + (t >> 8)) >> 8)  // exact round(t / 255)
                        }
                    }
                }
            }
        }
        return result
    }
}

extension ImageBuffer where Component == UInt8 {
    /// The PNG (default options) of the RGBA picture whose colours are this RGB picture's and
    /// whose alpha is `alpha` (gray, same size): the same bytes as
    /// `converted(to: .rgba).replacingChannel(3, with: alpha).encoded(as: .png)`, without the
    /// RGBA copy (rows are interleaved as they are deflated). This picture's colour profile,
    /// if any, is written.
    ///
    /// - Throws: ``ImageError/unsupportedEncoding(destination:detail:)`` unless `self` is RGB,
    ///   `alpha` gray, both of the same non-empty size.
    package func encodedPNG(withAlpha alpha: Image, threads: Int = 1) throws(ImageError) -> [UInt8] {
        let png = try PNGCodec.encode(
            color: self, alpha: alpha, compressionLevel: EncodingOptions().pngCompressionLevel, destination: CodecSource.memory,
            threads: Int32(clamping: max(1, threads)))
        guard let colorProfile, colorProfile.describes(.rgba) else { return png }
        return try PNGCodec.inserting(colorProfile, into: png, destination: CodecSource.memory)
    }
}

/// Format dispatch and argument checks shared by `encoded(as:)` and `write(to:)`.
enum ImageEncoding {
    static func encode(
        _ image: Image, format: ImageFormat, options: EncodingOptions, destination: String
    ) throws(ImageError) -> [UInt8] {
        guard !image.isEmpty else {
            throw .unsupportedEncoding(destination: destination, detail: "the picture is empty (\(image.width)×\(image.height))")
        }
        var picture = image
        if let background = options.background { picture = picture.flattened(over: background) }
        let profile = options.writesColorProfile ? picture.colorProfile : nil
        if let profile, !profile.describes(picture.layout) {
            throw .unsupportedEncoding(
                destination: destination,
                detail: "the colour profile describes \(profile.colorSpace) pixels, this picture is \(picture.layout)")
        }
        switch format {
        case .png:
            guard (0...9).contains(options.pngCompressionLevel) else {
                throw .unsupportedEncoding(
                    destination: destination,
                    detail: "PNG compression level must be 0…9, not \(options.pngCompressionLevel)")
            }
            let png = try PNGCodec.encode(
                picture, compressionLevel: options.pngCompressionLevel, destination: destination,
                threads: Int32(clamping: options.threads))
            return try profile.map { (profile) throws(ImageError) in try PNGCodec.inserting(profile, into: png, destination: destination) } ?? png
        case .jpeg:
            guard (1...100).contains(options.jpegQuality) else {
                throw .unsupportedEncoding(
                    destination: destination, detail: "JPEG quality must be 1…100, not \(options.jpegQuality)")
            }
            guard !picture.layout.hasAlpha else {
                throw .unsupportedEncoding(
                    destination: destination,
                    detail: "JPEG has no alpha: give a background colour to flatten this \(picture.layout) picture onto")
            }
            guard picture.width <= 65500, picture.height <= 65500 else {
                throw .unsupportedEncoding(
                    destination: destination, detail: "JPEG sides are limited to 65500 pixels; this is \(picture.width)×\(picture.height)")
            }
            let jpeg = try JPEGCodec.encode(picture, quality: options.jpegQuality, destination: destination)
            return profile.map { JPEGCodec.inserting($0, into: jpeg) } ?? jpeg
        }
    }
}
