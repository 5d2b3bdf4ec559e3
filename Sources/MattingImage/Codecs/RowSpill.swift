/// Rows of a picture written top to bottom once, as a pass makes them, and read back by later
/// passes from an anonymous temporary file of the kind ``OrientationSpill`` uses (no name on
/// disk, its space reserved up front, read and written with `pread` and `pwrite`, never
/// mapped: its pages are the kernel's page cache, not the process's resident memory). The
/// strip path keeps here the rows that cost more to make again than to read back: enhanced
/// rows, a crop's matte and colours. (An interlaced PNG's rows have a spill of their own,
/// ``InterlacedPNGSpill``, its passes as stored.)
///
/// Layout: row after row, `width × channels` bytes each.
package final class RowSpill {
    /// The picture's source (errors name it).
    package let path: String
    package let width: Int
    package let height: Int
    package let layout: PixelLayout
    /// Rows written so far.
    package private(set) var rowsWritten = 0
    /// The first write that failed, if one did: nothing is written after it.
    package private(set) var failure: ImageError?
    private let file: SpillFile
    private let geometry: TileGeometry

    /// Creates the spill file for a `width × height` picture of `layout` in `directory`, its
    /// space reserved. `input` names the picture in errors.
    ///
    /// - Throws: ``ImageError/spill(input:directory:action:detail:)`` naming `input` and
    ///   `directory` when the file cannot be created or its space reserved.
    package init(width: Int, height: Int, layout: PixelLayout, input: String, directory: String, tileRows: Int = 256) throws(ImageError) {
        precondition(width > 0 && height > 0 && tileRows > 0, "RowSpill: empty picture")
        path = input
        self.width = width
        self.height = height
        self.layout = layout
        geometry = TileGeometry(width: width, height: height, channels: layout.channelCount, tileWidth: width, tileHeight: tileRows)
        file = try SpillFile(directory: directory, size: geometry.fileBytes, input: input)
    }

    /// Whether every row is written (and none failed).
    package var isComplete: Bool { failure == nil && rowsWritten == height }

    /// Writes the next `count` rows, `stride` components apart from `rows` on (``layout``,
    /// ``width`` pixels each).
    ///
    /// - Throws: ``ImageError/spill(input:directory:action:detail:)`` if the file cannot be
    ///   written (kept in ``failure``; later calls throw it again).
    package func append(_ rows: UnsafePointer<UInt8>, stride: Int, count: Int) throws(ImageError) {
        if let failure { throw failure }
        precondition(count >= 0 && count <= height - rowsWritten, "RowSpill.append(\(count)): bad call")
        let rowBytes = width * layout.channelCount, start = rowsWritten * rowBytes
        if stride == rowBytes {
            failure = file.write(UnsafeRawBufferPointer(start: rows, count: count * rowBytes), at: start)
        } else {
            for i in 0..<count where failure == nil {
                failure = file.write(UnsafeRawBufferPointer(start: rows + i * stride, count: rowBytes), at: start + i * rowBytes)
            }
        }
        if let failure { throw failure }
        rowsWritten += count
    }

    /// A reader of the rows from the top (once every row is written; as many readers as
    /// needed, each with its own position).
    package func makeReader() -> SpilledRowReader {
        precondition(isComplete, "RowSpill: \(rowsWritten) of \(height) rows written")
        return SpilledRowReader(file: file, geometry: geometry, path: path, layout: layout)
    }
}

/// The rows of another source, passed on as they are read and written to a ``RowSpill`` on
/// the way (the spill is complete once every row has been read). If the spill cannot be
/// written, the rows are still passed on: the spill is left incomplete (its ``RowSpill/failure``
/// says why) and the caller reads the rows again from their source instead.
package final class SpillingRowSource: ImageRowSource {
    private let source: any ImageRowSource
    private let spill: RowSpill
    package var path: String { source.path }
    package var width: Int { source.width }
    package var height: Int { source.height }
    package var layout: PixelLayout { source.layout }

    /// Reads `source` from its first row into `spill` (of its size and layout, no row written).
    package init(_ source: any ImageRowSource, into spill: RowSpill) {
        precondition(spill.rowsWritten == 0 && spill.width == source.width && spill.height == source.height
                     && spill.layout == source.layout, "SpillingRowSource: the spill does not fit the source")
        self.source = source
        self.spill = spill
    }

    package func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        try source.readRows(count, into: &band)
        guard spill.failure == nil else { return }
        let spill = self.spill
        band.withUnsafeBufferPointer { rows, stride in _ = try? spill.append(rows, stride: stride, count: count) }
    }
}
