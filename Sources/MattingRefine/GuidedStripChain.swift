import MattingThreads
import MattingImage

/// A post-processing list with guided-filter steps, run over a matte that exists a strip of
/// rows at a time, top to bottom: the bytes of ``MatteOperations/appliedQuantized(to:guide:pool:)``
/// with the photo (converted to float) as the guide.
///
/// The list is cut at its guided filters into segments of banded steps (`BandedChain`, each
/// possibly empty). A segment keeps a window of its input rows and gives its output in whole
/// bands of ``StripPostprocessor/bandRows`` once the rows its halo reaches are in; a guided
/// filter (`GuidedFilterRows`) is fed those rows in order, with the photo's rows, and gives
/// its rows `2r` behind to the next segment; the last segment writes 8-bit rows. Every stage
/// computes each value by the whole path's arithmetic, so the bytes are the same.
///
/// It has state: one instance serves one matte, strips asked for in order from row 0.
final class GuidedStripChain: @unchecked Sendable {
    struct Guided { let radius: Int, epsilon: Float }

    /// Banded segments; `guided[k]` sits between `segments[k]` and `segments[k + 1]`.
    let segments: [BandedChain]
    let guided: [Guided]

    /// Per matte: each segment's input window `[lo, hi)` (row y at `(y − lo)·width`), what it
    /// has given, and the filters' states.
    private var windows: [[Float]] = []
    /// A segment's output rows on their way to the next filter.
    private var out: [Float] = []
    private var lo: [Int] = [], hi: [Int] = [], given: [Int] = []
    private var filters: [GuidedFilterRows] = []
    private var width = 0, height = 0

    init(segments: [BandedChain], guided: [Guided]) {
        precondition(segments.count == guided.count + 1)
        self.segments = segments
        self.guided = guided
    }

    /// Input rows a strip needs beyond each end: the segments' halos, the filters' `2r`, and
    /// up to a band's rows held back by every segment but the last.
    var halo: Int {
        segments.reduce(0) { $0 + $1.halo } + guided.reduce(0) { $0 + 2 * $1.radius }
            + (segments.count - 1) * (StripPostprocessor.bandRows - 1)
    }

    /// As ``StripPostprocessor/rows(_:source:sourceFirstRow:sourceStride:width:height:into:firstRow:stride:guide:guideFirstRow:guideStride:pool:)``;
    /// strips in order from row 0; `guide` holds the photo's RGB rows over the same rows as `source`.
    func rows(
        _ range: Range<Int>, source: UnsafePointer<Float>, sourceFirstRow: Int, sourceStride: Int, sourceEnd: Int,
        width w: Int, height h: Int, into dst: UnsafeMutablePointer<UInt8>, firstRow: Int, stride: Int,
        guide: UnsafePointer<UInt8>, guideFirstRow: Int, guideStride: Int, pool: ThreadPool
    ) {
        let band = StripPostprocessor.bandRows
        if range.lowerBound == 0 { start(width: w, height: h) }
        precondition(given[segments.count - 1] == range.lowerBound, "GuidedStripChain: strips in order from row 0")
        // New source rows into the first segment's window.
        precondition(sourceFirstRow <= hi[0], "GuidedStripChain: the source skips rows")
        reserve(0, rows: max(0, sourceEnd - hi[0]))
        for y in hi[0]..<max(hi[0], sourceEnd) {
            append(0, UnsafePointer(source + (y - sourceFirstRow) * sourceStride))
        }
        for k in segments.indices {
            let isLast = k == segments.count - 1
            let H = segments[k].halo
            var end = hi[k] == h ? h : (hi[k] - H) / band * band
            if isLast { end = min(end, range.upperBound) }
            guard end > given[k] else { continue }
            let from = given[k]
            if isLast {
                windows[k].withUnsafeBufferPointer { window in
                    segments[k].rows(from..<end, source: window.baseAddress!, sourceFirstRow: lo[k], sourceStride: w, width: w,
                                     height: h, into: .bytes(dst), firstRow: firstRow, stride: stride, bandRows: band, pool: pool)
                }
            } else {
                precondition(from >= guideFirstRow, "GuidedStripChain: the guide's rows start too late")
                // A few bands at a time (one per thread), each fed to the filter as it is made.
                let chunk = band * max(1, pool.threadCount)
                if out.count < chunk * w { out = [Float](repeating: 0, count: chunk * w) }
                for c0 in Swift.stride(from: from, to: end, by: chunk) {
                    let c1 = min(end, c0 + chunk)
                    windows[k].withUnsafeBufferPointer { window in
                        out.withUnsafeMutableBufferPointer { out in
                            segments[k].rows(c0..<c1, source: window.baseAddress!, sourceFirstRow: lo[k], sourceStride: w,
                                             width: w, height: h, into: .floats(out.baseAddress!), firstRow: c0, stride: w,
                                             bandRows: band, pool: pool)
                        }
                    }
                    // The filter gives at most its pushed rows plus its lag (`2r`) at the end.
                    reserve(k + 1, rows: c1 - c0 + 2 * guided[k].radius + 1)
                    out.withUnsafeBufferPointer { out in
                        for y in c0..<c1 {
                            filters[k].push(matte: out.baseAddress! + (y - c0) * w, guide: guide + (y - guideFirstRow) * guideStride,
                                            pool: pool) { row, _ in self.append(k + 1, row) }
                        }
                    }
                }
            }
            given[k] = end
            // Keep the rows the next bands' halos reach.
            let keep = max(lo[k], end - H)
            windows[k].removeFirst((keep - lo[k]) * w)
            lo[k] = keep
        }
        precondition(given[segments.count - 1] == range.upperBound, "GuidedStripChain: the strip's halo was too short")
    }

    private func start(width w: Int, height h: Int) {
        width = w; height = h
        windows = segments.map { _ in [] }
        out = []
        lo = segments.map { _ in 0 }; hi = lo; given = lo
        filters = guided.map { GuidedFilterRows(width: w, height: h, radius: $0.radius, epsilon: $0.epsilon) }
    }

    /// Room for `rows` more rows in window `k`, grown to what is needed and no more: the
    /// windows keep their size from strip to strip, so geometric growth would only leave
    /// unused capacity (tens of MB at 12 000 px a row).
    private func reserve(_ k: Int, rows: Int) {
        let needed = windows[k].count + rows * width
        if windows[k].capacity < needed { windows[k].reserveCapacity(needed) }
    }

    private func append(_ k: Int, _ row: UnsafePointer<Float>) {
        windows[k].append(contentsOf: UnsafeBufferPointer(start: row, count: width))
        hi[k] += 1
    }
}
