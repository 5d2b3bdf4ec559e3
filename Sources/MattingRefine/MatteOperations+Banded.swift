import MattingThreads
import MattingImage

extension MatteOperations {
    /// Every step applied in order, then the matte quantized to 8 bits: the same pixels as
    /// `applied(to:)` followed by quantizing to 8 bits.
    ///
    /// When every step is a built-in threshold, erosion, dilation (any radius) or feathering
    /// (all the presets), the chain runs in one banded pass: rows are processed in bands with a halo
    /// of the steps' summed vertical reach, each step on the band in place of a full-size
    /// float plane, and the band is written straight to 8 bits. Every value is computed by
    /// exactly the arithmetic of the step-by-step path (same taps, same order, same border
    /// rules), so the result is bit-identical; bands have fixed owners, so it does not depend
    /// on the thread count. Other lists (custom operators, guided filters) take the general
    /// path.
    ///
    /// - Parameters:
    ///   - matte: single-channel, values 0…1.
    ///   - guide: the photo a guided-filter step follows (same size).
    ///   - pool: the threads to work on (the result does not depend on their number).
    /// - Throws: the first step's error; `ImageError.invalidArgument` for a non-gray matte.
    public func appliedQuantized(to matte: FloatImage, guide: FloatImage? = nil, pool: ThreadPool = .serial) throws -> Image {
        try appliedQuantized(to: matte, guide: guide, bandRows: 64, pool: pool)
    }

    /// ``appliedQuantized(to:guide:pool:)`` with the band height exposed for tests.
    func appliedQuantized(to matte: FloatImage, guide: FloatImage? = nil, bandRows: Int, pool: ThreadPool) throws -> Image {
        try requireMatte(matte)
        guard let steps = try bandedSteps(), !matte.isEmpty else {
            return quantizedMatte(try applied(to: matte, guide: guide, pool: pool), pool: pool)
        }
        return BandedChain(steps: steps).run(matte, bandRows: max(1, bandRows), pool: pool)
    }

    /// The steps as banded kernels, or nil when one of them has no banded form. Validates
    /// parameters exactly as `applied(to:)` does (same errors).
    func bandedSteps() throws -> [BandedChain.Step]? {
        var steps: [BandedChain.Step] = []
        for op in self.steps {
            switch op {
            case let .threshold(t):
                guard (0...255).contains(t) else {
                    throw ImageError.invalidArgument("alpha threshold \(t) is outside 0…255 (the UI offers 0…50)")
                }
                if t > 0 { steps.append(.threshold(limit: (Float(t) - 0.5) / 255)) }
            case let .erode(radius), let .dilate(radius):
                guard radius >= 0 else { throw ImageError.invalidArgument("morphology radius \(radius) is negative") }
                if case .erode = op { if radius > 0 { steps.append(.morphology(radius: radius, isMin: true)) } }
                else if radius > 0 { steps.append(.morphology(radius: radius, isMin: false)) }
            case let .feather(sigma):
                guard sigma >= 0, sigma.isFinite, sigma <= 100 else {
                    throw ImageError.invalidArgument("feather sigma \(sigma) is outside 0…100 px")
                }
                if sigma > 0 { steps.append(.feather(taps: GaussianKernel.taps(sigma: sigma))) }
            case .guidedFilter:
                return nil
            }
        }
        return steps
    }
}

/// A float matte as 8 bits: `v·255 + 0.5` truncated, clamped to 0…255, NaN → 0 (the rule of
/// `UInt8(unitValue:)`), in a tight loop over raw pointers, rows split over the pool's threads
/// (a 2 MP foreground is 6.5 M values: ~8 ms on one thread as scalar code).
package func quantizedMatte(_ matte: FloatImage, pool: ThreadPool = .serial) -> Image {
    // Every row is written below.
    var out = Image(uninitializedWidth: matte.width, height: matte.height, layout: matte.layout)
    let n = matte.rowLength, h = matte.height
    matte.withUnsafeBufferPointer { s, sStride in
        let s = UncheckedSendable(s)
        out.withUnsafeMutableBufferPointer { d, dStride in
            let d = UncheckedSendable(d)
            parallelChunks(h, pool: n * h >= 1 << 18 ? pool : .serial) { rows in
                for y in rows { quantizeRow(s.value + y * sStride, d.value + y * dStride, count: n) }
            }
        }
    }
    return out
}

/// `dst[x] = UInt8(unitValue: src[x])` for `x < n`: ``floorByte(_:)`` of `src[x]·255 + 0.5`.
@inline(__always)
func quantizeRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt8>, count n: Int) {
    for x in 0..<n { dst[x] = floorByte(src[x] * 255 + 0.5) }
}

/// `v` clamped to 0…255 (NaN → 0) and truncated to a byte: `v >= 255 ? 255 : (v >= 0 ?
/// UInt8(v) : 0)`, in float arithmetic so that loops of it vectorise.
///
/// Swift's float-to-integer conversions are checked (and its SIMD rounding conversion is a
/// scalar loop), so the clamped `c` is rounded to the nearest integer by adding and
/// subtracting 2²³, stepped down where that rounded up (giving ⌊c⌋), and ⌊c⌋ + 2²³ has ⌊c⌋
/// in the low byte of its bit pattern. Every step is exact for 0 ≤ c ≤ 255. Checked against
/// the checked rule for all 2³² float bit patterns (and in the tests on a dense sample).
/// Shared by the matte quantisation and the foreground correction.
@inline(__always)
func floorByte(_ v: Float) -> UInt8 {
    let magic: Float = 8_388_608
    let c = v >= 255 ? 255 : (v > 0 ? v : 0)
    let nearest = (c + magic) - magic
    let floor = nearest > c ? nearest - 1 : nearest
    return UInt8(truncatingIfNeeded: (floor + magic).bitPattern)
}

/// A chain of threshold / min-max / Gaussian steps run band by band.
///
/// A band of output rows `[y0, y1)` starts from input rows `[y0 − H, y1 + H)` (clipped to
/// the picture), `H` the sum of the steps' vertical radii. After a step of radius `r` the
/// rows whose value is exact shrink by `r` at each end that is not the picture's border
/// (at the border the band already holds every row the step's clamped or clipped window can
/// reach), so after the last step exactly `[y0, y1)` is exact.
struct BandedChain {
    enum Step {
        case threshold(limit: Float)
        case morphology(radius: Int, isMin: Bool)
        case feather(taps: [Float])
        /// Values clamped to 0…1 (`clampedToUnit`: a guided filter of radius 0).
        case clamp

        var reach: Int {
            switch self {
            case .threshold, .clamp: 0
            case let .morphology(radius, _): radius
            case let .feather(taps): taps.count / 2
            }
        }
    }

    let steps: [Step]

    /// One worker's buffers: two band planes (a step reads one, writes the other), a padded row and an accumulator.
    struct Scratch {
        let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
        let row: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>

        init(width w: Int, rows: Int, steps: [Step]) {
            let maxReach = steps.reduce(0) { max($0, $1.reach) }
            a = .allocate(capacity: rows * w)
            b = .allocate(capacity: rows * w)
            row = .allocate(capacity: w + 2 * maxReach)
            acc = .allocate(capacity: w)
        }

        func deallocate() { a.deallocate(); b.deallocate(); row.deallocate(); acc.deallocate() }
    }

    /// The steps' summed vertical reach: output rows `[y0, y1)` need input rows `[y0 − halo, y1 + halo)`.
    var halo: Int { steps.reduce(0) { $0 + $1.reach } }

    func run(_ matte: FloatImage, bandRows: Int, pool: ThreadPool) -> Image {
        let w = matte.width, h = matte.height
        // Every row is written by its band below.
        var out = Image(uninitializedWidth: w, height: h, layout: .gray)
        matte.withUnsafeBufferPointer { src, srcStride in
            out.withUnsafeMutableBufferPointer { dst, dstStride in
                rows(0..<h, source: src, sourceFirstRow: 0, sourceStride: srcStride, width: w, height: h,
                     into: dst, firstRow: 0, stride: dstStride, bandRows: bandRows, pool: pool)
            }
        }
        return out
    }

    /// Where ``rows(_:source:sourceFirstRow:sourceStride:width:height:into:firstRow:stride:bandRows:pool:)``
    /// writes: 8-bit rows (quantized as ``quantizedMatte(_:pool:)``), or the float values.
    enum Output {
        case bytes(UnsafeMutablePointer<UInt8>)
        case floats(UnsafeMutablePointer<Float>)
    }

    /// 8-bit output rows `range` of a `width × height` matte whose float rows
    /// `[range.lowerBound − halo, range.upperBound + halo)` (clipped to the picture) are at
    /// `source + (y − sourceFirstRow)·sourceStride`; row `y` written at `dst + (y − firstRow)·stride`.
    /// Bands of `bandRows` rows counted from row 0 of the picture, so a row's value never
    /// depends on which range it was asked in.
    func rows(
        _ range: Range<Int>, source src: UnsafePointer<Float>, sourceFirstRow: Int, sourceStride srcStride: Int,
        width w: Int, height h: Int, into dst: UnsafeMutablePointer<UInt8>, firstRow: Int, stride dstStride: Int,
        bandRows: Int, pool: ThreadPool
    ) {
        rows(range, source: src, sourceFirstRow: sourceFirstRow, sourceStride: srcStride, width: w, height: h,
             into: .bytes(dst), firstRow: firstRow, stride: dstStride, bandRows: bandRows, pool: pool)
    }

    /// As above, into 8-bit or float rows.
    func rows(
        _ range: Range<Int>, source src: UnsafePointer<Float>, sourceFirstRow: Int, sourceStride srcStride: Int,
        width w: Int, height h: Int, into dst: Output, firstRow: Int, stride dstStride: Int,
        bandRows: Int, pool: ThreadPool
    ) {
        guard !range.isEmpty else { return }
        let halo = halo, steps = steps
        let firstBand = range.lowerBound / bandRows, lastBand = (range.upperBound - 1) / bandRows
        let bands = lastBand - firstBand + 1
        let src = UncheckedSendable(src), dst = UncheckedSendable(dst)
        // Dynamic scheduling (a descheduled worker on a busy machine holds back no fixed
        // share); each worker owns its scratch, and a band's values depend on the band only.
        let workers = bands > 1 ? pool.threadCount : 1
        let scratch = (0..<workers).map { _ in Scratch(width: w, rows: min(bandRows, h) + 2 * halo, steps: steps) }
        defer { for s in scratch { s.deallocate() } }
        parallelDynamic(bands, pool: pool) { index, worker in
            let band = firstBand + index
            let row = scratch[worker].row, acc = scratch[worker].acc
            var a = scratch[worker].a, b = scratch[worker].b
            let y0 = max(band * bandRows, range.lowerBound), y1 = min(h, (band + 1) * bandRows, range.upperBound)
            let b0 = band * bandRows, b1 = min(h, b0 + bandRows)
            // `a` holds rows [lo, hi) of the current stage; row y at a + (y − base)·w. The whole
            // band's window is processed (its values do not depend on the range asked for).
            let base = max(0, b0 - halo)
            var lo = base, hi = min(h, b1 + halo)
            for y in lo..<hi {
                (a + (y - base) * w).update(from: src.value + (y - sourceFirstRow) * srcStride, count: w)
            }
            for step in steps {
                let r = step.reach
                let nlo = lo == 0 ? 0 : lo + r, nhi = hi == h ? h : hi - r
                switch step {
                case let .threshold(limit):
                    for y in lo..<hi {
                        let p = a + (y - base) * w
                        for x in 0..<w where p[x] < limit { p[x] = 0 }
                    }
                case .clamp:
                    for y in lo..<hi {
                        let p = a + (y - base) * w
                        for x in 0..<w { let v = p[x]; p[x] = v > 0 ? min(v, 1) : 0 }
                    }
                case let .morphology(radius, isMin):
                    Self.morphology(a, b, base: base, width: w, height: h, out: nlo..<nhi,
                                    radius: radius, isMin: isMin, row: row)
                    swap(&a, &b)
                case let .feather(taps):
                    Self.feather(a, b, base: base, width: w, height: h, out: nlo..<nhi,
                                 taps: taps, padded: row, acc: acc)
                    swap(&a, &b)
                }
                lo = nlo; hi = nhi
            }
            for y in y0..<y1 {
                switch dst.value {
                case let .bytes(d): quantizeRow(a + (y - base) * w, d + (y - firstRow) * dstStride, count: w)
                case let .floats(d): (d + (y - firstRow) * dstStride).update(from: a + (y - base) * w, count: w)
                }
            }
        }
    }

    /// Square min/max of radius `r`: the clipped window's extremum, vertical then horizontal
    /// (min and max are exact, so the order of the separable passes does not change a value).
    /// Writes rows `out` of `dst` (the windows stay inside the rows `src` holds).
    static func morphology(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, base: Int, width w: Int, height h: Int,
        out: Range<Int>, radius r: Int, isMin: Bool, row: UnsafeMutablePointer<Float>
    ) {
        if r > 8 {
            wideMorphology(src, dst, base: base, width: w, height: h, out: out, radius: r, isMin: isMin)
            return
        }
        for y in out {
            let first = max(y - r, 0), last = min(y + r, h - 1)
            // Vertical extremum of the clipped window into `row`.
            row.update(from: src + (first - base) * w, count: w)
            if first < last {
                for yy in first + 1...last {
                    let s = src + (yy - base) * w
                    if isMin { for x in 0..<w { row[x] = min(row[x], s[x]) } }
                    else { for x in 0..<w { row[x] = max(row[x], s[x]) } }
                }
            }
            let d = dst + (y - base) * w
            // Horizontal extremum of the clipped window: borders first, then the interior without clipping.
            for x in 0..<w {
                if x >= r && x + r < w { continue }
                var v = row[max(x - r, 0)]
                for xx in max(x - r, 0)...min(x + r, w - 1) { v = isMin ? min(v, row[xx]) : max(v, row[xx]) }
                d[x] = v
            }
            if w > 2 * r {
                let interior = d + r
                interior.update(from: row, count: w - 2 * r)
                for i in 1...(2 * r) {
                    let s = row + i
                    if isMin { for x in 0..<(w - 2 * r) { interior[x] = min(interior[x], s[x]) } }
                    else { for x in 0..<(w - 2 * r) { interior[x] = max(interior[x], s[x]) } }
                }
            }
        }
    }

    /// ``morphology(_:_:base:width:height:out:radius:isMin:row:)`` for a radius above 8, in
    /// O(1) per pixel: the van Herk/Gil–Werman filter of the whole-plane path
    /// (`MinMaxKernel.run1D`) over the rows the outputs' windows reach, `[out − r, out + r)`
    /// clipped to the picture, rows then columns. Clipped at those rows, a window of a row of
    /// `out` loses only rows outside the picture, as in the whole plane; min and max are exact,
    /// so the values are the whole-plane filter's.
    static func wideMorphology(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, base: Int, width w: Int, height h: Int,
        out: Range<Int>, radius r: Int, isMin: Bool
    ) {
        guard !out.isEmpty else { return }
        let lo = max(0, out.lowerBound - r), hi = min(h, out.upperBound + r), n = hi - lo
        let rows = dst + (lo - base) * w
        rows.update(from: src + (lo - base) * w, count: n * w)
        let lanes = MinMaxKernel.stripLanes
        let scratch = MinMaxKernel.Scratch(count: n, lanes: lanes, radius: r), rowScratch = MinMaxKernel.Scratch(count: w, lanes: 1, radius: r)
        defer { scratch.deallocate(); rowScratch.deallocate() }
        for y in 0..<n {
            let row = rows + y * w
            if isMin {
                MinMaxKernel.run1D(row, row, count: w, lanes: 1, step: 1, radius: r, rowScratch, identity: .infinity) { Swift.min($0, $1) }
            } else {
                MinMaxKernel.run1D(row, row, count: w, lanes: 1, step: 1, radius: r, rowScratch, identity: -.infinity) { Swift.max($0, $1) }
            }
        }
        for x0 in stride(from: 0, to: w, by: lanes) {
            let p = rows + x0, count = min(lanes, w - x0)
            if isMin {
                MinMaxKernel.run1D(p, p, count: n, lanes: count, step: w, radius: r, scratch, identity: .infinity) { Swift.min($0, $1) }
            } else {
                MinMaxKernel.run1D(p, p, count: n, lanes: count, step: w, radius: r, scratch, identity: -.infinity) { Swift.max($0, $1) }
            }
        }
    }

    /// ``GaussianKernel/blurred(_:sigma:threads:)`` for rows `out`: the same vertical taps
    /// (clamped row index) summed in tap order from 0, the same replicated-border horizontal
    /// taps, the same clamp to 0…1.
    static func feather(
        _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, base: Int, width w: Int, height h: Int,
        out: Range<Int>, taps: [Float], padded: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>
    ) {
        taps.withUnsafeBufferPointer { t in
            for y in out {
                GaussianKernel.blurRow(y, source: UnsafePointer(src), firstRow: base, stride: w, width: w, height: h,
                                       taps: t, padded: padded, acc: acc, into: dst + (y - base) * w)
            }
        }
    }
}

/// ``MatteOperations/appliedQuantized(to:guide:pool:)`` for a matte that exists only a strip
/// of rows at a time: the banded chain, asked for output rows whose bands start at multiples
/// of ``bandRows``, gives the same bytes as the whole-picture call; with guided filters, the
/// stateful `GuidedStripChain` does (the guide being the photo converted to float).
package struct StripPostprocessor: Sendable {
    /// All the steps as one banded chain, or (with guided filters) the stateful chain.
    let chain: BandedChain?
    let guided: GuidedStripChain?
    /// Rows per band (strips must start at a multiple of it).
    package static let bandRows = 64

    /// Nil when `operations` has a step with no strip form (none of the built-in steps).
    ///
    /// With a guided-filter step the postprocessor has state: it serves one matte, its strips
    /// asked for in order from row 0, with the photo's rows (``needsGuide``).
    ///
    /// - Throws: the parameter errors `applied(to:)` throws.
    package init?(_ operations: MatteOperations) throws {
        if let steps = try operations.bandedSteps() {
            chain = BandedChain(steps: steps)
            guided = nil
            return
        }
        var segments: [BandedChain] = [], filters: [GuidedStripChain.Guided] = [], current: [BandedChain.Step] = []
        for op in operations.steps {
            guard case let .guidedFilter(radius, epsilon) = op else {
                guard let steps = try MatteOperations([op]).bandedSteps() else { return nil }
                current += steps
                continue
            }
            // `GuidedFilter.filtered`'s checks, in its order; radius 0 leaves only the clamp.
            guard radius >= 0 else { throw ImageError.invalidArgument("guided filter radius \(radius) is negative") }
            guard epsilon > 0, epsilon.isFinite else {
                throw ImageError.invalidArgument("guided filter epsilon \(epsilon) must be positive")
            }
            if radius == 0 {
                current.append(.clamp)
            } else {
                segments.append(BandedChain(steps: current))
                filters.append(GuidedStripChain.Guided(radius: radius, epsilon: epsilon))
                current = []
            }
        }
        segments.append(BandedChain(steps: current))
        chain = filters.isEmpty ? segments[0] : nil
        guided = filters.isEmpty ? nil : GuidedStripChain(segments: segments, guided: filters)
    }

    /// Input rows needed beyond each end of a strip.
    package var halo: Int { guided?.halo ?? chain?.halo ?? 0 }

    /// Whether ``rows(_:source:sourceFirstRow:sourceStride:width:height:into:firstRow:stride:guide:guideFirstRow:guideStride:pool:)``
    /// needs the photo's rows (a guided filter follows them).
    package var needsGuide: Bool { guided != nil }

    /// 8-bit rows `range` (`range.lowerBound` a multiple of ``bandRows``) of a `width × height`
    /// matte from its float rows `[range.lowerBound − halo, range.upperBound + halo)` ∩ picture
    /// at `source + (y − sourceFirstRow)·sourceStride`; row `y` written at `dst + (y − firstRow)·stride`.
    /// With ``needsGuide``, `guide` holds the photo's 8-bit RGB rows over the same rows as
    /// `source` (row `y` at `guide + (y − guideFirstRow)·guideStride`) and the strips are asked
    /// for in order from row 0.
    package func rows(
        _ range: Range<Int>, source: UnsafePointer<Float>, sourceFirstRow: Int, sourceStride: Int,
        width: Int, height: Int, into dst: UnsafeMutablePointer<UInt8>, firstRow: Int, stride: Int,
        guide: UnsafePointer<UInt8>? = nil, guideFirstRow: Int = 0, guideStride: Int = 0, pool: ThreadPool
    ) {
        precondition(range.lowerBound % Self.bandRows == 0, "strips start at a multiple of \(Self.bandRows) rows")
        if let guided {
            guard let guide else { preconditionFailure("a guided filter needs the photo's rows") }
            guided.rows(range, source: source, sourceFirstRow: sourceFirstRow, sourceStride: sourceStride,
                        sourceEnd: min(height, range.upperBound + guided.halo), width: width, height: height, into: dst,
                        firstRow: firstRow, stride: stride, guide: guide, guideFirstRow: guideFirstRow, guideStride: guideStride,
                        pool: pool)
        } else if let chain {
            chain.rows(range, source: source, sourceFirstRow: sourceFirstRow, sourceStride: sourceStride, width: width,
                       height: height, into: dst, firstRow: firstRow, stride: stride, bandRows: Self.bandRows, pool: pool)
        }
    }
}

extension BandedChain: @unchecked Sendable {}
