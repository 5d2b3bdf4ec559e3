import MattingThreads
import MattingImage

/// Box-filter kernels: window sums and means over `(2r+1) × (2r+1)` windows in O(1) per pixel.
///
/// Separable running sums: a vertical pass keeps one running sum per column, a horizontal
/// pass one per row, so the cost does not depend on the radius. Accumulators are `Double`:
/// the guided filter and the matting Laplacian subtract products of box means, and Float
/// running sums would drift by more than the regularisation they are compared against.
///
/// Borders: windows are clipped to the picture. ``boxSum`` adds the pixels inside the
/// picture (zero padding); ``boxMean`` divides by the number of pixels actually in the
/// window, as OpenCV's `boxFilter(normalize=true)` does when the window is clipped and as
/// the guided-filter paper does with its `N = box(ones)` image.
enum BoxKernel {
    /// `dst[y, x] = Σ src` over the window clipped to the picture. `src` and `dst` may not alias.
    static func boxSum(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        width w: Int, height h: Int, radius r: Int
    ) {
        if w == 0 || h == 0 { return }
        if r == 0 {
            dst.update(from: src, count: w * h)
            return
        }
        // Vertical pass: acc[x] holds the sum of rows y-r...y+r (clipped) of column x.
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: w)
        defer { acc.deallocate() }
        acc.initialize(repeating: 0, count: w)
        for y in 0...min(r, h - 1) {
            let s = src + y * w
            for x in 0..<w { acc[x] += Double(s[x]) }
        }
        for y in 0..<h {
            let d = dst + y * w
            for x in 0..<w { d[x] = Float(acc[x]) }
            let add = y + r + 1, sub = y - r
            if add < h {
                let s = src + add * w
                for x in 0..<w { acc[x] += Double(s[x]) }
            }
            if sub >= 0 {
                let s = src + sub * w
                for x in 0..<w { acc[x] -= Double(s[x]) }
            }
        }
        // Horizontal pass, in place, one row at a time.
        let scratch = RowScratch(width: w, radius: r)
        defer { scratch.deallocate() }
        for y in 0..<h { sumRow(dst + y * w, width: w, radius: r, scratch) }
    }

    /// One worker's buffers for ``sumRow(_:width:radius:_:)``.
    struct RowScratch {
        let padded: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>
        let row: UnsafeMutablePointer<Float>

        init(width w: Int, radius r: Int) {
            padded = .allocate(capacity: w + 2 * r)
            padded.initialize(repeating: 0, count: w + 2 * r)
            sums = .allocate(capacity: w)
            sums.initialize(repeating: 0, count: w)
            row = .allocate(capacity: w)
        }

        func deallocate() { padded.deallocate(); sums.deallocate(); row.deallocate() }
    }

    /// The horizontal pass of ``boxSum(_:_:width:height:radius:)`` on one row, in place: each
    /// value becomes the sum over its window clipped to the row (`r ≥ 1`). The whole-plane
    /// filter and the row-streaming one (`GuidedFilterRows`) share it, so their values agree.
    ///
    /// Small radii (the guided upsampling's 2, the guided filter's 8) sum the window directly
    /// from a zero-padded Double row, one tap at a time across the row: no loop-carried
    /// dependency, so it vectorises (a running sum is bound by the add latency, ~4× slower).
    @inline(__always)
    static func sumRow(_ d: UnsafeMutablePointer<Float>, width w: Int, radius r: Int, _ scratch: RowScratch) {
        if r <= 8 {
            let padded = scratch.padded, sums = scratch.sums
            for x in 0..<w { padded[r + x] = Double(d[x]) }
            for x in 0..<w { sums[x] = padded[x] }
            for u in 1...(2 * r) {
                let tap = padded + u
                for x in 0..<w { sums[x] += tap[x] }
            }
            for x in 0..<w { d[x] = Float(sums[x]) }
            return
        }
        let row = scratch.row
        row.update(from: d, count: w)
        var sum = 0.0
        for x in 0...min(r, w - 1) { sum += Double(row[x]) }
        for x in 0..<w {
            d[x] = Float(sum)
            let add = x + r + 1, sub = x - r
            if add < w { sum += Double(row[add]) }
            if sub >= 0 { sum -= Double(row[sub]) }
        }
    }

    /// The number of pixels of a clipped window along one axis, for every position.
    static func windowCounts(length n: Int, radius r: Int) -> [Float] {
        (0..<n).map { Float(min($0 + r, n - 1) - max($0 - r, 0) + 1) }
    }

    /// `dst = boxSum(src) / (number of pixels in the clipped window)`.
    static func boxMean(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        width w: Int, height h: Int, radius r: Int
    ) {
        boxSum(src, dst, width: w, height: h, radius: r)
        if r == 0 { return }
        let cx = windowCounts(length: w, radius: r), cy = windowCounts(length: h, radius: r)
        cx.withUnsafeBufferPointer { cx in
            for y in 0..<h {
                let d = dst + y * w, inverseY = 1 / cy[y]
                for x in 0..<w { d[x] = d[x] * (inverseY / cx[x]) }
            }
        }
    }

    /// The box mean of a plane.
    static func mean(_ plane: Plane, radius: Int) -> Plane {
        var out = Plane(width: plane.width, height: plane.height)
        plane.data.withUnsafeBufferPointer { s in
            out.data.withUnsafeMutableBufferPointer { d in
                boxMean(s.baseAddress!, d.baseAddress!, width: plane.width, height: plane.height, radius: radius)
            }
        }
        return out
    }

    /// The box means of several planes, one thread per group of planes (each owns its output).
    static func means(_ planes: [Plane], radius: Int, pool: ThreadPool) -> [Plane] {
        var out = planes
        out.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            parallelFor(planes.count, pool: pool) { i in
                out.value[i] = mean(planes[i], radius: radius)
            }
        }
        return out
    }
}

extension ImageBuffer where Component == Float {
    /// The mean of every channel over a `(2·radius+1)²` square window, in O(1) per pixel.
    ///
    /// Windows are clipped at the borders and divided by the number of pixels they hold
    /// (OpenCV's `boxFilter` with `normalize=true`, as the guided-filter paper defines it),
    /// so a constant picture stays constant. `radius: 0` returns the picture unchanged.
    ///
    /// ```swift
    /// let smooth = try matte.boxFiltered(radius: 4)
    /// ```
    /// - Parameters:
    ///   - radius: window half-size in pixels, ≥ 0.
    ///   - pool: the threads to work on; the result does not depend on their number.
    /// - Throws: `ImageError.invalidArgument` for a negative radius.
    public func boxFiltered(radius: Int, pool: ThreadPool = .serial) throws -> FloatImage {
        guard radius >= 0 else { throw ImageError.invalidArgument("box filter radius \(radius) is negative") }
        if radius == 0 || isEmpty { return self }
        let planes = BoxKernel.means(Plane.planes(of: self), radius: radius, pool: pool)
        return Plane.image(planes, layout: layout)
    }
}
