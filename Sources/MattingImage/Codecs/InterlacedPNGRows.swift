import CPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The rows of an Adam7-interlaced PNG, top to bottom, without holding the picture and
/// without a temporary file: what ``ImageRowReader`` reads such a file with when its passes
/// cannot be spilled (``InterlacedPNGSpill``, one decode, is the usual way).
///
/// Adam7 stores seven reduced pictures (passes) one after the other in the compressed data,
/// each top to bottom, and every pixel is in exactly one of them. Row y takes its pixels from
/// passes 1, 2, 4, 6 (y % 8 == 0), 3, 4, 6 (y % 8 == 4), 4, 6 (y % 8 == 2 or 6) and
/// 5, 6 (y % 4 == 2), or 7 alone (y odd): each pass's next row, in order. So each non-empty
/// pass has a libpng decoder of its own over the same file or bytes
/// (`cpng_decoder_start_passes`: passes as stored, the same transformations as the whole
/// decode), which first decodes and drops the rows of the passes before it, then hands out its
/// pass's rows as the upright rows need them. Decoder k inflates the first 2^(k−1)/64 of the
/// data (passes 1–k), so a read of the whole picture decodes about 127/64 of it, twice a plain
/// file's work; what is held is seven decoders (their zlib windows and two rows each) and one row.
///
/// The pixels are the bytes of the whole decode (`cpng_decoder_read`, which combines the
/// passes): the same libpng row transformations run on each reduced row. The decoder of the
/// last non-empty pass reads to IEND after its last row, as the whole decode does, so a
/// damaged end fails here too. A file is opened again for each pass; if the path no longer
/// names the same file, the read fails ("the file changed while it was read").
final class InterlacedPNGRows {
    /// Adam7: first column and row, column and row steps, of passes 1–7.
    static let passes: [(x0: Int, y0: Int, dx: Int, dy: Int)] = [
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    ]

    /// Each pass's reduced picture (columns, rows) for a `width × height` one; (0, 0) if empty.
    static func passSizes(width: Int, height: Int) -> [(columns: Int, rows: Int)] {
        passes.map { p in
            width > p.x0 && height > p.y0 ? ((width - p.x0 + p.dx - 1) / p.dx, (height - p.y0 + p.dy - 1) / p.dy) : (0, 0)
        }
    }

    /// A decoder started with `cpng_decoder_start_passes` at its first stored row, and the
    /// file it reads from (closed with it), if any.
    final class PassDecoder {
        let decoder: OpaquePointer
        let file: UnsafeMutablePointer<FILE>?

        init(decoder: OpaquePointer, file: UnsafeMutablePointer<FILE>?) {
            self.decoder = decoder
            self.file = file
        }

        deinit {
            cpng_decoder_destroy(decoder)
            if let file { fclose(file) }
        }
    }

    let source: String
    let width: Int, height: Int, channels: Int
    /// Opens another decoder over the same file or bytes, at its first stored row.
    private let open: () throws(ImageError) -> PassDecoder
    /// The decoder of each pass once it is needed (pass 1's is the caller's, not owned).
    private var decoders: [OpaquePointer?]
    private var owned: [PassDecoder] = []
    /// Pixels across and rows down of each pass (0 when the picture is too small for it).
    private let columns: [Int], rows: [Int]
    /// The stored rows before each pass: those its decoder drops first.
    private let skips: [Int]
    private var row: [UInt8]
    /// The next upright row.
    private var next = 0

    /// - Parameters:
    ///   - first: a decoder of the file started with `cpng_decoder_start_passes`, no row read
    ///     (it reads pass 1; the caller keeps it alive and destroys it), or nil to open one.
    ///   - open: another decoder like `first`, or the error (naming `source`) why not.
    init(first: OpaquePointer?, width: Int, height: Int, channels: Int, source: String,
         open: @escaping () throws(ImageError) -> PassDecoder) {
        self.source = source
        self.width = width
        self.height = height
        self.channels = channels
        self.open = open
        let sizes = Self.passSizes(width: width, height: height)
        columns = sizes.map(\.0)
        rows = sizes.map(\.1)
        var skips: [Int] = [], before = 0
        for size in sizes {
            skips.append(before)
            before += size.1
        }
        self.skips = skips
        decoders = [first] + Array(repeating: nil, count: 6)
        row = [UInt8](repeating: 0, count: max(width * channels, 1))
    }

    /// Decodes the next `count` upright rows into `pixels`, rows `stride` bytes apart.
    ///
    /// - Throws: ``ImageError`` naming the source (truncated, corrupt, changed).
    func readRows(_ count: Int, into pixels: UnsafeMutablePointer<UInt8>, stride: Int) throws(ImageError) {
        precondition(count >= 0 && count <= height - next, "InterlacedPNGRows.readRows(\(count)): bad call")
        let rowBytes = width * channels
        for i in 0..<count {
            let y = next + i, target = pixels + i * stride
            for p in 0..<7 where rows[p] > 0 && y >= Self.passes[p].y0 && (y - Self.passes[p].y0) % Self.passes[p].dy == 0 {
                let decoder = try self.decoder(p)
                let status = row.withUnsafeMutableBytes { cpng_decoder_read_rows(decoder, $0.baseAddress, rowBytes, 1) }
                guard status == CPNG_OK else { throw failure(decoder) }
                let (x0, dx) = (Self.passes[p].x0, Self.passes[p].dx), n = columns[p], c = channels
                row.withUnsafeBufferPointer { row in
                    let from = row.baseAddress!
                    if dx == 1 {
                        (target + x0 * c).update(from: from, count: n * c)
                        return
                    }
                    var to = target + x0 * c
                    for j in 0..<n {
                        for k in 0..<c { to[k] = from[j * c + k] }
                        to += dx * c
                    }
                }
            }
        }
        next += count
    }

    /// Pass `p`'s decoder, opened and moved past the earlier passes' rows the first time.
    private func decoder(_ p: Int) throws(ImageError) -> OpaquePointer {
        if let decoder = decoders[p] { return decoder }
        let opened = try open()
        let header = cpng_decoder_header(opened.decoder)
        guard Int(header.width) == width, Int(header.height) == height, Int(header.channels) == channels,
              header.output_bit_depth == 8, header.interlaced != 0
        else { throw .corrupt(source: source, detail: "the file changed while it was read") }
        owned.append(opened)
        decoders[p] = opened.decoder
        if skips[p] > 0, cpng_decoder_read_rows(opened.decoder, nil, width * channels, UInt32(skips[p])) != CPNG_OK {
            throw failure(opened.decoder)
        }
        return opened.decoder
    }

    private func failure(_ decoder: OpaquePointer) -> ImageError {
        PNGCodec.error(cpng_decoder_status(decoder), String(cString: cpng_decoder_message(decoder)), source: source)
    }
}
