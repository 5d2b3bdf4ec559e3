import MattingThreads

/// ``Enhancement`` for a picture read a band of rows at a time (the strip path), in two passes
/// over its rows, with the bytes of ``Enhancement/applied(to:)`` on the whole picture.
///
/// CLAHE maps each pixel through its tiles' histograms, which span the whole picture, so the
/// rows are read twice: first every row is handed to ``add(_:count:)``, which counts each
/// pixel's 8-bit lightness into the tile histograms (a few kilobytes, whatever the size);
/// then ``rows(from:pool:)`` wraps a new reading of the picture and yields its enhanced rows,
/// equalised and sharpened row by row with one row of look-ahead. Each row is computed by the
/// same code as the whole-picture path (`CLAHE.Histograms`, `CLAHE.Mapping`, and the row
/// kernels of ``Enhancement``), so the bytes are the same.
///
/// The rows are converted to ``layout`` first (as `converted(to:)`); the strip path uses
/// `.rgb`, as the matting pipeline converts the photo before enhancing it.
package struct RowEnhancement: Sendable {
    package let enhancement: Enhancement
    package let width: Int, height: Int
    package let layout: PixelLayout
    private var histograms: CLAHE.Histograms?
    private var rowsAdded = 0

    /// Ready for the first pass over a `width × height` picture (not empty) enhanced in `layout`.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` if the CLAHE grid is invalid.
    package init(_ enhancement: Enhancement, width: Int, height: Int, layout: PixelLayout) throws(ImageError) {
        precondition(width > 0 && height > 0, "RowEnhancement: empty picture")
        try enhancement.clahe?.checkGrid()
        self.enhancement = enhancement
        self.width = width
        self.height = height
        self.layout = layout
        histograms = enhancement.clahe.map { CLAHE.Histograms($0, width: width, height: height) }
    }

    /// Whether the first pass is needed at all (no CLAHE: the rows can be enhanced at once).
    package var needsFirstPass: Bool { histograms != nil }

    /// Whether every row has been added.
    package var isComplete: Bool { histograms == nil || rowsAdded == height }

    /// First pass: counts the next `count` rows of the picture, rows `0..<count` of `band`
    /// (any layout; converted to ``layout`` as the whole path converts the picture). The
    /// rows' lightness is computed on `pool`'s threads; the counts do not depend on them.
    package mutating func add(_ band: Image, count: Int, pool: ThreadPool = .serial) {
        guard histograms != nil else { return }
        precondition(count >= 0 && count <= height - rowsAdded && band.width == width && band.height >= count,
                     "RowEnhancement.add: bad band")
        if count == 0 { return }
        let rows = Self.rows(band, count: count, as: layout)
        let channels = layout.channelCount, width = self.width, isColor = layout.isColor
        var lightness = [UInt8](repeating: 0, count: width * count)
        rows.withUnsafeBufferPointer { src, stride in
            lightness.withUnsafeMutableBufferPointer { l in
                let l = l.baseAddress!
                pool.parallelChunks(count) { chunk in
                    for i in chunk {
                        let row = src + i * stride, out = l + i * width
                        if isColor {
                            Enhancement.lightness(row, channels: channels, width: width, into: out)
                        } else {
                            for x in 0..<width { out[x] = row[x * channels] }
                        }
                    }
                }
            }
        }
        let firstRow = rowsAdded
        lightness.withUnsafeBufferPointer { l in
            for i in 0..<count { histograms!.add(l.baseAddress! + i * width, row: firstRow + i) }
        }
        rowsAdded += count
    }

    /// Second pass: the enhanced rows of `source` (a new reading of the same picture, from
    /// its first row), in ``layout``, each batch's rows equalised and sharpened on `pool`'s
    /// threads (the bytes do not depend on them).
    ///
    /// - Precondition: every row was added (``isComplete``) and `source` has this size.
    package func rows(from source: any ImageRowSource, pool: ThreadPool = .serial) -> EnhancedRowSource {
        precondition(isComplete, "RowEnhancement: the first pass saw \(rowsAdded) of \(height) rows")
        precondition(source.width == width && source.height == height, "RowEnhancement: the source's size changed")
        return EnhancedRowSource(source, layout: layout, mapping: histograms?.mapping(), sharpen: enhancement.sharpen, pool: pool)
    }

    /// Rows `0..<count` of `band` in `layout`.
    static func rows(_ band: Image, count: Int, as layout: PixelLayout) -> Image {
        let rows = count == band.height ? band : band.cropped(to: ImageRect(x: 0, y: 0, width: band.width, height: count))
        return rows.converted(to: layout)
    }
}

/// The enhanced rows of a picture read from another row source (see ``RowEnhancement``):
/// each batch read from the source (plus one row ahead, for the sharpen) is converted to
/// ``layout``, its lightness equalised through the tiles' mappings, and the rows sharpened
/// with the rows above and below them. Holds three rows more than a batch.
package final class EnhancedRowSource: ImageRowSource {
    package var path: String { source.path }
    package let width: Int, height: Int
    package let layout: PixelLayout
    private let source: any ImageRowSource
    private let mapping: CLAHE.Mapping?
    private let sharpen: Bool
    /// The source's rows, in its layout.
    private var input: Image
    /// Equalised rows `firstLine..<read` of the picture.
    private var lines: Image
    private var firstLine = 0, read = 0, next = 0
    private let pool: ThreadPool

    fileprivate init(_ source: any ImageRowSource, layout: PixelLayout, mapping: CLAHE.Mapping?, sharpen: Bool, pool: ThreadPool) {
        self.source = source
        self.layout = layout
        self.mapping = mapping
        self.sharpen = sharpen
        self.pool = pool
        width = source.width
        height = source.height
        input = Image(width: width, height: 1, layout: source.layout)
        lines = Image(width: width, height: 1, layout: layout)
    }

    package func readRows(_ count: Int, into band: inout Image) throws(ImageError) {
        precondition(count >= 0 && count <= height - next && band.layout == layout && band.width == width && band.height >= count,
                     "EnhancedRowSource.readRows(\(count)): bad call")
        if count == 0 { return }
        // The sharpen needs the row below the batch's last (mirrored at the bottom: above it).
        let target = min(height, next + count + (sharpen ? 1 : 0))
        let fresh = target - read
        if target - firstLine > lines.height {
            var grown = Image(width: width, height: target - firstLine, layout: layout)
            let kept = read - firstLine, rowLength = width * layout.channelCount
            lines.withUnsafeBufferPointer { src, srcStride in
                grown.withUnsafeMutableBufferPointer { dst, dstStride in
                    for i in 0..<kept { (dst + i * dstStride).update(from: src + i * srcStride, count: rowLength) }
                }
            }
            lines = grown
        }
        if fresh > 0 {
            if fresh > input.height { input = Image(width: width, height: fresh, layout: source.layout) }
            try source.readRows(fresh, into: &input)
            let rows = RowEnhancement.rows(input, count: fresh, as: layout)
            let offset = read - firstLine, rowLength = width * layout.channelCount, firstY = read
            rows.withUnsafeBufferPointer { src, srcStride in
                lines.withUnsafeMutableBufferPointer { dst, dstStride in
                    pool.parallelChunks(fresh) { chunk in
                        var scratch = EqualizeScratch(width: self.mapping == nil ? 0 : self.width)
                        for i in chunk {
                            let row = dst + (offset + i) * dstStride
                            row.update(from: src + i * srcStride, count: rowLength)
                            equalize(row, y: firstY + i, scratch: &scratch)
                        }
                    }
                }
            }
            read = target
        }
        let first = firstLine, height = self.height, width = self.width, layout = self.layout, sharpen = self.sharpen
        let rowLength = width * layout.channelCount
        lines.withUnsafeBufferPointer { src, srcStride in
            band.withUnsafeMutableBufferPointer { dst, dstStride in
                let next = self.next
                pool.parallelChunks(count) { chunk in
                    for i in chunk {
                        let y = next + i, d = dst + i * dstStride
                        let row = src + (y - first) * srcStride
                        d.update(from: row, count: rowLength)
                        if sharpen {
                            Enhancement.sharpen(
                                row, above: src + (Enhancement.reflect(y - 1, height) - first) * srcStride,
                                below: src + (Enhancement.reflect(y + 1, height) - first) * srcStride,
                                into: d, width: width, layout: layout)
                        }
                    }
                }
            }
        }
        next += count
        // Keep the row above the next batch's first (and the one read ahead).
        let keepFrom = sharpen ? next - 1 : read
        if keepFrom > firstLine {
            let shift = keepFrom - firstLine, kept = read - keepFrom
            lines.withUnsafeMutableBufferPointer { rows, stride in
                for i in 0..<kept { (rows + i * stride).update(from: rows + (shift + i) * stride, count: rowLength) }
            }
            firstLine = keepFrom
        }
    }

    /// One thread's rows for ``equalize(_:y:scratch:)``.
    private struct EqualizeScratch {
        var lightness: [UInt8], mapped: [UInt8], ab: [UInt8]
        init(width: Int) {
            lightness = [UInt8](repeating: 0, count: width)
            mapped = [UInt8](repeating: 0, count: width)
            ab = [UInt8](repeating: 0, count: 2 * width)
        }
    }

    /// Equalises the lightness of row `y`, in place.
    private func equalize(_ row: UnsafeMutablePointer<UInt8>, y: Int, scratch: inout EqualizeScratch) {
        guard let mapping else { return }
        let channels = layout.channelCount, width = self.width, isColor = layout.isColor
        scratch.lightness.withUnsafeMutableBufferPointer { l in
            scratch.mapped.withUnsafeMutableBufferPointer { m in
                scratch.ab.withUnsafeMutableBufferPointer { ab in
                    let l = l.baseAddress!, m = m.baseAddress!, ab = ab.baseAddress!
                    if isColor {
                        Enhancement.lab(row, channels: channels, width: width, lightness: l, ab: ab)
                        mapping.map(l, row: y, into: m)
                        Enhancement.rgb(lightness: m, ab: ab, width: width, into: row, channels: channels)
                    } else {
                        for x in 0..<width { l[x] = row[x * channels] }
                        mapping.map(l, row: y, into: m)
                        for x in 0..<width { row[x * channels] = m[x] }
                    }
                }
            }
        }
    }
}
