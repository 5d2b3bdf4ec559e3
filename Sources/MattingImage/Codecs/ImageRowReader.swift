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
/// orientation is reported in ``orientation``, not applied. An interlaced (Adam7) PNG is
/// decoded once, its passes as stored, into an anonymous temporary file in
/// `temporaryDirectory` (``InterlacedPNGSpill``: the decoded size, unlinked, never mapped),
/// made when the first row is read, and its rows are put together from the passes' rows read
/// back from there: the decoding work of a plain PNG, a band of rows held. If that file cannot
/// be made or written (or `temporaryDirectory` is nil), the rows come from one libpng decoder
/// per pass instead (``InterlacedPNGRows``: about twice the decoding work, the same bytes; a
/// file is opened once per pass). The file is checked as
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

    /// Whether the file is an interlaced (Adam7) PNG, its rows put together from its passes
    /// (decoded once into ``passSpill``, or through one decoder per pass if that cannot be made).
    package var isInterlaced: Bool { openPass != nil }

    /// $TMPDIR, else /tmp (as Foundation's `FileManager.temporaryDirectory`), without a
    /// trailing slash: where an interlaced PNG's passes are spilled unless told otherwise.
    package static var defaultTemporaryDirectory: String {
        var directory = getenv("TMPDIR").map { String(cString: $0) } ?? ""
        if directory.isEmpty { directory = "/tmp" }
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        return directory
    }

    /// The open file; nil when reading from memory.
    private let file: UnsafeMutablePointer<FILE>?
    private let png: OpaquePointer?
    private let jpeg: OpaquePointer?
    /// An interlaced PNG's: another decoder over the same data, at its first stored row.
    private let openPass: (() throws(ImageError) -> InterlacedPNGRows.PassDecoder)?
    /// Where an interlaced PNG's passes are spilled (nil: never).
    private let spillDirectory: String?
    /// The passes decoded once (`png` decodes them), and the reader of their rows once complete.
    private(set) var spill: InterlacedPNGSpill?
    /// The bytes of decoded rows the spill writes at once (tests make it small).
    var passSpillBufferBytes = 1 << 21
    private var spillReader: InterlacedSpillReader?
    /// Without a spill: one decoder per pass.
    private var passes: InterlacedPNGRows?

    /// Opens the file at `path` and reads its header; the pixel limit of `options` is checked
    /// here (reduced-size decoding does not apply). An interlaced PNG's passes are spilled in
    /// `temporaryDirectory` (nil: read through one decoder per pass).
    ///
    /// - Throws: ``ImageError`` naming the file, as the whole-picture decoder does.
    package init(path: String, options: DecodingOptions = .init(),
                 temporaryDirectory: String? = ImageRowReader.defaultTemporaryDirectory) throws(ImageError) {
        self.path = path
        spillDirectory = temporaryDirectory
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
        openPass = Self.passOpener(png, source: path, options: options) {
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
    package init(bytes: UnsafeRawBufferPointer, source: String = CodecSource.memory, options: DecodingOptions = .init(),
                 temporaryDirectory: String? = ImageRowReader.defaultTemporaryDirectory) throws(ImageError) {
        path = source
        spillDirectory = temporaryDirectory
        let format = try CodecSource.format(of: bytes, source: source)
        let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), size = bytes.count
        let opened = try Self.openDecoder(format: format, source: source, options: options,
                                   png: { cpng_decoder_create(data, size, $0) }, jpeg: { cjpeg_decoder_create(data, size, $0) })
        (self.format, png, jpeg, width, height, layout, orientation, colorProfile, warnings) = opened
        file = nil
        openPass = Self.passOpener(png, source: source, options: options) {
            (cpng_decoder_create(data, size, $0), nil)
        }
    }

    /// For an interlaced `png`, what opens another decoder of the same data at its first
    /// stored row; `create` makes the decoder (given the side limit), with the file it reads
    /// from, to be closed with it.
    private static func passOpener(
        _ png: OpaquePointer?, source: String, options: DecodingOptions,
        create: @escaping (UInt32) throws(ImageError) -> (OpaquePointer?, UnsafeMutablePointer<FILE>?)
    ) -> (() throws(ImageError) -> InterlacedPNGRows.PassDecoder)? {
        guard let png, cpng_decoder_header(png).interlaced != 0 else { return nil }
        return { () throws(ImageError) -> InterlacedPNGRows.PassDecoder in
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

    /// For an interlaced PNG, before its first row is read: decodes the next stored rows of its
    /// passes into the pass spill (made in the temporary directory, its space reserved, on the
    /// first call), about 2 MiB of pixels a call. False once every pass is written, and for a
    /// file that is not interlaced; false too if the spill cannot be made or written — the rows
    /// are then read through one decoder per pass (same bytes, more time). ``readRows(_:into:)``
    /// calls it until false first; call it yourself to check for cancellation or report
    /// progress (``passFraction``) on the way.
    ///
    /// - Throws: the decoder's ``ImageError`` naming the file (truncated, corrupt); the reader
    ///   is then spent.
    package func decodeNextPassRows() throws(ImageError) -> Bool {
        guard let openPass, let png, passes == nil, spillReader == nil else { return false }
        if spill == nil {
            guard rowsRead == 0, let spillDirectory,
                  let made = try? InterlacedPNGSpill(width: width, height: height, layout: layout, source: path,
                                                 directory: spillDirectory, bufferBytes: passSpillBufferBytes)
            else {
                passes = InterlacedPNGRows(first: png, width: width, height: height, channels: layout.channelCount, source: path, open: openPass)
                return false
            }
            spill = made
        }
        guard let spill else { preconditionFailure("the pass spill is made") }
        if try spill.decodeNextRows(from: png) { return true }
        if spill.isComplete {
            spillReader = spill.makeReader()
        } else {
            // A write failed: `png` is part way through, so every pass gets a decoder of its own.
            self.spill = nil
            passes = InterlacedPNGRows(first: nil, width: width, height: height, channels: layout.channelCount, source: path, open: openPass)
        }
        return false
    }

    /// How much of an interlaced PNG's passes is decoded into the pass spill, 0…1 (1 once
    /// done, for a file that is not interlaced, or when the rows are read through one decoder
    /// per pass).
    package var passFraction: Double {
        guard isInterlaced, passes == nil else { return 1 }
        return spill?.fraction ?? 0
    }

    /// An interlaced PNG's passes once they are all decoded into the spill file: its rows can
    /// be read from it again (``InterlacedPNGSpill/makeReader(bandRows:)``), also after this
    /// reader (and, for bytes in memory, the bytes) are gone. Nil otherwise.
    package var passSpill: InterlacedPNGSpill? { spillReader == nil ? nil : spill }

    deinit {
        spillReader = nil
        passes = nil
        spill = nil
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
        if isInterlaced {
            while try decodeNextPassRows() {}
            if let spillReader {
                try spillReader.readRows(count, into: &band)
                rowsRead += count
                return
            }
            guard let passes else { preconditionFailure("an interlaced file is read through its spill or its passes") }
            let read = band.withUnsafeMutableBufferPointer { pixels, stride in
                Result { () throws(ImageError) in try passes.readRows(count, into: pixels, stride: stride) }
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
