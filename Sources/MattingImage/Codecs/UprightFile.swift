/// The upright rows of a PNG or JPEG file, read top to bottom as many times as needed, for
/// programs that convert or enhance a picture a band of rows at a time: the rows of
/// ``ImageBuffer/init(contentsOfFile:options:)`` (EXIF orientation applied), never the whole
/// picture held.
///
/// Upright files are read directly, mirrored ones (orientation 2) with each row reversed
/// (``MirroredRowReader``); turned or flipped ones (3–8) are decoded once into an
/// ``OrientationSpill`` in `temporaryDirectory` (as large as the decoded picture, unlinked,
/// never mapped) on the first reading and read back from it. An interlaced PNG's passes are
/// decoded once, on the first reading, into an ``InterlacedPNGSpill`` there too, and every
/// reading puts its rows together from it (if it cannot be made, each reading decodes the
/// file through one decoder per pass). Each other reading after the first opens the file
/// again and checks that it still shows the same header.
package final class UprightFile {
    package let path: String
    package let format: ImageFormat
    /// The upright picture's size.
    package let width: Int
    package let height: Int
    /// The rows' layout (gray, gray+alpha, RGB or RGBA).
    package let layout: PixelLayout
    /// The file's orientation (already applied to the rows).
    package let orientation: ImageOrientation
    package let colorProfile: ColorProfile?
    /// Whether the upright pixels go through a spill file (orientations 3–8).
    package var needsSpill: Bool { orientation != .up && orientation != .upMirrored }

    private let options: DecodingOptions
    private let temporaryDirectory: String
    private var spill: OrientationSpill?
    /// An interlaced PNG's passes, decoded once (not for 3–8: then `spill` is read).
    private var passes: InterlacedPNGSpill?
    /// The reader opened for the header, used by the first ``rows()``.
    private var unread: ImageRowReader?

    /// Opens the file at `path` and reads its header; nothing is decoded yet.
    ///
    /// - Throws: ``ImageError`` naming the file, as ``ImageRowReader/init(path:options:)``.
    package init(path: String, options: DecodingOptions = .init(), temporaryDirectory: String) throws(ImageError) {
        let reader = try ImageRowReader(path: path, options: options, temporaryDirectory: temporaryDirectory)
        self.path = path
        format = reader.format
        self.options = options
        self.temporaryDirectory = temporaryDirectory
        (width, height) = reader.uprightSize
        layout = reader.layout
        orientation = reader.orientation
        colorProfile = reader.colorProfile
        unread = reader
    }

    /// The upright rows from the top. The first call reads from the reader opened by `init`
    /// (for orientations 3–8 it first decodes the whole file into the spill file, for an
    /// interlaced PNG its passes into theirs); later calls open the file again (or read the
    /// spill file again).
    ///
    /// - Throws: ``ImageError`` naming the file: a decoding error while spilling,
    ///   ``ImageError/spill(input:directory:action:detail:)`` if the spill file cannot be made or written,
    ///   ``ImageError/corrupt(source:detail:)`` if the file changed since it was first opened.
    package func rows() throws(ImageError) -> any ImageRowSource {
        if let spill { return spill.makeReader() }
        if let passes {
            let rows = passes.makeReader()
            return orientation == .upMirrored ? MirroredRowReader(mirroring: rows) : rows
        }
        let reader: ImageRowReader
        if let unread {
            reader = unread
            self.unread = nil
        } else {
            reader = try ImageRowReader(path: path, options: options, temporaryDirectory: temporaryDirectory)
            guard reader.layout == layout, reader.orientation == orientation, reader.uprightSize == (width, height)
            else { throw .corrupt(source: path, detail: "the file changed while it was read") }
        }
        // An interlaced PNG's passes: decoded now, kept for the next readings.
        while try reader.decodeNextPassRows() {}
        if !needsSpill { passes = reader.passSpill }
        if needsSpill {
            let spill = try OrientationSpill(reader, directory: temporaryDirectory)
            while try spill.spillNextStrip() {}
            self.spill = spill
            return spill.makeReader()
        }
        return orientation == .upMirrored ? MirroredRowReader(reader) : reader
    }
}
