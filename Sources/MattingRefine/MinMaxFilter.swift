import MattingThreads
import MattingImage

/// Square-window minimum and maximum filters in O(1) per pixel whatever the radius
/// (van Herk 1992; Gil & Werman 1993), separable: rows, then columns.
///
/// The structuring element is the square of side `2r+1` (Chebyshev distance ≤ r): eroding a
/// square of side `s` gives a square of side `s − 2r` exactly, and a convex shape keeps
/// exactly the pixels whose square's four corners lie inside it. Windows are clipped at the picture's
/// borders (pixels outside are ignored, not treated as 0), so a subject touching the frame
/// is not eroded from the frame.
enum MinMaxKernel {
    /// 1-D van Herk/Gil-Werman over `n` vectors of `lanes` contiguous values each, vector `i`
    /// at `src + i·step`. `isMin` picks min or max. Works in place when `dst == src`.
    ///
    /// Blocks of `k = 2r+1` positions of the padded sequence get a forward running
    /// extremum `g` and a backward one `h`; the window starting at padded index `i` is then
    /// `op(h[i], g[i+k−1])`: three comparisons per value whatever `r`.
    static func filter1D(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        count n: Int, lanes: Int, step: Int, radius r: Int, isMin: Bool
    ) {
        if n == 0 || lanes == 0 { return }
        let k = 2 * r + 1
        let padded = n + 2 * r
        let blocks = (padded + k - 1) / k
        let total = blocks * k
        let identity: Float = isMin ? .infinity : -.infinity
        let g = UnsafeMutablePointer<Float>.allocate(capacity: total * lanes)
        let h = UnsafeMutablePointer<Float>.allocate(capacity: total * lanes)
        defer { g.deallocate(); h.deallocate() }
        @inline(__always) func value(_ i: Int, _ lane: Int) -> Float {
            let j = i - r
            return j >= 0 && j < n ? src[j * step + lane] : identity
        }
        for block in 0..<blocks {
            let start = block * k
            for lane in 0..<lanes { g[start * lanes + lane] = value(start, lane) }
            for i in start + 1..<start + k {
                let gi = g + i * lanes, gp = g + (i - 1) * lanes
                for lane in 0..<lanes {
                    let v = value(i, lane)
                    gi[lane] = isMin ? min(gp[lane], v) : max(gp[lane], v)
                }
            }
            let last = start + k - 1
            for lane in 0..<lanes { h[last * lanes + lane] = value(last, lane) }
            var i = last - 1
            while i >= start {
                let hi = h + i * lanes, hn = h + (i + 1) * lanes
                for lane in 0..<lanes {
                    let v = value(i, lane)
                    hi[lane] = isMin ? min(hn[lane], v) : max(hn[lane], v)
                }
                i -= 1
            }
        }
        for x in 0..<n {
            let a = h + x * lanes, b = g + (x + k - 1) * lanes, d = dst + x * step
            for lane in 0..<lanes { d[lane] = isMin ? min(a[lane], b[lane]) : max(a[lane], b[lane]) }
        }
    }

    /// Columns per strip of the vertical pass (each strip's scratch stays in cache).
    static let stripLanes = 64

    /// Square min (`isMin`) or max filter of a plane with radius `r`: rows (chunks of rows
    /// per thread), then columns (strips of ``stripLanes`` columns per thread). Each output
    /// has one owner and min/max are exact, so the result is the same for any thread count.
    static func filter(_ plane: Plane, radius r: Int, isMin: Bool, pool: ThreadPool = .serial) -> Plane {
        if r == 0 || plane.count == 0 { return plane }
        var out = plane
        let w = plane.width, h = plane.height
        out.data.withUnsafeMutableBufferPointer { d in
            let d = UncheckedSendable(d.baseAddress!)
            parallelChunks(h, pool: pool) { rows in
                let scratch = Scratch(count: w, lanes: 1, radius: r)
                defer { scratch.deallocate() }
                for y in rows {
                    let row = d.value + y * w
                    if isMin {
                        run1D(row, row, count: w, lanes: 1, step: 1, radius: r, scratch, identity: .infinity) { Swift.min($0, $1) }
                    } else {
                        run1D(row, row, count: w, lanes: 1, step: 1, radius: r, scratch, identity: -.infinity) { Swift.max($0, $1) }
                    }
                }
            }
            let strips = (w + stripLanes - 1) / stripLanes
            parallelChunks(strips, pool: pool) { range in
                let scratch = Scratch(count: h, lanes: stripLanes, radius: r)
                defer { scratch.deallocate() }
                for strip in range {
                    let x0 = strip * stripLanes, lanes = min(stripLanes, w - x0), p = d.value + x0
                    if isMin {
                        run1D(p, p, count: h, lanes: lanes, step: w, radius: r, scratch, identity: .infinity) { Swift.min($0, $1) }
                    } else {
                        run1D(p, p, count: h, lanes: lanes, step: w, radius: r, scratch, identity: -.infinity) { Swift.max($0, $1) }
                    }
                }
            }
        }
        return out
    }

    /// The forward (`g`) and backward (`h`) running extrema of ``run1D``.
    struct Scratch {
        let g: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>

        init(count n: Int, lanes: Int, radius r: Int) {
            let k = 2 * r + 1, total = (n + 2 * r + k - 1) / k * k
            g = .allocate(capacity: total * lanes)
            h = .allocate(capacity: total * lanes)
        }

        func deallocate() { g.deallocate(); h.deallocate() }
    }

    /// ``filter1D`` with the operator inlined, the padding test hoisted out of the lane loop and
    /// caller-owned scratch: the same values (`op(v, identity) == v`). Works in place.
    @inline(__always)
    static func run1D(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        count n: Int, lanes: Int, step: Int, radius r: Int, _ scratch: Scratch, identity: Float,
        _ op: (Float, Float) -> Float
    ) {
        let k = 2 * r + 1
        let blocks = (n + 2 * r + k - 1) / k
        let g = scratch.g, h = scratch.h
        for block in 0..<blocks {
            let start = block * k, last = start + k - 1
            for i in start...last {
                let j = i - r, gi = g + i * lanes
                if j >= 0 && j < n {
                    let s = src + j * step
                    if i == start {
                        for l in 0..<lanes { gi[l] = s[l] }
                    } else {
                        let gp = gi - lanes
                        for l in 0..<lanes { gi[l] = op(gp[l], s[l]) }
                    }
                } else if i == start {
                    for l in 0..<lanes { gi[l] = identity }
                } else {
                    let gp = gi - lanes
                    for l in 0..<lanes { gi[l] = gp[l] }
                }
            }
            var i = last
            while i >= start {
                let j = i - r, hi = h + i * lanes
                if j >= 0 && j < n {
                    let s = src + j * step
                    if i == last {
                        for l in 0..<lanes { hi[l] = s[l] }
                    } else {
                        let hn = hi + lanes
                        for l in 0..<lanes { hi[l] = op(hn[l], s[l]) }
                    }
                } else if i == last {
                    for l in 0..<lanes { hi[l] = identity }
                } else {
                    let hn = hi + lanes
                    for l in 0..<lanes { hi[l] = hn[l] }
                }
                i -= 1
            }
        }
        for x in 0..<n {
            let a = h + x * lanes, b = g + (x + k - 1) * lanes, d = dst + x * step
            for l in 0..<lanes { d[l] = op(a[l], b[l]) }
        }
    }
}

extension ImageBuffer where Component == Float {
    /// Grayscale erosion: every value becomes the minimum over the `(2·radius+1)²` square
    /// around it (windows clipped at the borders). Shrinks the opaque region of a matte by
    /// exactly `radius` pixels along the axes. `radius: 0` is the identity.
    ///
    /// - Throws: `ImageError.invalidArgument` for a negative radius.
    public func eroded(radius: Int) throws -> FloatImage {
        try morphology(radius: radius, isMin: true)
    }

    /// Grayscale dilation: the maximum over the `(2·radius+1)²` square (see ``eroded(radius:)``).
    ///
    /// - Throws: `ImageError.invalidArgument` for a negative radius.
    public func dilated(radius: Int) throws -> FloatImage {
        try morphology(radius: radius, isMin: false)
    }

    private func morphology(radius: Int, isMin: Bool) throws -> FloatImage {
        guard radius >= 0 else { throw ImageError.invalidArgument("morphology radius \(radius) is negative") }
        if radius == 0 || isEmpty { return self }
        let planes = Plane.planes(of: self).map { MinMaxKernel.filter($0, radius: radius, isMin: isMin) }
        return Plane.image(planes, layout: layout)
    }
}
