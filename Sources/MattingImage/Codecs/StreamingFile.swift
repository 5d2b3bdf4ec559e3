import CJPEG
import CPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a streaming encoder's bytes go, piece by piece: a file (``AtomicFileWriter``) or
/// memory (``MemorySink``).
package protocol EncodedSink: AnyObject {
    /// How errors name the destination (a path, or `"<memory>"`).
    var name: String { get }
    /// Appends `bytes`. - Throws: ``ImageError/io(path:detail:)`` naming the destination.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError)
    /// Appends a whole encoded picture (memory takes the array without copying it).
    func write(whole bytes: [UInt8]) throws(ImageError)
    /// Makes the bytes written the destination's (a file renamed into place).
    func commit() throws(ImageError)
    /// Drops what was written; nothing happens after ``commit()``.
    func discard()
    /// Undoes a ``commit()`` (a file is removed again), when a later output of the same
    /// call failed and all or none must be left.
    func revert()
}

extension EncodedSink {
    package func write(whole bytes: [UInt8]) throws(ImageError) {
        let written = bytes.withUnsafeBytes { buffer in Result { () throws(ImageError) in try write(buffer) } }
        try written.get()
    }
}

/// Encoded bytes gathered in memory (a server's answer).
package final class MemorySink: EncodedSink {
    package let name: String
    /// The bytes written so far.
    package private(set) var bytes: [UInt8] = []

    package init(name: String = CodecSource.memory) { self.name = name }

    package func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) { self.bytes.append(contentsOf: bytes) }
    package func write(whole bytes: [UInt8]) throws(ImageError) {
        if self.bytes.isEmpty { self.bytes = bytes } else { self.bytes.append(contentsOf: bytes) }
    }
    package func commit() throws(ImageError) {}
    package func discard() { bytes = [] }
    package func revert() { bytes = [] }
}

/// A file written piece by piece with ``AtomicFile``'s guarantees: the bytes go to a new
/// temporary file beside the destination, which replaces the destination only on
/// ``commit()``. Discarded (the temporary file removed, the destination untouched) if
/// ``commit()`` is never reached or fails.
package final class AtomicFileWriter: EncodedSink {
    package let path: String
    package var name: String { path }
    private let temporary: String
    private var fd: Int32
    private var done = false

    /// - Throws: ``ImageError/io(path:detail:)`` naming `path`, as ``AtomicFile/write(_:to:)``
    ///   (a symbolic link, directory, FIFO or device at `path` is refused before anything is made).
    package init(path: String) throws(ImageError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty, name != ".", name != ".." else { throw .io(path: path, detail: "is not a file path") }
        if let refusal = try FileIO.replacementRefusal(path) { throw refusal }
        (fd, temporary) = try FileIO.createTemporaryFile(in: folder, forFileNamed: name, destination: path)
    }

    deinit { discard() }

    /// Appends `bytes`. - Throws: ``ImageError/io(path:detail:)`` naming the destination.
    package func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        precondition(!done, "AtomicFileWriter: write after commit or discard")
        var written = 0
        while written < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, detail: FileIO.reason(errno))
            }
            written += count
        }
    }

    /// Flushes the file to disk and renames it over the destination (checked again first).
    /// On failure the temporary file is removed. - Throws: ``ImageError/io(path:detail:)``.
    package func commit() throws(ImageError) {
        precondition(!done, "AtomicFileWriter: committed twice")
        done = true
        var failure: ImageError?
        if fchmod(fd, 0o644) != 0 { failure = .io(path: path, detail: FileIO.reason(errno)) }
        if failure == nil, fsync(fd) != 0 { failure = .io(path: path, detail: FileIO.reason(errno)) }
        if close(fd) != 0, failure == nil { failure = .io(path: path, detail: FileIO.reason(errno)) }
        if failure == nil {
            do throws(ImageError) { failure = try FileIO.replacementRefusal(path) } catch { failure = error }
        }
        if failure == nil, rename(temporary, path) != 0 { failure = .io(path: path, detail: FileIO.reason(errno)) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// Removes the temporary file (nothing happens after ``commit()``).
    package func discard() {
        guard !done else { return }
        done = true
        close(fd)
        unlink(temporary)
    }

    /// Removes the file a successful ``commit()`` put in place.
    package func revert() {
        guard done else { return }
        unlink(path)
    }
}

/// A PNG written to an ``EncodedSink`` (a file through ``AtomicFileWriter``, or memory) as its rows come: the same bytes as
/// ``ImageBuffer/encoded(as:options:)`` with default options (gray or RGB) or
/// `encodedPNG(withAlpha:threads:)` (RGB rows plus alpha rows), colour profile included.
package final class StreamingPNGWriter {
    private let stream: OpaquePointer
    private let file: any EncodedSink
    private let rgbAlpha: Bool

    /// - Parameters:
    ///   - layout: `.gray` for a mask, `.rgb` for opaque colours, `.rgba` for RGB rows with
    ///     separate alpha rows.
    ///   - colorProfile: written as an iCCP chunk after IHDR when it describes `layout`.
    ///   - threads: how many threads of its own the writer deflates finished bands on, while
    ///     the caller makes the next rows (1: on the caller's thread, in ``write(_:stride:alpha:alphaStride:count:)``).
    ///     The bytes do not depend on it; each thread adds about two bands (8 MB) held.
    package convenience init(
        path: String, width: Int, height: Int, layout: PixelLayout, colorProfile: ColorProfile?, threads: Int = 1
    ) throws(ImageError) {
        try self.init(sink: try AtomicFileWriter(path: path), width: width, height: height, layout: layout,
                      colorProfile: colorProfile, threads: threads)
    }

    /// A PNG written to `sink`; the other parameters as ``init(path:width:height:layout:colorProfile:threads:)``.
    ///
    /// - Parameters:
    ///   - separateAlpha: for `.rgba`, whether the rows come as RGB rows plus alpha rows
    ///     (default) or as interleaved RGBA rows (`false`). Gray+alpha rows are always interleaved.
    ///   - compressionLevel: zlib's level, 0…9, as ``EncodingOptions/pngCompressionLevel`` (the
    ///     same bytes as the whole picture encoded with that level).
    package init(
        sink: any EncodedSink, width: Int, height: Int, layout: PixelLayout, colorProfile: ColorProfile?, threads: Int = 1,
        separateAlpha: Bool = true, compressionLevel: Int = EncodingOptions().pngCompressionLevel
    ) throws(ImageError) {
        precondition((0...9).contains(compressionLevel), "StreamingPNGWriter: compression level \(compressionLevel)")
        rgbAlpha = layout == .rgba && separateAlpha
        file = sink
        guard let stream = cpng_stream_create(
            UInt32(clamping: width), UInt32(clamping: height), Int32(layout.channelCount), rgbAlpha ? 1 : 0,
            Int32(compressionLevel), Int32(clamping: max(1, threads)))
        else {
            sink.discard()
            throw .unsupportedEncoding(destination: sink.name, detail: "cannot encode a \(width)×\(height) PNG")
        }
        self.stream = stream
        // Signature and IHDR, then the profile where `PNGCodec.inserting` puts it.
        try drain()
        if let colorProfile, colorProfile.describes(layout) {
            let chunk = try PNGCodec.iccpChunk(colorProfile, destination: sink.name)
            let written = chunk.withUnsafeBytes { bytes in Result { () throws(ImageError) in try file.write(bytes) } }
            try written.get()
        }
    }

    deinit { cpng_stream_destroy(stream) }

    private func drain() throws(ImageError) {
        var size = 0
        guard let bytes = cpng_stream_output(stream, &size), size > 0 else { return }
        try file.write(UnsafeRawBufferPointer(start: bytes, count: size))
        cpng_stream_consume(stream)
    }

    /// Adds `count` rows: 8-bit rows at `pixels` (in the file's layout, or RGB for an RGBA
    /// file with separate alpha) and, for an RGBA file with separate alpha, alpha rows at `alpha`.
    package func write(
        _ pixels: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>? = nil, alphaStride: Int = 0, count: Int
    ) throws(ImageError) {
        let status = cpng_stream_write_rows(stream, pixels, stride, alpha, alphaStride, UInt32(count))
        guard status == CPNG_OK else {
            throw .unsupportedEncoding(destination: file.name, detail: "PNG encoding failed (status \(status))")
        }
        try drain()
    }

    /// Writes the end of the PNG and, if `committing`, commits the sink (renames the file into place).
    package func finish(committing: Bool = true) throws(ImageError) {
        guard cpng_stream_finish(stream) == CPNG_OK else {
            throw .unsupportedEncoding(destination: file.name, detail: "PNG encoding failed: not every row was written")
        }
        try drain()
        if committing { try file.commit() }
    }

    /// Removes the temporary file; the destination is untouched.
    package func discard() { file.discard() }
}

/// A JPEG written to an ``EncodedSink`` (a file through ``AtomicFileWriter``, or memory) as its rows come: the same bytes as
/// ``ImageBuffer/encoded(as:options:)`` with default options of the whole gray or RGB
/// picture, colour profile included. libjpeg holds only a band of MCU rows.
package final class StreamingJPEGWriter {
    private let stream: OpaquePointer
    private let file: any EncodedSink

    /// - Parameters:
    ///   - layout: `.gray` or `.rgb`.
    ///   - colorProfile: written in APP2 markers after APP0, as ``ImageBuffer/encoded(as:options:)``
    ///     does; it must describe `layout`.
    /// - Throws: ``ImageError/unsupportedEncoding(destination:detail:)`` for sides over 65500
    ///   pixels or a profile of another colour space; ``ImageError/io(path:detail:)`` as
    ///   ``AtomicFileWriter``.
    package convenience init(path: String, width: Int, height: Int, layout: PixelLayout, colorProfile: ColorProfile?) throws(ImageError) {
        try self.init(sink: { () throws(ImageError) in try AtomicFileWriter(path: path) }, name: path,
                      width: width, height: height, layout: layout, colorProfile: colorProfile,
                      quality: EncodingOptions().jpegQuality)
    }

    /// A JPEG written to `sink`; the other parameters as ``init(path:width:height:layout:colorProfile:)``.
    ///
    /// - Parameter quality: libjpeg's quality, 1…100, as ``EncodingOptions/jpegQuality`` (the
    ///   same bytes as the whole picture encoded with that quality).
    package convenience init(
        sink: any EncodedSink, width: Int, height: Int, layout: PixelLayout, colorProfile: ColorProfile?,
        quality: Int = EncodingOptions().jpegQuality
    ) throws(ImageError) {
        do {
            try self.init(sink: { () throws(ImageError) in sink }, name: sink.name,
                          width: width, height: height, layout: layout, colorProfile: colorProfile, quality: quality)
        } catch {
            sink.discard()
            throw error
        }
    }

    /// The sink is made (a file created) only once the picture is known to be encodable.
    private init(
        sink makeSink: () throws(ImageError) -> any EncodedSink, name path: String, width: Int, height: Int, layout: PixelLayout,
        colorProfile: ColorProfile?, quality: Int
    ) throws(ImageError) {
        precondition(layout == .gray || layout == .rgb)
        precondition((1...100).contains(quality), "StreamingJPEGWriter: quality \(quality)")
        guard width <= 65500, height <= 65500 else {
            throw .unsupportedEncoding(destination: path, detail: "JPEG sides are limited to 65500 pixels; this is \(width)×\(height)")
        }
        if let colorProfile, !colorProfile.describes(layout) {
            throw .unsupportedEncoding(
                destination: path, detail: "the colour profile describes \(colorProfile.colorSpace) pixels, this picture is \(layout)")
        }
        guard let stream = cjpeg_stream_create(
            UInt32(width), UInt32(height), Int32(layout.channelCount), Int32(quality))
        else {
            throw .unsupportedEncoding(destination: path, detail: "cannot encode a \(width)×\(height) JPEG")
        }
        self.stream = stream
        do {
            try Self.check(stream, path: path)
            file = try makeSink()
        } catch {
            cjpeg_stream_destroy(stream)
            throw error
        }
        // SOI and APP0 so far; the profile goes right after them.
        var size = 0
        let start = cjpeg_stream_output(stream, &size)
        var header = Array(UnsafeBufferPointer(start: start, count: size))
        cjpeg_stream_consume(stream)
        if let colorProfile { header = JPEGCodec.inserting(colorProfile, into: header) }
        let written = header.withUnsafeBytes { bytes in Result { () throws(ImageError) in try file.write(bytes) } }
        try written.get()
    }

    deinit { cjpeg_stream_destroy(stream) }

    private static func check(_ stream: OpaquePointer, path: String) throws(ImageError) {
        let status = cjpeg_stream_status(stream)
        guard status == CJPEG_OK else {
            throw .unsupportedEncoding(destination: path, detail: "JPEG: " + String(cString: cjpeg_stream_message(stream)))
        }
    }

    private func drain() throws(ImageError) {
        var size = 0
        guard let bytes = cjpeg_stream_output(stream, &size), size > 0 else { return }
        try file.write(UnsafeRawBufferPointer(start: bytes, count: size))
        cjpeg_stream_consume(stream)
    }

    /// Adds `count` rows of 8-bit samples at `pixels`, `stride` bytes apart.
    package func write(_ pixels: UnsafePointer<UInt8>, stride: Int, count: Int) throws(ImageError) {
        guard cjpeg_stream_write_rows(stream, pixels, stride, UInt32(count)) == CJPEG_OK else {
            try Self.check(stream, path: file.name)
            throw .unsupportedEncoding(destination: file.name, detail: "JPEG encoding failed: rows beyond the picture")
        }
        try drain()
    }

    /// Writes the end of the JPEG and, if `committing`, commits the sink (renames the file into place).
    package func finish(committing: Bool = true) throws(ImageError) {
        guard cjpeg_stream_finish(stream) == CJPEG_OK else {
            let status = cjpeg_stream_status(stream)
            throw .unsupportedEncoding(
                destination: file.name,
                detail: status == CJPEG_OK ? "JPEG encoding failed: not every row was written"
                    : "JPEG: " + String(cString: cjpeg_stream_message(stream)))
        }
        try drain()
        if committing { try file.commit() }
    }

    /// Removes the temporary file; the destination is untouched.
    package func discard() { file.discard() }
}
