#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The header facts of a PNG or JPEG read upright: the upright picture's size, the rows'
/// layout, the file's orientation and colour profile, and whether it is an interlaced PNG.
/// Sendable, so that a header read on one thread decides the path taken on another
/// (``UprightFile/init(path:options:expecting:temporaryDirectory:)`` checks the file still
/// shows it).
package struct UprightHeader: Sendable {
    package let format: ImageFormat
    /// The upright picture's size.
    package let width: Int, height: Int
    /// The rows' layout (gray, gray+alpha, RGB or RGBA).
    package let layout: PixelLayout
    /// The file's orientation (applied to the rows an ``UprightFile`` hands out).
    package let orientation: ImageOrientation
    package let colorProfile: ColorProfile?
    /// An interlaced (Adam7) PNG: its passes are decoded once into an ``InterlacedPNGSpill``,
    /// which every reading puts its rows together from.
    package let isInterlaced: Bool

    /// The header `reader` read.
    package init(_ reader: ImageRowReader) {
        format = reader.format
        (width, height) = reader.uprightSize
        layout = reader.layout
        orientation = reader.orientation
        colorProfile = reader.colorProfile
        isInterlaced = reader.isInterlaced
    }

    /// Whether the upright pixels go through an ``OrientationSpill`` (orientations 3–8).
    package var needsSpill: Bool { orientation != .up && orientation != .upMirrored }

    /// Whether `reader` (the input opened again) still shows this header.
    package func matches(_ reader: ImageRowReader) -> Bool {
        reader.layout == layout && reader.orientation == orientation && reader.uprightSize == (width, height)
    }
}

/// The upright rows of a PNG or JPEG, a file or encoded bytes in memory (an upload, never
/// written anywhere), read top to bottom as many times as needed, for the strip path of
/// `Matter` and the programs that convert or enhance a picture a band of rows at a time: the
/// rows of ``ImageBuffer/init(contentsOfFile:options:)`` (EXIF orientation applied), never
/// the whole picture held.
///
/// Upright inputs are read directly, mirrored ones (orientation 2) with each row reversed
/// (``MirroredRowReader``); turned or flipped ones (3–8) are decoded once, in
/// ``prepare(_:)``, into an ``OrientationSpill`` in `temporaryDirectory` (as large as the
/// decoded picture, unlinked, never mapped) and read back from it. An interlaced PNG's passes
/// are decoded once, in ``prepare(_:)``, into an ``InterlacedPNGSpill`` there too, and every
/// reading puts its rows together from it (if it cannot be made, each reading decodes the
/// input through one decoder per pass). A file is opened once for its header; each reading
/// after the first opens it again and checks that it still shows the same header.
package final class UprightFile {
    /// The file's path, or `<memory>` for bytes: what every error names.
    package let name: String
    package let header: UprightHeader
    package var format: ImageFormat { header.format }
    /// The upright picture's size.
    package var width: Int { header.width }
    package var height: Int { header.height }
    /// The rows' layout (gray, gray+alpha, RGB or RGBA).
    package var layout: PixelLayout { header.layout }
    /// The file's orientation (already applied to the rows).
    package var orientation: ImageOrientation { header.orientation }
    package var colorProfile: ColorProfile? { header.colorProfile }
    package var isInterlaced: Bool { header.isInterlaced }
    /// Whether the upright pixels go through a spill file (orientations 3–8).
    package var needsSpill: Bool { header.needsSpill }
    /// The parts of the work ``prepare(_:)`` does: decoding an interlaced PNG's passes,
    /// spilling a turned picture's upright pixels.
    package var preparationParts: Int { (needsSpill ? 1 : 0) + (isInterlaced ? 1 : 0) }

    /// $TMPDIR, else /tmp (as `FileManager.temporaryDirectory`), without a trailing slash:
    /// where the programs and `Matter` put their spill files.
    package static var temporaryDirectory: String {
        var directory = FileManager.default.temporaryDirectory.path
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        return directory
    }

    private enum Input {
        case file(DecodingOptions)
        case bytes([UInt8], DecodingOptions)
    }

    private let input: Input
    private let temporaryDirectory: String
    private var spill: OrientationSpill?
    /// An interlaced PNG's passes, decoded once (not for 3–8: then `spill` is read).
    private var passes: InterlacedPNGSpill?
    /// A file's reader, at its first row, for the next reading (or ``prepare(_:)``).
    private var unread: ImageRowReader?
    private var isPrepared = false

    private init(name: String, input: Input, header: UprightHeader, reader: ImageRowReader?, temporaryDirectory: String) {
        self.name = name
        self.input = input
        self.header = header
        unread = reader
        self.temporaryDirectory = temporaryDirectory
    }

    /// Opens the file at `path` and reads its header; nothing is decoded yet.
    ///
    /// - Throws: ``ImageError`` naming the file, as ``ImageRowReader/init(path:options:temporaryDirectory:)``.
    package convenience init(path: String, options: DecodingOptions = .init(), temporaryDirectory: String) throws(ImageError) {
        let reader = try ImageRowReader(path: path, options: options, temporaryDirectory: temporaryDirectory)
        self.init(name: path, input: .file(options), header: UprightHeader(reader), reader: reader,
                  temporaryDirectory: temporaryDirectory)
    }

    /// Opens the file at `path` whose header was read before (`header`) and checks that it
    /// still shows it; nothing is decoded yet.
    ///
    /// - Throws: ``ImageError`` naming the file, as ``init(path:options:temporaryDirectory:)``;
    ///   ``ImageError/corrupt(source:detail:)`` if the file no longer shows `header`.
    package convenience init(
        path: String, options: DecodingOptions = .init(), expecting header: UprightHeader, temporaryDirectory: String
    ) throws(ImageError) {
        let reader = try ImageRowReader(path: path, options: options, temporaryDirectory: temporaryDirectory)
        guard header.matches(reader) else { throw .corrupt(source: path, detail: Self.changed) }
        self.init(name: path, input: .file(options), header: header, reader: reader, temporaryDirectory: temporaryDirectory)
    }

    /// Encoded bytes in memory (an upload), whose header is read here; each reading decodes
    /// them again (they are held, never written anywhere). Errors name `<memory>`.
    ///
    /// - Throws: ``ImageError``, as ``ImageRowReader/init(bytes:source:options:temporaryDirectory:)``.
    package convenience init(bytes: [UInt8], options: DecodingOptions = .init(), temporaryDirectory: String) throws(ImageError) {
        let read = bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) -> UprightHeader in
                UprightHeader(try ImageRowReader(bytes: raw, options: options, temporaryDirectory: temporaryDirectory))
            }
        }
        self.init(bytes: bytes, options: options, expecting: try read.get(), temporaryDirectory: temporaryDirectory)
    }

    /// Encoded bytes in memory whose header was read before (`header`): each reading (and
    /// ``prepare(_:)``) checks that they show it.
    package init(bytes: [UInt8], options: DecodingOptions = .init(), expecting header: UprightHeader, temporaryDirectory: String) {
        name = CodecSource.memory
        input = .bytes(bytes, options)
        self.header = header
        self.temporaryDirectory = temporaryDirectory
    }

    private static let changed = "the file changed while it was read"

    /// Decodes an interlaced PNG's passes and spills a turned picture's upright pixels (the
    /// spill file made first, its space reserved), calling `step` with how much of that work
    /// is done (0…1, ``preparationParts`` parts) after each piece of it: `step` may throw
    /// (cancellation), and its error is thrown as it is. Bytes in memory are decoded to the
    /// end here, so that the spills need not hold them. Once only; the first reading calls it
    /// (with no `step`) if it was not called.
    ///
    /// - Throws: ``ImageError`` naming the input: a decoding error,
    ///   ``ImageError/spill(input:directory:action:detail:)`` if the orientation spill cannot
    ///   be made or written, ``ImageError/corrupt(source:detail:)`` if bytes opened again no
    ///   longer show the header; or what `step` throws.
    package func prepare(_ step: (Double) throws -> Void) throws {
        guard !isPrepared else { return }
        isPrepared = true
        guard preparationParts > 0 else { return }
        let parts = Double(preparationParts)
        func fill(_ reader: ImageRowReader) throws -> OrientationSpill? {
            let spill = needsSpill ? try OrientationSpill(reader, directory: temporaryDirectory) : nil
            if isInterlaced {
                while try reader.decodeNextPassRows() { try step(reader.passFraction / parts) }
                // Nil if the pass spill could not be made: each reading decodes the input again.
                if spill == nil { passes = reader.passSpill }
            }
            let done = isInterlaced ? 1.0 : 0.0
            while let spill, try spill.spillNextStrip() { try step((done + spill.fraction) / parts) }
            return spill
        }
        switch input {
        case .file:
            guard let reader = unread else { preconditionFailure("a file's reader is kept until it is prepared") }
            unread = nil
            spill = try fill(reader)
            // Without the pass spill, the reader (still at its first row) serves the first reading.
            if spill == nil && passes == nil { unread = reader }
        case let .bytes(bytes, options):
            spill = try bytes.withUnsafeBytes { raw in
                let reader = try ImageRowReader(bytes: raw, options: options, temporaryDirectory: temporaryDirectory)
                guard header.matches(reader) else { throw ImageError.corrupt(source: name, detail: Self.changed) }
                return try fill(reader)
            }
        }
    }

    /// Runs `body` with the upright rows from the top (``prepare(_:)`` first, if it was not
    /// called). The first reading of a file reads from the reader opened by `init`; later ones
    /// open it again (bytes: decode them again), checked against the header, or read the
    /// spill files again. The rows must not outlive `body`.
    ///
    /// - Throws: ``ImageError`` naming the input: as ``prepare(_:)``,
    ///   ``ImageError/corrupt(source:detail:)`` if the input changed since it was first
    ///   opened; or what `body` throws.
    package func withRows<R>(_ body: (any ImageRowSource) throws -> R) throws -> R {
        try prepare { _ in }
        if let spill { return try body(spill.makeReader()) }
        if let passes {
            let rows = passes.makeReader()
            return try body(orientation == .upMirrored ? MirroredRowReader(mirroring: rows) : rows)
        }
        func upright(_ reader: ImageRowReader) -> any ImageRowSource {
            orientation == .upMirrored ? MirroredRowReader(reader) : reader
        }
        switch input {
        case let .file(options):
            if let reader = unread {
                unread = nil
                return try body(upright(reader))
            }
            let reader = try ImageRowReader(path: name, options: options, temporaryDirectory: temporaryDirectory)
            guard header.matches(reader) else { throw ImageError.corrupt(source: name, detail: Self.changed) }
            return try body(upright(reader))
        case let .bytes(bytes, options):
            return try bytes.withUnsafeBytes { raw in
                let reader = try ImageRowReader(bytes: raw, options: options, temporaryDirectory: temporaryDirectory)
                guard header.matches(reader) else { throw ImageError.corrupt(source: name, detail: Self.changed) }
                return try body(upright(reader))
            }
        }
    }
}
