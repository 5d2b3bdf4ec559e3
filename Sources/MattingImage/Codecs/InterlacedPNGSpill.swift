import CPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An Adam7-interlaced PNG decoded once, its seven passes as stored, into an anonymous
/// temporary file of the kind ``OrientationSpill`` uses (no name on disk, its space reserved
/// up front, read and written with `pread` and `pwrite`, never mapped: its pages are the
/// kernel's page cache, not the process's resident memory); the picture's rows are then read
/// back top to bottom (``makeReader()``), each put together from the passes' rows, as many
/// times as needed.
///
/// Why: libpng decodes an interlaced file's passes one after the other, and the first upright
/// row needs pixels from passes 1, 2, 4, 6 and the second from pass 7, the last stored. One
/// sequential decode (`cpng_decoder_start_passes`: passes as stored, the same row
/// transformations as the whole decode, so the pixels are its bytes) writes the reduced rows
/// here; reading them back costs a few `pread`s a band, not a second decoder per pass (which
/// would inflate about 127/64 of the data, ``InterlacedPNGRows``).
///
/// Layout: the passes one after another, each pass's reduced rows one after another,
/// `columns × channels` bytes each (empty passes take no space): as stored in the PNG, so the
/// file is written front to back. It holds every pixel once: `width × height × channels` bytes.
package final class InterlacedPNGSpill {
    /// The picture's source (errors name it).
    package let path: String
    package let width: Int
    package let height: Int
    package let layout: PixelLayout
    /// Bytes of the spill file (the decoded picture's size).
    package let byteCount: Int
    /// Pixels across and rows down of each pass (0 when the picture is too small for it).
    let columns: [Int], rows: [Int]
    /// Where each pass's first row lies in the file.
    let offsets: [Int]
    let file: SpillFile
    /// The first write that failed, if one did: nothing is written after it.
    package private(set) var failure: ImageError?
    /// Stored rows decoded and bytes written so far.
    private var storedRowsDecoded = 0, bytesWritten = 0
    /// The pass and its row the next stored row is.
    private var pass = 0, passRow = 0
    /// Reduced rows gathered for one write (libpng fills a full-width row, so the last row
    /// decoded into it needs a full row of room).
    private var buffer: [UInt8]

    /// Creates the spill file for a `width × height` interlaced picture of `layout` in
    /// `directory`, its space reserved; `source` names the picture in errors.
    ///
    /// - Throws: ``ImageError/spill(input:directory:action:detail:)`` naming `source` and
    ///   `directory` when the file cannot be created or its space reserved.
    package init(width: Int, height: Int, layout: PixelLayout, source: String, directory: String,
                 bufferBytes: Int = 1 << 21) throws(ImageError) {
        precondition(width > 0 && height > 0 && bufferBytes > 0, "InterlacedPNGSpill: empty picture")
        path = source
        self.width = width
        self.height = height
        self.layout = layout
        let sizes = InterlacedPNGRows.passSizes(width: width, height: height)
        columns = sizes.map(\.0)
        rows = sizes.map(\.1)
        let channels = layout.channelCount
        var offsets: [Int] = [], total = 0
        for (c, r) in sizes {
            offsets.append(total)
            total += c * r * channels
        }
        precondition(total == width * height * channels, "Adam7 holds every pixel once")
        self.offsets = offsets
        byteCount = total
        file = try SpillFile(directory: directory, size: byteCount, input: source)
        buffer = [UInt8](repeating: 0, count: max(bufferBytes, 1) + width * channels)
        while pass < 7 && rows[pass] == 0 { pass += 1 }
    }

    /// Whether every pass is written (and no write failed).
    package var isComplete: Bool { failure == nil && bytesWritten == byteCount }

    /// How much of the picture has been decoded and written, 0…1.
    package var fraction: Double { Double(bytesWritten) / Double(byteCount) }

    /// Decodes the next stored rows from `decoder` (an interlaced file's, started with
    /// `cpng_decoder_start_passes` to give 8-bit rows of ``layout``, at the first stored row
    /// not yet written here) and writes them: about `bufferBytes` a call. False once every
    /// row is written, or when a write failed (``failure`` says why; nothing more is written).
    /// After the last row the decoder reads to IEND, as the whole decode does.
    ///
    /// - Throws: the decoder's ``ImageError`` naming ``path`` (truncated, corrupt).
    package func decodeNextRows(from decoder: OpaquePointer) throws(ImageError) -> Bool {
        guard failure == nil, pass < 7 else { return false }
        let channels = layout.channelCount, fullRow = width * channels
        var filled = 0
        var status = Int32(CPNG_OK)
        buffer.withUnsafeMutableBytes { buffer in
            let base = buffer.baseAddress!
            while pass < 7 && filled + fullRow <= buffer.count {
                guard cpng_decoder_read_rows(decoder, base + filled, fullRow, 1) == CPNG_OK else {
                    status = cpng_decoder_status(decoder)
                    return
                }
                filled += columns[pass] * channels
                storedRowsDecoded += 1
                passRow += 1
                if passRow == rows[pass] {
                    passRow = 0
                    pass += 1
                    while pass < 7 && rows[pass] == 0 { pass += 1 }
                }
            }
        }
        guard status == CPNG_OK else {
            throw PNGCodec.error(status, String(cString: cpng_decoder_message(decoder)), source: path)
        }
        failure = buffer.withUnsafeBytes { bytes in
            file.write(UnsafeRawBufferPointer(rebasing: bytes[..<filled]), at: bytesWritten)
        }
        guard failure == nil else { return false }
        bytesWritten += filled
        if pass == 7 {
            precondition(bytesWritten == byteCount, "InterlacedPNGSpill: \(bytesWritten) of \(byteCount) bytes written")
            buffer = []
        }
        return pass < 7
    }

    /// A reader of the picture's rows from the top (once every pass is written; as many
    /// readers as needed, each with its own position). `bandRows` (a multiple of 8): the
    /// upright rows whose passes' rows are read at once.
    package func makeReader(bandRows: Int = 64) -> InterlacedSpillReader {
        precondition(isComplete, "InterlacedPNGSpill: \(bytesWritten) of \(byteCount) bytes written")
        return InterlacedSpillReader(self, bandRows: bandRows)
    }
}

/// The rows of an ``InterlacedPNGSpill`` top to bottom: for a band of upright rows, each pass's
/// rows that fall in it are read at once (one `pread` a pass), and each upright row is put
/// together from them — rows with y % 8 == 0 from passes 1, 2, 4, 6, y % 8 == 4 from 3, 4, 6,
/// y % 8 == 2 or 6 from 5, 6, and odd rows from pass 7 alone.
package final class InterlacedSpillReader: ImageRowSource {
    private let spill: InterlacedPNGSpill
    package var path: String { spill.path }
    package var width: Int { spill.width }
    package var height: Int { spill.height }
    package var layout: PixelLayout { spill.layout }
    private let bandRows: Int
    private var next = 0
    /// The band whose passes' rows are in `cache`, and where each pass's rows start in it.
    private var cachedBand = -1
    private var cache: [UInt8]
    private var starts = [Int](repeating: 0, count: 7)
    /// The first pass row held for each pass.
    private var firstRows = [Int](repeating: 0, count: 7)

    init(_ spill: InterlacedPNGSpill, bandRows: Int) {
        precondition(bandRows > 0 && bandRows % 8 == 0, "InterlacedSpillReader: bands of 8k rows")
        self.spill = spill
        self.bandRows = bandRows
        cache = [UInt8](repeating: 0, count: bandRows * spill.width * spill.layout.channelCount)
    }

    package func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        precondition(count >= 0 && count <= height - next && band.layout == layout && band.width == width && band.height >= count,
                     "readRows(\(count)): bad call")
        let c = layout.channelCount
        for i in 0..<count {
            let y = next + i
            if y / bandRows != cachedBand { try load(band: y / bandRows) }
            cache.withUnsafeBufferPointer { cache in
                band.withUnsafeMutableBufferPointer { dst, stride in
                    let target = dst + i * stride
                    for p in 0..<7 {
                        let pass = InterlacedPNGRows.passes[p]
                        guard spill.rows[p] > 0, y >= pass.y0, (y - pass.y0) % pass.dy == 0 else { continue }
                        let n = spill.columns[p]
                        let from = cache.baseAddress! + starts[p] + ((y - pass.y0) / pass.dy - firstRows[p]) * n * c
                        Self.scatter(from, count: n, into: target + pass.x0 * c, step: pass.dx, channels: c)
                    }
                }
            }
        }
        next += count
    }

    /// Copies `count` pixels of `channels` bytes to every `step`-th pixel of `to`.
    @inline(__always)
    private static func scatter(_ from: UnsafePointer<UInt8>, count: Int, into to: UnsafeMutablePointer<UInt8>, step: Int, channels: Int) {
        if step == 1 {
            to.update(from: from, count: count * channels)
            return
        }
        switch channels {
        case 3:
            for j in 0..<count {
                let s = from + j * 3, d = to + j * step * 3
                d[0] = s[0]; d[1] = s[1]; d[2] = s[2]
            }
        case 4:
            for j in 0..<count {
                let s = from + j * 4, d = to + j * step * 4
                d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = s[3]
            }
        case 1:
            for j in 0..<count { to[j * step] = from[j] }
        default:
            for j in 0..<count {
                for k in 0..<channels { to[j * step * channels + k] = from[j * channels + k] }
            }
        }
    }

    /// Reads, for each pass, its rows that lie in upright rows `b·bandRows ..< (b+1)·bandRows`.
    private func load(band b: Int) throws(ImageError) {
        let y0 = b * bandRows, y1 = min(y0 + bandRows, height), c = layout.channelCount
        var at = 0
        for p in 0..<7 {
            let pass = InterlacedPNGRows.passes[p]
            starts[p] = at
            guard spill.rows[p] > 0 else { continue }
            // The pass rows r with y0 ≤ pass.y0 + r·dy < y1.
            let first = y0 <= pass.y0 ? 0 : (y0 - pass.y0 + pass.dy - 1) / pass.dy
            let end = y1 <= pass.y0 ? 0 : min(spill.rows[p], (y1 - pass.y0 + pass.dy - 1) / pass.dy)
            firstRows[p] = first
            guard end > first else { continue }
            let rowBytes = spill.columns[p] * c, bytes = (end - first) * rowBytes
            let failure = cache.withUnsafeMutableBytes { cache in
                spill.file.read(into: UnsafeMutableRawBufferPointer(rebasing: cache[at..<(at + bytes)]),
                                at: spill.offsets[p] + first * rowBytes)
            }
            if let failure { throw failure }
            at += bytes
        }
        cachedBand = b
    }
}
