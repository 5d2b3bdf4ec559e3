#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rows of a picture delivered top to bottom, a batch at a time: a file's rows as stored
/// (``ImageRowReader``), or the upright picture's rows (``MirroredRowReader``,
/// ``OrientationSpill/makeReader()``).
package protocol ImageRowSource: AnyObject {
    /// The file the rows come from (errors name it).
    var path: String { get }
    var width: Int { get }
    var height: Int { get }
    var layout: PixelLayout { get }
    /// Delivers the next `count` rows into rows `0..<count` of `band` (``layout``, width
    /// ``width``, at least `count` rows).
    func readRows(_ count: Int, into band: inout Image) throws(ImageError)
}

extension ImageRowReader: ImageRowSource {}

/// A file of EXIF orientation 2 (mirrored left–right) read upright, a batch of rows at a
/// time: each row the file delivers is reversed, so no temporary file is needed. The rows are
/// those of ``ImageBuffer/flippedHorizontally()`` of the stored picture.
package final class MirroredRowReader: ImageRowSource {
    private let reader: any ImageRowSource
    package var path: String { reader.path }
    package var width: Int { reader.width }
    package var height: Int { reader.height }
    package var layout: PixelLayout { reader.layout }

    package init(_ reader: ImageRowReader) {
        precondition(reader.orientation == .upMirrored, "MirroredRowReader: not a mirrored file")
        self.reader = reader
    }

    /// The rows of `rows` (a mirrored file's rows as stored, read another way: its
    /// ``InterlacedPNGSpill``), each reversed.
    package init(mirroring rows: any ImageRowSource) {
        reader = rows
    }

    package func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        try reader.readRows(count, into: &band)
        let w = width, channels = layout.channelCount
        band.withUnsafeMutableBufferPointer { pixels, stride in
            for y in 0..<count {
                let row = pixels + y * stride
                var left = 0, right = w - 1
                while left < right {
                    for c in 0..<channels {
                        let t = row[left * channels + c]
                        row[left * channels + c] = row[right * channels + c]
                        row[right * channels + c] = t
                    }
                    left += 1
                    right -= 1
                }
            }
        }
    }
}

/// The upright pixels of a file whose EXIF orientation is not upright, spilled to an
/// anonymous temporary file so that they can be read back top to bottom, a band of rows at a
/// time, without holding the picture.
///
/// Why a file: libjpeg and libpng decode top to bottom only, and the upright picture's first
/// row is the file's last row (orientations 3, 4) or its first or last column (5–8, a quarter
/// turn): no band of upright rows exists before the whole file is decoded.
///
/// The file is created in `directory` without a name (Linux `O_TMPFILE`), or where that is not
/// supported under a fresh random name with `O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600, and
/// unlinked at once; it is never mapped (its pages are the kernel's page cache, not this
/// process's resident memory), only read and written with `pread` and `pwrite`. Its space is
/// reserved up front (`posix_fallocate`), so a full disk fails before any decoding. Nothing
/// is left behind when the process ends, even by a crash (beyond, for the named fallback, the
/// instant between creating and unlinking it).
///
/// Layout: the upright picture in tiles, chosen so that a decoded strip of the file is one
/// contiguous write and a band of upright rows a few large reads. For a quarter turn (5–8) a
/// strip of `tileSide` file rows is a band of `tileSide` upright *columns*: the tiles are
/// `tileSide × tileSide`, stored column of tiles after column of tiles. For 2–4 a strip of
/// file rows is a band of upright rows: one tile per band, the full width. The strips are cut
/// so that each fills exactly one column (or row) of tiles.
package final class OrientationSpill {
    /// The input file (every error names it).
    package let path: String
    /// The upright picture's size.
    package let width: Int
    package let height: Int
    package let layout: PixelLayout
    package let orientation: ImageOrientation
    /// Bytes of the spill file.
    package let byteCount: Int

    /// The decoder, until the last strip is spilled: then it is dropped, so that a reader of
    /// bytes in memory (an upload) need only stay valid while the spill is made.
    private var reader: ImageRowReader?
    private let file: SpillFile
    private let geometry: TileGeometry
    /// The stored rows each strip decodes, in order.
    private let strips: [Int]
    private var spilled = 0
    private var band: Image
    private var tiles: [UInt8]

    /// Creates the spill file for `reader` (a file whose orientation is neither up nor
    /// mirrored, no rows read yet) in `directory`, with its space reserved.
    ///
    /// - Throws: ``ImageError/spill(input:directory:action:detail:)`` naming the input file and
    ///   the folder when the temporary spill file cannot be created or its space reserved.
    package init(_ reader: ImageRowReader, directory: String, tileSide: Int = 256) throws(ImageError) {
        precondition(reader.rowsRead == 0 && tileSide > 0, "OrientationSpill: bad reader")
        self.reader = reader
        path = reader.path
        orientation = reader.orientation
        layout = reader.layout
        let swaps = reader.orientation.swapsDimensions
        (width, height) = reader.uprightSize
        geometry = TileGeometry(width: width, height: height, channels: layout.channelCount,
                                tileWidth: swaps ? tileSide : width, tileHeight: tileSide)
        // Strips of stored rows that each fill one column (quarter turns) or row of tiles:
        // when the file's first row lands at the far end (3, 4, 6, 7), the first strip is the
        // remainder.
        let H = reader.height
        let reversed: Bool = switch reader.orientation {
        case .down, .downMirrored, .right, .rightMirrored: true
        default: false
        }
        var strips = [Int](repeating: tileSide, count: H / tileSide)
        if H % tileSide != 0 { if reversed { strips.insert(H % tileSide, at: 0) } else { strips.append(H % tileSide) } }
        self.strips = strips
        byteCount = geometry.fileBytes
        file = try SpillFile(directory: directory, size: byteCount, input: path)
        band = Image(width: reader.width, height: min(tileSide, max(H, 1)), layout: layout)
        tiles = [UInt8](repeating: 0, count: geometry.tileBytes * (swaps ? geometry.tilesDown : 1))
    }

    /// How much of the file has been spilled, 0…1.
    package var fraction: Double { strips.isEmpty ? 1 : Double(spilled) / Double(strips.count) }

    /// Decodes the next strip of the file and writes its upright pixels; false once every
    /// strip is written (call until then, checking for cancellation in between). The decoder
    /// is dropped after the last strip.
    ///
    /// - Throws: the decoder's ``ImageError`` naming the file;
    ///   ``ImageError/spill(input:directory:action:detail:)`` if the spill file cannot be written.
    package func spillNextStrip() throws(ImageError) -> Bool {
        guard spilled < strips.count, let reader else { return false }
        let y0 = reader.rowsRead, n = strips[spilled]
        try reader.readRows(n, into: &band)
        let g = geometry, channels = layout.channelCount
        let Ws = reader.width, Hs = reader.height, o = orientation
        // The stored pixel shown at upright (x, y), as ImageBuffer.applyingOrientation defines it.
        func source(_ x: Int, _ y: Int) -> (Int, Int) {
            switch o {
            case .up: (x, y)
            case .upMirrored: (Ws - 1 - x, y)
            case .down: (Ws - 1 - x, Hs - 1 - y)
            case .downMirrored: (x, Hs - 1 - y)
            case .leftMirrored: (y, x)
            case .right: (y, Hs - 1 - x)
            case .rightMirrored: (Ws - 1 - y, Hs - 1 - x)
            case .left: (Ws - 1 - y, x)
            }
        }
        // The upright rectangle this strip covers: columns (quarter turn) or rows of it.
        let columns: Range<Int>, rows: Range<Int>
        let first: Int = switch o {
        case .down, .downMirrored: Hs - y0 - n
        case .right, .rightMirrored: Hs - y0 - n
        default: y0
        }
        if o.swapsDimensions { columns = first..<(first + n); rows = 0..<height } else { columns = 0..<width; rows = first..<(first + n) }
        let tx = columns.lowerBound / g.tileWidth, ty0 = rows.lowerBound / g.tileHeight
        precondition(columns.lowerBound % g.tileWidth == 0 && rows.lowerBound % g.tileHeight == 0, "strips fill whole tiles")
        band.withUnsafeBufferPointer { src, srcStride in
            tiles.withUnsafeMutableBufferPointer { tiles in
                let dst = tiles.baseAddress!
                for y in rows {
                    // Along an upright row the stored pixels are a fixed step apart.
                    let (sx, sy) = source(columns.lowerBound, y)
                    let start = (sy - y0) * srcStride + sx * channels
                    var step = 0
                    if columns.count > 1 {
                        let (sx1, sy1) = source(columns.lowerBound + 1, y)
                        step = (sy1 - y0) * srcStride + sx1 * channels - start
                    }
                    let tile = y / g.tileHeight - ty0, r = y % g.tileHeight
                    let to = dst + tile * g.tileBytes + r * g.tileWidth * channels + (columns.lowerBound - tx * g.tileWidth) * channels
                    var from = src + start
                    for i in 0..<columns.count {
                        for c in 0..<channels { to[i * channels + c] = from[c] }
                        from += step
                    }
                }
            }
        }
        let tileCount = o.swapsDimensions ? g.tilesDown : 1
        let failure = tiles.withUnsafeBytes { bytes in
            file.write(UnsafeRawBufferPointer(rebasing: bytes[..<(tileCount * g.tileBytes)]), at: g.offset(tileX: tx, tileY: ty0))
        }
        if let failure { throw failure }
        spilled += 1
        if spilled == strips.count { band = Image(width: 1, height: 1, layout: layout); tiles = []; self.reader = nil }
        return spilled < strips.count
    }

    /// A reader of the upright rows from the top (call after the last strip is spilled; as
    /// many readers as needed, each with its own position).
    package func makeReader() -> SpilledRowReader {
        precondition(spilled == strips.count, "OrientationSpill: not spilled yet")
        return SpilledRowReader(file: file, geometry: geometry, path: path, layout: layout)
    }
}

/// The upright rows of an ``OrientationSpill``, read back top to bottom: a band of tile rows
/// is read (one `pread` a tile) and the rows handed out from it.
package final class SpilledRowReader: ImageRowSource {
    package let path: String
    package let layout: PixelLayout
    package var width: Int { geometry.width }
    package var height: Int { geometry.height }
    private let file: SpillFile
    private let geometry: TileGeometry
    private var next = 0
    /// The upright rows of tile row `cachedTileRow`, `width × channels` bytes each.
    private var cache: [UInt8]
    private var cachedTileRow = -1
    private var tile: [UInt8]

    init(file: SpillFile, geometry: TileGeometry, path: String, layout: PixelLayout) {
        self.file = file
        self.geometry = geometry
        self.path = path
        self.layout = layout
        cache = [UInt8](repeating: 0, count: geometry.tileHeight * geometry.width * geometry.channels)
        tile = [UInt8](repeating: 0, count: geometry.tileWidth == geometry.width ? 0 : geometry.tileBytes)
    }

    package func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        precondition(count >= 0 && count <= height - next && band.layout == layout && band.width == width && band.height >= count,
                     "readRows(\(count)): bad call")
        let g = geometry, rowBytes = g.width * g.channels
        for i in 0..<count {
            let y = next + i
            if y / g.tileHeight != cachedTileRow { try load(tileRow: y / g.tileHeight) }
            let r = y % g.tileHeight
            cache.withUnsafeBufferPointer { cache in
                band.withUnsafeMutableBufferPointer { dst, stride in
                    (dst + i * stride).update(from: cache.baseAddress! + r * rowBytes, count: rowBytes)
                }
            }
        }
        next += count
    }

    /// Passes over the next `count` rows without reading them (as many as are left at most).
    package func skipRows(_ count: Int) {
        precondition(count >= 0 && count <= height - next, "skipRows(\(count)): bad call")
        next += count
    }

    private func load(tileRow ty: Int) throws(ImageError) {
        let g = geometry, channels = g.channels
        let rows = min(g.tileHeight, g.height - ty * g.tileHeight)
        if g.tileWidth == g.width {
            // A tile is the band's rows, full width: read straight into the cache.
            let failure = cache.withUnsafeMutableBytes { bytes in
                file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<(rows * g.tileWidth * channels)]),
                          at: g.offset(tileX: 0, tileY: ty))
            }
            if let failure { throw failure }
        } else {
            for tx in 0..<g.tilesAcross {
                let failure = tile.withUnsafeMutableBytes { bytes in
                    file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<(rows * g.tileWidth * channels)]),
                              at: g.offset(tileX: tx, tileY: ty))
                }
                if let failure { throw failure }
                let x0 = tx * g.tileWidth, columns = min(g.tileWidth, g.width - x0)
                tile.withUnsafeBufferPointer { tile in
                    cache.withUnsafeMutableBufferPointer { cache in
                        for r in 0..<rows {
                            (cache.baseAddress! + (r * g.width + x0) * channels)
                                .update(from: tile.baseAddress! + r * g.tileWidth * channels, count: columns * channels)
                        }
                    }
                }
            }
        }
        cachedTileRow = ty
    }
}

/// Where the tiles of the upright picture lie in the spill file: tile (tx, ty) of
/// `tileWidth × tileHeight` pixels (row-major inside), columns of tiles one after another.
struct TileGeometry {
    let width: Int, height: Int, channels: Int, tileWidth: Int, tileHeight: Int
    var tilesAcross: Int { (width + tileWidth - 1) / tileWidth }
    var tilesDown: Int { (height + tileHeight - 1) / tileHeight }
    var tileBytes: Int { tileWidth * tileHeight * channels }
    var fileBytes: Int { tilesAcross * tilesDown * tileBytes }
    func offset(tileX: Int, tileY: Int) -> Int { (tileX * tilesDown + tileY) * tileBytes }
}

/// An unlinked temporary file, read and written at offsets; closed on deinit.
final class SpillFile {
    let fd: Int32
    let input: String
    let directory: String

    init(directory: String, size: Int, input: String) throws(ImageError) {
        self.input = input
        self.directory = directory
        func failure(_ code: Int32) -> ImageError {
            .spill(input: input, directory: directory, action: "create", detail: FileIO.reason(code))
        }
        var fd: Int32 = -1
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        // O_TMPFILE (not imported into Swift): __O_TMPFILE | O_DIRECTORY, the value on these
        // architectures. Filesystems or kernels without it fail with EOPNOTSUPP or EISDIR.
        fd = open(directory, 0o20000000 | O_DIRECTORY | O_RDWR | O_EXCL | O_CLOEXEC, 0o600)
        #endif
        if fd < 0 {
            let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<100 {
                let suffix = String(decoding: (0..<12).map { _ in letters.randomElement(using: &generator)! }, as: UTF8.self)
                let name = "\(directory)/.mattingkit-spill-\(suffix)"
                fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                if fd >= 0 { unlink(name); break }
                if errno != EEXIST { throw failure(errno) }
            }
            guard fd >= 0 else { throw failure(EEXIST) }
        }
        self.fd = fd
        // Reserve the space now: a full disk fails here, before the decoding, not midway.
        #if os(Linux)
        let reserved = posix_fallocate(fd, 0, off_t(size))
        #else
        let reserved = EOPNOTSUPP
        #endif
        if reserved != 0 && reserved != EOPNOTSUPP && reserved != EINVAL {
            close(fd)
            throw .spill(input: input, directory: directory, action: "reserve \(size) bytes for", detail: FileIO.reason(reserved))
        }
        if reserved != 0, ftruncate(fd, off_t(size)) != 0 {
            let code = errno
            close(fd)
            throw failure(code)
        }
    }

    deinit { close(fd) }

    /// Writes all of `bytes` at `offset`; the error naming the input, or nil.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> ImageError? {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                return .spill(input: input, directory: directory, action: "write", detail: FileIO.reason(n < 0 ? errno : EIO))
            }
            done += n
        }
        return nil
    }

    /// Fills `bytes` from `offset`; the error naming the input, or nil.
    func read(into bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> ImageError? {
        var done = 0
        while done < bytes.count {
            let n = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                return .spill(input: input, directory: directory, action: "read", detail: n < 0 ? FileIO.reason(errno) : "it ended early")
            }
            done += n
        }
        return nil
    }
}
