import MattingThreads
import MattingImage

/// Guided upsampling (``Refiner/upsampled(_:guide:radius:epsilon:pool:)``) split into its
/// working-size half (the coefficients, made once) and its full-size half (rows, made from
/// the photo's rows whenever they are at hand). The whole-picture function and the strip
/// pipeline both use it, so their values agree to the bit.
package struct GuidedUpsampler: Sendable {
    let coefficients: [Plane]
    let guideChannels: Int
    let w: Int, h: Int, W: Int, H: Int
    let xs: BilinearTaps

    /// - Parameters:
    ///   - alpha: the working-size matte.
    ///   - guide: the photo area-averaged to the matte's size (``AreaAverager``), one plane per
    ///     channel; ignored when `radius` is 0.
    ///   - guideChannels: the full-size photo's channels (1 or 3).
    ///   - width, height: the full size.
    package init(_ alpha: FloatImage, guide: [Plane], guideChannels: Int, width: Int, height: Int,
                 radius: Int, epsilon: Float, pool: ThreadPool) {
        w = alpha.width; h = alpha.height; W = width; H = height
        self.guideChannels = radius == 0 ? 0 : guideChannels
        let p = Plane(alpha)
        coefficients = radius == 0
            ? [p]
            // In bands: the whole-plane coefficients were the 12 MP pipeline's memory peak.
            : GuidedFilter.bandedCoefficients(p, guide: guide, radius: radius, epsilon: epsilon, pool: pool)
        xs = BilinearTaps(input: w, output: W)
    }

    /// Full-size matte rows `range` (`α = a·I + b`, clamped to 0…1) from the photo's rows:
    /// photo row `y` at `photo + (y − photoFirstRow)·photoStride` (8-bit, ``guideChannels``
    /// interleaved; at least the rows of `range`), matte row `y` written at
    /// `dst + (y − firstRow)·stride`. Rows are split in bands over the pool.
    package func rows(
        _ range: Range<Int>, photo: UnsafePointer<UInt8>, photoFirstRow: Int, photoStride: Int,
        into dst: UnsafeMutablePointer<Float>, firstRow: Int, stride dstStride: Int, pool: ThreadPool
    ) {
        let bandRows = Refiner.bandRows
        let bands = (range.count + bandRows - 1) / bandRows
        let dst = UncheckedSendable(dst), src = UncheckedSendable(photo)
        let channels = max(guideChannels, 1)
        let w = w, h = h, W = W, H = H, xs = xs, guideChannels = guideChannels
        let sy = Float(h) / Float(H)
        withPlanePointers(coefficients) { planes in
            let planes = UncheckedSendable(planes)
            parallelDynamic(bands, pool: pool) { band, _ in
                let n = planes.value.count
                // Horizontally interpolated coefficient rows, two slots (row parity) per plane.
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: n * 2 * W)
                defer { rows.deallocate() }
                var cached = (-1, -1)
                func row(_ r: Int) -> UnsafeMutablePointer<Float> {
                    let slot = r & 1
                    let base = rows + slot * n * W
                    if (slot == 0 ? cached.0 : cached.1) != r {
                        for c in 0..<n {
                            xs.interpolate(planes.value[c] + r * w, into: base + c * W)
                        }
                        if slot == 0 { cached.0 = r } else { cached.1 = r }
                    }
                    return base
                }
                let first = range.lowerBound + band * bandRows
                for y in first..<min(range.upperBound, first + bandRows) {
                    // The same arithmetic as `ClosedFormMatting.upsampled` (horizontal
                    // lerps of rows y0, y1, then the vertical lerp).
                    let fy = min(max((Float(y) + 0.5) * sy - 0.5, 0), Float(h - 1))
                    let y0 = Int(fy), y1 = min(y0 + 1, h - 1), ty = fy - Float(y0)
                    let top = row(y0), bottom = row(y1)
                    let d = dst.value + (y - firstRow) * dstStride
                    let s = src.value + (y - photoFirstRow) * photoStride
                    // Offset plane first, then each guide channel, as `GuidedFilter.apply`.
                    let tb = top + guideChannels * W, bb = bottom + guideChannels * W
                    for x in 0..<W { d[x] = tb[x] + ty * (bb[x] - tb[x]) }
                    for c in 0..<guideChannels {
                        let tc = top + c * W, bc = bottom + c * W
                        for x in 0..<W {
                            let a = tc[x] + ty * (bc[x] - tc[x])
                            d[x] = d[x] + a * (Float(s[x * channels + c]) / 255)
                        }
                    }
                    for x in 0..<W {
                        let v = d[x]
                        d[x] = v > 0 ? min(v, 1) : 0
                    }
                }
            }
        }
    }
}

/// ``Refiner/areaAverage(_:width:height:pool:)`` of a photo that arrives in bands of rows, top
/// to bottom: the same cells and the same exact integer sums, so the same planes.
package struct AreaAverager {
    let W: Int, H: Int, w: Int, h: Int, channels: Int
    let cellX: [Int], columnCount: [Int], rowCount: [Int]
    private var sums: [Int]
    private var rowsIn = 0
    private(set) var planes: [Plane]

    package init(width W: Int, height H: Int, channels: Int, cellsWide w: Int, cellsHigh h: Int) {
        self.W = W; self.H = H; self.w = w; self.h = h; self.channels = channels
        cellX = (0..<W).map { min(w - 1, $0 * w / W) }
        var columnCount = [Int](repeating: 0, count: w)
        for x in 0..<W { columnCount[cellX[x]] += 1 }
        var rowCount = [Int](repeating: 0, count: h)
        for y in 0..<H { rowCount[min(h - 1, y * h / H)] += 1 }
        self.columnCount = columnCount
        self.rowCount = rowCount
        sums = [Int](repeating: 0, count: w * h * channels)
        planes = [Plane](repeating: Plane(width: w, height: h), count: channels)
    }

    /// Adds the next `count` photo rows (8-bit, `channels` interleaved, `stride` apart).
    package mutating func add(_ rows: UnsafePointer<UInt8>, stride: Int, count: Int) {
        let W = W, h = h, H = H, w = w, channels = channels
        sums.withUnsafeMutableBufferPointer { sums in
            cellX.withUnsafeBufferPointer { cellX in
                for i in 0..<count {
                    let y = rowsIn + i, cy = min(h - 1, y * h / H)
                    let s = rows + i * stride, row = sums.baseAddress! + cy * w * channels
                    for x in 0..<W {
                        let j = cellX[x] * channels
                        for c in 0..<channels { row[j + c] += Int(s[x * channels + c]) }
                    }
                }
            }
        }
        rowsIn += count
    }

    /// The averaged planes; call once every row has been added.
    package mutating func finish() -> [Plane] {
        precondition(rowsIn == H, "AreaAverager: \(rowsIn) of \(H) rows added")
        for cy in 0..<h {
            for c in 0..<channels {
                for cx in 0..<w {
                    let n = rowCount[cy] * columnCount[cx]
                    planes[c].data[cy * w + cx] = n > 0 ? Float(sums[(cy * w + cx) * channels + c]) / Float(255 * n) : 0
                }
            }
        }
        return planes
    }
}

/// ``Refiner/correctedForeground(original:working:foreground:pool:)`` for rows of the photo as
/// they come: the same working-size correction rows, the same ``Refiner/correctRow`` per row.
package struct ForegroundCorrector: Sendable {
    let working: FloatImage, foreground: FloatImage
    let W: Int, H: Int
    let xs: ResampleTaps, ys: ResampleTaps

    /// - Throws: as ``Refiner/correctedForeground(original:working:foreground:pool:)``.
    package init(working: FloatImage, foreground: FloatImage, width: Int, height: Int) throws {
        guard working.layout == .rgb, foreground.layout == .rgb else {
            throw ImageError.invalidArgument("foreground correction needs RGB pictures")
        }
        try requireSameSize(working, foreground, "working photo and foreground")
        self.working = working
        self.foreground = foreground
        W = width; H = height
        xs = ResampleTaps(input: working.width, output: width)
        ys = ResampleTaps(input: working.height, output: height)
    }

    /// Corrected RGB rows `range`: photo row `y` at `photo + (y − photoFirstRow)·photoStride`,
    /// output row `y` at `dst + (y − firstRow)·stride`.
    package func rows(
        _ range: Range<Int>, photo: UnsafePointer<UInt8>, photoFirstRow: Int, photoStride: Int,
        into dst: UnsafeMutablePointer<UInt8>, firstRow: Int, stride dstStride: Int, pool: ThreadPool
    ) {
        let bandRows = Refiner.bandRows
        let bands = (range.count + bandRows - 1) / bandRows
        let w = working.width, W = W, xs = xs, ys = ys
        let dst = UncheckedSendable(dst), photo = UncheckedSendable(photo)
        working.withUnsafeBufferPointer { base, baseStride in
            let base = UncheckedSendable(base)
            foreground.withUnsafeBufferPointer { fore, foreStride in
                let fore = UncheckedSendable(fore)
                parallelDynamic(bands, pool: pool) { band, _ in
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 3 * W)
                    let line = UnsafeMutablePointer<Float>.allocate(capacity: 3 * w)
                    defer { rows.deallocate(); line.deallocate() }
                    var cached = (-1, -1)
                    func row(_ r: Int) -> UnsafeMutablePointer<Float> {
                        let slot = r & 1
                        let out = rows + slot * 3 * W
                        if (slot == 0 ? cached.0 : cached.1) != r {
                            let f = fore.value + r * foreStride, b = base.value + r * baseStride
                            for i in 0..<3 * w { line[i] = (f[i] - b[i]) * 255 }
                            xs.resample3(line, into: out)
                            if slot == 0 { cached.0 = r } else { cached.1 = r }
                        }
                        return out
                    }
                    let first = range.lowerBound + band * bandRows
                    for y in first..<min(range.upperBound, first + bandRows) {
                        let r0 = ys.first[y], w0 = ys.w0[y], w1 = ys.w1[y]
                        let top = row(r0), bottom = w1 != 0 ? row(r0 + 1) : top
                        Refiner.correctRow(photo.value + (y - photoFirstRow) * photoStride, top, bottom, w0: w0, w1: w1,
                                           count: 3 * W, into: dst.value + (y - firstRow) * dstStride)
                    }
                }
            }
        }
    }
}

extension Compositing {
    /// Rows of ``composite(_:matte:over:pool:)`` over `.color(color)`, for a picture written
    /// strip by strip: `count` rows of `width` straight RGB colours at `colours` with their
    /// 8-bit matte rows at `alpha`, composited into RGB rows at `output`. The same bytes as
    /// those rows of the whole picture's composite. Rows are split over the pool.
    package static func compositeRows(
        _ colours: UnsafePointer<UInt8>, stride: Int, alpha: UnsafePointer<UInt8>, alphaStride: Int,
        over color: RGBColor, width: Int, count: Int,
        into output: UnsafeMutablePointer<UInt8>, outputStride: Int, pool: ThreadPool
    ) {
        let shared = UncheckedSendable((colours, alpha, output))
        pool.parallelChunks(count) { rows in
            let (f, a, d) = shared.value
            let line = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * max(width, 1))
            defer { line.deallocate() }
            fill(line, count: width) { _ in color }
            for y in rows {
                let dr = d + y * outputStride, ar = a + y * alphaStride
                premultiply(f + y * stride, alpha: ar, into: dr, count: width)
                over(dr, alpha: ar, background: line, count: width)
            }
        }
    }
}
