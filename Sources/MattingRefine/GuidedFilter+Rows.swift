import MattingThreads
import MattingImage

/// ``GuidedFilter`` of a matte with an 8-bit RGB guide, fed one row at a time from the top
/// and giving its rows in order, `2r` rows behind: the bytes of
/// `MatteOperation.guidedFilter(radius:epsilon:)` applied to the whole matte with the photo
/// converted to float as its guide, without any full-size plane.
///
/// The whole-plane filter's box means keep one running `Double` sum per column from the top
/// of the picture down, so a row's mean depends on the rounding of every sum before it: a
/// band with a halo would not give the same bits. This keeps those running sums instead, as
/// state carried from row to row (13 sums per column for the first means, 4 for the means of
/// the coefficients), adding and subtracting rows in the whole filter's order, with the same
/// horizontal pass (`BoxKernel.sumRow`), the same window counts and the same per-pixel
/// arithmetic (`GuidedFilter.colourCoefficients`). It holds rings of `4r + 4` input and
/// coefficient rows.
final class GuidedFilterRows {
    let width: Int, height: Int, radius: Int
    let epsilon: Double
    /// Rows pushed, first means made, output rows given.
    private(set) var rowsIn = 0
    private var meansOut = 0, rowsOut = 0
    private let capacity: Int
    /// Input rows as planes R, G, B, p: row y's plane c at `input + ((y % capacity)·4 + c)·w`.
    private let input: UnsafeMutablePointer<Float>
    /// Coefficient rows A_r, A_g, A_b, B, the same way.
    private let coefficients: UnsafeMutablePointer<Float>
    /// Running column sums: 13 for the first means, 4 for the coefficients' means.
    private let sums: UnsafeMutablePointer<Double>, coefficientSums: UnsafeMutablePointer<Double>
    /// The 13 mean rows, then the 4 coefficient mean rows, of the row being made.
    private let means: UnsafeMutablePointer<Float>, coefficientMeans: UnsafeMutablePointer<Float>
    private let scratch: [BoxKernel.RowScratch]
    private let columnCounts: [Float]
    private let output: UnsafeMutablePointer<Float>

    /// - Precondition: `radius ≥ 1`, `epsilon > 0`, a non-empty picture.
    init(width w: Int, height h: Int, radius r: Int, epsilon: Float) {
        precondition(r >= 1 && w > 0 && h > 0)
        width = w; height = h; radius = r; self.epsilon = Double(epsilon)
        capacity = 4 * r + 4
        input = .allocate(capacity: capacity * 4 * w)
        coefficients = .allocate(capacity: capacity * 4 * w)
        sums = .allocate(capacity: 13 * w)
        sums.initialize(repeating: 0, count: 13 * w)
        coefficientSums = .allocate(capacity: 4 * w)
        coefficientSums.initialize(repeating: 0, count: 4 * w)
        means = .allocate(capacity: 13 * w)
        coefficientMeans = .allocate(capacity: 4 * w)
        scratch = (0..<13).map { _ in BoxKernel.RowScratch(width: w, radius: r) }
        columnCounts = BoxKernel.windowCounts(length: w, radius: r)
        output = .allocate(capacity: w)
    }

    deinit {
        input.deallocate(); coefficients.deallocate(); sums.deallocate(); coefficientSums.deallocate()
        means.deallocate(); coefficientMeans.deallocate(); output.deallocate()
        for s in scratch { s.deallocate() }
    }

    /// Pushes the next row (``rowsIn``): the matte's `width` values and the guide's `width`
    /// RGB bytes; calls `emit(row, y)` for each output row that becomes ready (clamped to
    /// 0…1), in order. The last push gives every remaining row.
    func push(matte: UnsafePointer<Float>, guide: UnsafePointer<UInt8>, pool: ThreadPool,
              emit: (UnsafePointer<Float>, Int) -> Void) {
        precondition(rowsIn < height, "GuidedFilterRows: more rows than the picture has")
        let w = width, r = radius, h = height
        let row = input + (rowsIn % capacity) * 4 * w
        // The guide as the whole path converts it (`converted(to: FloatImage.self)`).
        for x in 0..<w {
            row[x] = Float(guide[3 * x]) * (1 / 255)
            row[w + x] = Float(guide[3 * x + 1]) * (1 / 255)
            row[2 * w + x] = Float(guide[3 * x + 2]) * (1 / 255)
        }
        (row + 3 * w).update(from: matte, count: w)
        rowsIn += 1
        while meansOut < h && min(meansOut + r, h - 1) < rowsIn {
            makeCoefficients(meansOut, pool: pool)
            meansOut += 1
            while rowsOut < h && min(rowsOut + r, h - 1) < meansOut {
                emit(UnsafePointer(makeOutput(rowsOut, pool: pool)), rowsOut)
                rowsOut += 1
            }
        }
    }

    /// Source `i` of the 13 first means at row `y` into `into`: a guide channel or the matte
    /// (0–3), or the product of two of them (`GuidedFilter.colourPairs`), as the whole filter
    /// forms it.
    @inline(__always)
    private func source(_ i: Int, row y: Int, _ body: (UnsafePointer<Float>) -> Void, product: UnsafeMutablePointer<Float>) {
        let w = width, base = input + (y % capacity) * 4 * w
        if i < 4 { body(base + i * w); return }
        let (u, v) = GuidedFilter.colourPairs[i - 4]
        let a = base + u * w, b = base + v * w
        for x in 0..<w { product[x] = a[x] * b[x] }
        body(product)
    }

    /// Source `i` at row `y` as one plane (0–3), or the two planes whose product it is.
    @inline(__always)
    private func factors(_ i: Int, row y: Int) -> (UnsafePointer<Float>, UnsafePointer<Float>?) {
        let w = width, base = UnsafePointer(input + (y % capacity) * 4 * w)
        if i < 4 { return (base + i * w, nil) }
        let (u, v) = GuidedFilter.colourPairs[i - 4]
        return (base + u * w, base + v * w)
    }

    /// Row `y` of the 13 means and of the coefficients (the running sums moved to row y).
    private func makeCoefficients(_ y: Int, pool: ThreadPool) {
        let w = width, r = radius, h = height
        let sums = UncheckedSendable(sums), means = UncheckedSendable(means)
        let this = UncheckedSendable(self)
        pool.parallelFor(13) { i in
            let acc = sums.value + i * w, product = this.value.scratch[i].row
            let self_ = this.value
            if y == 0 {
                for yy in 0...min(r, h - 1) {
                    self_.source(i, row: yy, { s in for x in 0..<w { acc[x] += Double(s[x]) } }, product: product)
                }
            } else {
                let add = y + r, sub = y - 1 - r
                if add < h && sub >= 0 {
                    // Both in one sweep over the sums, each value added then subtracted as in
                    // two sweeps (the same roundings), with half the memory traffic.
                    let (a, b) = self_.factors(i, row: add), (c, d) = self_.factors(i, row: sub)
                    if let b, let d {
                        for x in 0..<w { acc[x] = (acc[x] + Double(a[x] * b[x])) - Double(c[x] * d[x]) }
                    } else {
                        for x in 0..<w { acc[x] = (acc[x] + Double(a[x])) - Double(c[x]) }
                    }
                } else if add < h {
                    self_.source(i, row: add, { s in for x in 0..<w { acc[x] += Double(s[x]) } }, product: product)
                } else if sub >= 0 {
                    self_.source(i, row: sub, { s in for x in 0..<w { acc[x] -= Double(s[x]) } }, product: product)
                }
            }
            self_.finishMean(acc, into: means.value + i * w, row: y, scratch: self_.scratch[i])
        }
        let m = (0..<13).map { UnsafePointer(means.value + $0 * w) }
        let c = coefficients + (y % capacity) * 4 * w
        let planes = (0..<4).map { c + $0 * w }, epsilon = epsilon
        let m_ = UncheckedSendable(m), planes_ = UncheckedSendable(planes)
        forColumns(pool) { GuidedFilter.colourCoefficients(m_.value, planes_.value, $0, epsilon: epsilon) }
    }

    /// `body` over the row's columns in one slice per thread (the per-pixel arithmetic does
    /// not depend on the slicing).
    private func forColumns(_ pool: ThreadPool, _ body: @Sendable (Range<Int>) -> Void) {
        let w = width, slices = max(1, min(pool.threadCount, w / 256))
        pool.parallelFor(slices) { j in body(j * w / slices..<(j + 1) * w / slices) }
    }

    /// `Float` of the running sums, the horizontal pass, and the division by the window's
    /// pixel count, as `BoxKernel.boxMean` does for row `y`.
    @inline(__always)
    private func finishMean(_ acc: UnsafePointer<Double>, into d: UnsafeMutablePointer<Float>, row y: Int,
                            scratch: BoxKernel.RowScratch) {
        let w = width, r = radius, h = height
        for x in 0..<w { d[x] = Float(acc[x]) }
        BoxKernel.sumRow(d, width: w, radius: r, scratch)
        let inverseY = 1 / Float(min(y + r, h - 1) - max(y - r, 0) + 1)
        columnCounts.withUnsafeBufferPointer { cx in
            for x in 0..<w { d[x] = d[x] * (inverseY / cx[x]) }
        }
    }

    /// Output row `y`: the coefficients' means applied to the guide, clamped to 0…1.
    private func makeOutput(_ y: Int, pool: ThreadPool) -> UnsafeMutablePointer<Float> {
        let w = width, r = radius, h = height, capacity = capacity
        let sums = UncheckedSendable(coefficientSums), means = UncheckedSendable(coefficientMeans)
        let coefficients = UncheckedSendable(coefficients), this = UncheckedSendable(self)
        pool.parallelFor(4) { i in
            let acc = sums.value + i * w
            func plane(_ row: Int) -> UnsafePointer<Float> { UnsafePointer(coefficients.value + ((row % capacity) * 4 + i) * w) }
            if y == 0 {
                for yy in 0...min(r, h - 1) { let s = plane(yy); for x in 0..<w { acc[x] += Double(s[x]) } }
            } else {
                let add = y + r, sub = y - 1 - r
                if add < h && sub >= 0 {
                    let a = plane(add), s = plane(sub)
                    for x in 0..<w { acc[x] = (acc[x] + Double(a[x])) - Double(s[x]) }
                } else if add < h {
                    let s = plane(add); for x in 0..<w { acc[x] += Double(s[x]) }
                } else if sub >= 0 {
                    let s = plane(sub); for x in 0..<w { acc[x] -= Double(s[x]) }
                }
            }
            this.value.finishMean(acc, into: means.value + i * w, row: y, scratch: this.value.scratch[i])
        }
        // q = B + Σ_c A_c·I_c in channel order, then clamped (`clampedToUnit`).
        let q = UncheckedSendable(output), guide = UncheckedSendable(input + (y % capacity) * 4 * w)
        forColumns(pool) { columns in
            let q = q.value, guide = guide.value, means = means.value
            for x in columns { q[x] = means[3 * w + x] }
            for c in 0..<3 {
                let a = means + c * w, g = guide + c * w
                for x in columns { q[x] += a[x] * g[x] }
            }
            for x in columns {
                let v = q[x]
                q[x] = v > 0 ? min(v, 1) : 0
            }
        }
        return output
    }
}

extension GuidedFilterRows: @unchecked Sendable {}
