import CJPEG
import CPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PNG or JPEG file decoded top to bottom, a few rows at a time, straight from the file:
/// neither the file's bytes nor the whole picture is ever held. The same rows can be read
/// from encoded bytes in memory (``init(bytes:source:options:)``, an upload): then only the
/// whole picture is never held.
///
/// The rows are the bytes ``ImageBuffer/init(contentsOfFile:options:)`` decodes (the same
/// libpng and libjpeg calls, 16-bit PNG samples rounded to 8 bits), *as stored*: the EXIF
/// orientation is reported in ``orientation``, not applied. An interlaced (Adam7) PNG is read
/// through one libpng decoder per pass (``InterlacedPNGRows``: about twice the decoding work,
/// a few rows held; a file is opened once per pass). The file is checked as
/// ``ImageBuffer/init(contentsOfFile:options:)`` checks it (a regular file, the pixel limit
/// before any pixel memory), and every error names it.
package final class ImageRowReader {
    package let path: String
    package let format: ImageFormat
    package let width: Int
    package let height: Int
    /// The layout of the rows delivered: gray, gray+alpha, RGB or RGBA.
    package let layout: PixelLayout
    /// The orientation that would make the picture upright.
    package let orientation: ImageOrientation
    package let colorProfile: ColorProfile?
    package let warnings: [DecodingWarning]
    /// Rows delivered so far.
    package private(set) var rowsRead = 0

    /// The upright picture's size: the stored size, its sides swapped when the orientation
    /// turns the picture a quarter (5–8).
    package var uprightSize: (width: Int, height: Int) {
        orientation.swapsDimensions ? (height, width) : (width, height)
    }

    /// Whether the file is an interlaced (Adam7) PNG, its rows put together from one decoder
    /// per pass (``InterlacedPNGRows``): reading it again costs about twice a plain PNG's decoding.
    package var isInterlaced: Bool { interlaced != nil }

    /// The open file; nil when reading from memory.
    private let file: UnsafeMutablePointer<FILE>?
    private let png: OpaquePointer?
    private let jpeg: OpaquePointer?
    /// The passes of an interlaced PNG (`png` reads the first).
    private var interlaced: InterlacedPNGRows?

    /// Opens the file at `path` and reads its header; the pixel limit of `options` is checked
    /// here (reduced-size decoding does not apply).
    ///
    /// - Throws: ``ImageError`` naming the file, as the whole-picture decoder does.
    package init(path: String, options: DecodingOptions = .init()) throws(ImageError) {
        self.path = path
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            throw .io(path: path, detail: "is \(FileIO.kind(ofMode: info.st_mode)), not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw .io(path: path, detail: FileIO.reason(errno)) }
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            let detail = (info.st_mode & S_IFMT) != S_IFREG && info.st_mode != 0
                ? "is \(FileIO.kind(ofMode: info.st_mode)), not a regular file" : FileIO.reason(errno)
            close(fd)
            throw .io(path: path, detail: detail)
        }
        guard let file = fdopen(fd, "rb") else {
            let detail = FileIO.reason(errno)
            close(fd)
            throw .io(path: path, detail: detail)
        }
        var signature = [UInt8](repeating: 0, count: 8)
        let got = fread(&signature, 1, 8, file)
        guard fseek(file, 0, SEEK_SET) == 0 else {
            fclose(file)
            throw .io(path: path, detail: FileIO.reason(errno))
        }
        let sniffed = signature.withUnsafeBytes { bytes in
            Result { () throws(ImageError) in try CodecSource.format(of: UnsafeRawBufferPointer(rebasing: bytes[..<got]), source: path) }
        }
        do throws(ImageError) {
            let opened = try Self.openDecoder(format: try sniffed.get(), source: path, options: options,
                                       png: { cpng_decoder_create_file(file, $0) }, jpeg: { cjpeg_decoder_create_file(file, $0) })
            (format, png, jpeg, width, height, layout, orientation, colorProfile, warnings) = opened
        } catch {
            fclose(file)
            throw error
        }
        self.file = file
        // Another decoder per pass: the same file (device and inode), opened again.
        let (device, inode) = (info.st_dev, info.st_ino)
        interlaced = Self.passes(png, width: width, height: height, layout: layout, source: path, options: options) {
            (limit: UInt32) throws(ImageError) -> (OpaquePointer?, UnsafeMutablePointer<FILE>?) in
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
            guard fd >= 0 else { throw .io(path: path, detail: FileIO.reason(errno)) }
            var again = stat()
            guard fstat(fd, &again) == 0, again.st_dev == device, again.st_ino == inode, let file = fdopen(fd, "rb") else {
                close(fd)
                throw .corrupt(source: path, detail: "the file changed while it was read")
            }
            return (cpng_decoder_create_file(file, limit), file)
        }
    }

    /// Reads the encoded PNG or JPEG in `bytes`, which must stay valid and unchanged until the
    /// reader is dropped (it is not copied); errors name `source`. Otherwise as ``init(path:options:)``.
    ///
    /// - Throws: ``ImageError`` naming `source`, as the whole-picture decoder does.
    package init(bytes: UnsafeRawBufferPointer, source: String = CodecSource.memory, options: DecodingOptions = .init()) throws(ImageError) {
        path = source
        let format = try CodecSource.format(of: bytes, source: source)
        let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), size = bytes.count
        let opened = try Self.openDecoder(format: format, source: source, options: options,
                                   png: { cpng_decoder_create(data, size, $0) }, jpeg: { cjpeg_decoder_create(data, size, $0) })
        (self.format, png, jpeg, width, height, layout, orientation, colorProfile, warnings) = opened
        file = nil
        interlaced = Self.passes(png, width: width, height: height, layout: layout, source: source, options: options) {
            (cpng_decoder_create(data, size, $0), nil)
        }
    }

    /// The passes of `png` if it is an interlaced file; `create` makes another decoder over the
    /// same data (given the side limit), with the file it reads from, to be closed with it.
    private static func passes(
        _ png: OpaquePointer?, width: Int, height: Int, layout: PixelLayout, source: String, options: DecodingOptions,
        create: @escaping (UInt32) throws(ImageError) -> (OpaquePointer?, UnsafeMutablePointer<FILE>?)
    ) -> InterlacedPNGRows? {
        guard let png, cpng_decoder_header(png).interlaced != 0 else { return nil }
        return InterlacedPNGRows(first: png, width: width, height: height, channels: layout.channelCount, source: source) {
            () throws(ImageError) -> InterlacedPNGRows.PassDecoder in
            let (made, file) = try create(sideLimit(options))
            guard let made else {
                if let file { fclose(file) }
                throw .corrupt(source: source, detail: "out of memory")
            }
            let decoder = InterlacedPNGRows.PassDecoder(decoder: made, file: file)
            var status = cpng_decoder_status(made)
            if status == CPNG_OK { status = cpng_decoder_start_passes(made, 0) }
            guard status == CPNG_OK else {
                throw PNGCodec.error(status, String(cString: cpng_decoder_message(made)), source: source)
            }
            return decoder
        }
    }

    private static func sideLimit(_ options: DecodingOptions) -> UInt32 { UInt32(clamping: max(options.maximumPixelCount, 1)) }

    deinit {
        interlaced = nil
        cpng_decoder_destroy(png)
        cjpeg_decoder_destroy(jpeg)
        if let file { fclose(file) }
    }

    private typealias Opened = (ImageFormat, OpaquePointer?, OpaquePointer?, Int, Int, PixelLayout, ImageOrientation,
                                ColorProfile?, [DecodingWarning])

    /// The decoder `png` or `jpeg` makes (given the side or scan limit), with its header read.
    private static func openDecoder(
        format: ImageFormat, source path: String, options: DecodingOptions,
        png create: (UInt32) -> OpaquePointer?, jpeg createJPEG: (Int32) -> OpaquePointer?
    ) throws(ImageError) -> Opened {
        switch format {
        case .png:
            let opened = openPNG(create(sideLimit(options)), path: path, options: options)
            guard case let .success(h) = opened.result else {
                cpng_decoder_destroy(opened.decoder)
                if case let .failure(error) = opened.result { throw error }
                throw .corrupt(source: path, detail: "out of memory")
            }
            return (format, opened.decoder, nil, h.0, h.1, h.2, h.3, h.4, h.5)
        case .jpeg:
            let opened = openJPEG(createJPEG(0), path: path, options: options)
            guard case let .success(h) = opened.result else {
                cjpeg_decoder_destroy(opened.decoder)
                if case let .failure(error) = opened.result { throw error }
                throw .corrupt(source: path, detail: "out of memory")
            }
            return (format, nil, opened.decoder, h.0, h.1, h.2, h.3, h.4, h.5)
        }
    }

    private typealias Header = (Int, Int, PixelLayout, ImageOrientation, ColorProfile?, [DecodingWarning])

    private static func openPNG(_ decoder: OpaquePointer?, path: String, options: DecodingOptions)
        -> (decoder: OpaquePointer?, result: Result<Header, ImageError>) {
        guard let decoder else {
            return (nil, .failure(.corrupt(source: path, detail: "out of memory")))
        }
        func failure(_ status: Int32) -> ImageError {
            let header = cpng_decoder_header(decoder)
            if status == CPNG_TOO_LARGE {
                return .tooLarge(source: path, width: Int(header.width), height: Int(header.height), limit: options.maximumPixelCount)
            }
            return PNGCodec.error(status, String(cString: cpng_decoder_message(decoder)), source: path)
        }
        var status = cpng_decoder_status(decoder)
        guard status == CPNG_OK else { return (decoder, .failure(failure(status))) }
        let header = cpng_decoder_header(decoder)
        do {
            try PNGCodec.checkLimit(width: Int(header.width), height: Int(header.height), source: path, options: options)
        } catch { return (decoder, .failure(error)) }
        // Passes as stored (the same rows as cpng_decoder_start for a file that is not interlaced).
        status = cpng_decoder_start_passes(decoder, 0)
        guard status == CPNG_OK else { return (decoder, .failure(failure(status))) }
        let started = cpng_decoder_header(decoder)
        guard let layout = PNGCodec.layout(channels: started.channels), started.output_bit_depth == 8 else {
            return (decoder, .failure(.corrupt(source: path, detail: "unexpected channel count \(started.channels)")))
        }
        let (profile, warnings) = PNGCodec.colorProfile(decoder, layout: layout, source: path)
        return (decoder, .success((Int(started.width), Int(started.height), layout, PNGCodec.orientation(decoder),
                                   profile, warnings)))
    }

    private static func openJPEG(_ decoder: OpaquePointer?, path: String, options: DecodingOptions)
        -> (decoder: OpaquePointer?, result: Result<Header, ImageError>) {
        guard let decoder else {
            return (nil, .failure(.corrupt(source: path, detail: "out of memory")))
        }
        func failure(_ status: Int32) -> ImageError {
            JPEGCodec.error(status, String(cString: cjpeg_decoder_message(decoder)), source: path)
        }
        var status = cjpeg_decoder_status(decoder)
        guard status == CJPEG_OK else { return (decoder, .failure(failure(status))) }
        let header = cjpeg_decoder_header(decoder)
        do {
            try PNGCodec.checkLimit(width: Int(header.width), height: Int(header.height), source: path, options: options)
        } catch { return (decoder, .failure(error)) }
        status = cjpeg_decoder_start(decoder, 8)
        guard status == CJPEG_OK else { return (decoder, .failure(failure(status))) }
        let started = cjpeg_decoder_header(decoder)
        let layout: PixelLayout = started.output_channels == 1 ? .gray : .rgb
        let (profile, warnings) = JPEGCodec.colorProfile(decoder, layout: layout, source: path)
        return (decoder, .success((Int(started.output_width), Int(started.output_height), layout,
                                   JPEGCodec.orientation(decoder), profile, warnings)))
    }

    /// Decodes the next `count` rows into rows `0..<count` of `band` (``layout``, width
    /// ``width``, at least `count` rows). After the last row the rest of the file is checked
    /// as the whole-picture decoder does.
    ///
    /// - Throws: ``ImageError`` naming the file (truncated, corrupt); after a failure the
    ///   reader is spent.
    package func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        precondition(count >= 0 && count <= height - rowsRead && band.layout == layout
                     && band.width == width && band.height >= count, "readRows(\(count)): bad call")
        guard count > 0 else { return }
        if let interlaced {
            let read = band.withUnsafeMutableBufferPointer { pixels, stride in
                Result { () throws(ImageError) in try interlaced.readRows(count, into: pixels, stride: stride) }
            }
            try read.get()
            rowsRead += count
            return
        }
        let status: Int32 = band.withUnsafeMutableBufferPointer { pixels, stride in
            if let png {
                return cpng_decoder_read_rows(png, pixels, stride, UInt32(count)) == CPNG_OK ? 0 : cpng_decoder_status(png)
            }
            return cjpeg_decoder_read_rows(jpeg, pixels, stride, UInt32(count)) == CJPEG_OK ? 0 : cjpeg_decoder_status(jpeg)
        }
        if status != 0 {
            if let png { throw PNGCodec.error(status, String(cString: cpng_decoder_message(png)), source: path) }
            throw JPEGCodec.error(status, String(cString: cjpeg_decoder_message(jpeg)), source: path)
        }
        rowsRead += count
    }
}
