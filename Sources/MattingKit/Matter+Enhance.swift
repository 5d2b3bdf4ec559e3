import MattingImage

extension Matter {
    /// Pre-enhance on the strip path, its first pass: CLAHE's tile histograms from the
    /// lightness of every upright row (decoded one strip ahead while the last is counted), for
    /// ``RowEnhancement/rows(from:pool:)`` to enhance the rows of pass 1 and pass 2 with the bytes
    /// of the whole-picture path (`Enhancement().applied(to: photo.converted(to: .rgb))`).
    static func enhancementHistograms(
        _ rows: any ImageRowSource, pool: ThreadPool, progress: (Double) -> Void
    ) throws -> RowEnhancement {
        var enhancement = try RowEnhancement(Enhancement(), width: rows.width, height: rows.height, layout: .rgb)
        guard enhancement.needsFirstPass else { return enhancement }
        let H = rows.height, strip = stripRows
        let prefetcher = RowPrefetcher(rows, counts: stride(from: 0, to: H, by: strip).map { min(strip, H - $0) })
        defer { prefetcher.stop() }
        for y0 in stride(from: 0, to: H, by: strip) {
            try pool.checkCancellation()
            let band = try prefetcher.next()
            enhancement.add(band, count: min(strip, H - y0), pool: pool)
            progress(Double(min(H, y0 + strip)) / Double(H))
        }
        return enhancement
    }
}
