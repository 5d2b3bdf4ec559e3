import MattingThreads
import MattingImage

/// Full-resolution stages that work on the 8-bit photo in row bands: guided upsampling of a
/// working-size matte and the upsampled foreground correction.
///
/// Why bands: at 12 MP a float copy of the photo is 144 MB per representation (interleaved,
/// planar, upsampled coefficients…). Here the only full-size buffers are the 8-bit photo the
/// caller already holds and the output; everything else is working-size or one band's rows.
/// Bands have one owner each and start from fresh per-band state, so the result does not
/// depend on the thread count.
extension Refiner {
    /// Rows per band of the full-resolution passes.
    static let bandRows = 64

    /// A matte solved at a reduced working size, brought back to the size of `guide` with
    /// edges taken from the full-resolution photo — guided upsampling as in He & Sun's "Fast
    /// Guided Filter" (2015): the guide is area-averaged to the matte's size (from its 8-bit
    /// values, integer sums), the guided filter's per-pixel linear coefficients `(a, b)` are
    /// computed there, bilinearly upsampled (pixel centres aligned), and applied to the
    /// full-resolution guide band by band: `α = a·I + b` with `I = value / 255`, clamped to
    /// 0…1. Edges therefore follow the photo, not the low-resolution grid, and no float copy
    /// of the photo is made.
    ///
    /// - Parameters:
    ///   - alpha: single-channel matte at the working size.
    ///   - guide: the full-resolution photo (gray or RGB; other layouts are converted); its
    ///     size is the output size.
    ///   - radius: guided-filter radius in working-size pixels (default 2; 0 gives plain
    ///     bilinear upsampling).
    ///   - epsilon: guided-filter regularisation (default 1e-4).
    ///   - pool: the threads to work on; the result does not depend on their number.
    /// - Throws: `ImageError.invalidArgument` as the float-guide version.
    public func upsampled(
        _ alpha: FloatImage, guide: Image, radius: Int = 2, epsilon: Float = 1e-4, pool: ThreadPool = .serial
    ) throws -> FloatImage {
        try requireMatte(alpha, "alpha")
        guard !alpha.isEmpty, !guide.isEmpty else { throw ImageError.invalidArgument("cannot upsample an empty matte") }
        guard radius >= 0, epsilon > 0 else { throw ImageError.invalidArgument("guided upsampling needs radius ≥ 0 and epsilon > 0") }
        let photo: Image
        switch guide.layout {
        case .rgb, .gray: photo = guide
        case .rgba: photo = guide.converted(to: .rgb)
        case .grayAlpha: photo = guide.converted(to: .gray)
        }
        let small = radius == 0 ? [] : Self.areaAverage(photo, width: alpha.width, height: alpha.height, pool: pool)
        let upsampler = GuidedUpsampler(
            alpha, guide: small, guideChannels: photo.channelCount, width: photo.width, height: photo.height,
            radius: radius, epsilon: epsilon, pool: pool)
        // Every row is written by its band below (the 12 MP matte is 48 MB: a zero-fill would
        // fault it in on one thread first).
        var out = FloatImage(uninitializedWidth: photo.width, height: photo.height, layout: .gray)
        out.withUnsafeMutableBufferPointer { dst, dstStride in
            photo.withUnsafeBufferPointer { src, srcStride in
                upsampler.rows(0..<photo.height, photo: src, photoFirstRow: 0, photoStride: srcStride,
                               into: dst, firstRow: 0, stride: dstStride, pool: pool)
            }
        }
        return out
    }

    /// Each channel of the 8-bit `photo` averaged onto a `w × h` grid: full-size pixel
    /// `(x, y)` falls in cell `(min(w−1, x·w/W), min(h−1, y·h/H))` (the binning of the float
    /// version); sums are exact integers.
    static func areaAverage(_ photo: Image, width w: Int, height h: Int, pool: ThreadPool) -> [Plane] {
        let W = photo.width, H = photo.height, channels = photo.channelCount
        let cellX = (0..<W).map { min(w - 1, $0 * w / W) }
        var columnCount = [Int](repeating: 0, count: w)
        for x in 0..<W { columnCount[cellX[x]] += 1 }
        // Source rows of each cell row (contiguous, increasing).
        var firstRow = [Int](repeating: H, count: h + 1), rowCount = [Int](repeating: 0, count: h)
        for y in stride(from: H - 1, through: 0, by: -1) {
            let cy = min(h - 1, y * h / H)
            firstRow[cy] = y
            rowCount[cy] += 1
        }
        var planes = [Plane](repeating: Plane(width: w, height: h), count: channels)
        withMutablePlanePointers(&planes) { planes in
            let planes = UncheckedSendable(planes)
            photo.withUnsafeBufferPointer { src, stride in
                let src = UncheckedSendable(src)
                parallelChunks(h, pool: pool) { cells in
                    let sums = UnsafeMutablePointer<Int>.allocate(capacity: w * channels)
                    defer { sums.deallocate() }
                    for cy in cells {
                        sums.initialize(repeating: 0, count: w * channels)
                        for y in firstRow[cy]..<firstRow[cy] + rowCount[cy] {
                            let s = src.value + y * stride
                            for x in 0..<W {
                                let j = cellX[x] * channels
                                for c in 0..<channels { sums[j + c] += Int(s[x * channels + c]) }
                            }
                        }
                        for c in 0..<channels {
                            let d = planes.value[c] + cy * w
                            for cx in 0..<w {
                                let n = rowCount[cy] * columnCount[cx]
                                d[cx] = n > 0 ? Float(sums[cx * channels + c]) / Float(255 * n) : 0
                            }
                        }
                    }
                }
            }
        }
        return planes
    }

    /// The foreground at full size: `original` plus the working-size correction
    /// `(foreground − working)·255`, bilinearly upsampled (half-pixel centres, OpenCV
    /// `INTER_LINEAR`, as `resized(filter: .bilinear)`), rounded and clamped. Done in row bands
    /// from the working-size pictures: no full-size float copy is made.
    ///
    /// - Parameters:
    ///   - original: the full-size 8-bit RGB photo.
    ///   - working: the working-size float RGB photo the estimator saw.
    ///   - foreground: the estimated foreground, same size and layout as `working`.
    ///   - pool: the threads to work on; the result does not depend on their number.
    /// - Throws: `ImageError.invalidArgument` if the layouts are not RGB or the working
    ///   pictures differ in size.
    public static func correctedForeground(
        original: Image, working: FloatImage, foreground: FloatImage, pool: ThreadPool = .serial
    ) throws -> Image {
        guard original.layout == .rgb, working.layout == .rgb, foreground.layout == .rgb else {
            throw ImageError.invalidArgument("foreground correction needs RGB pictures")
        }
        try requireSameSize(working, foreground, "working photo and foreground")
        if original.isEmpty || working.isEmpty { return original }
        let corrector = try ForegroundCorrector(working: working, foreground: foreground, width: original.width, height: original.height)
        // Every row is written by its band below, from the photo's row: no copy of the photo
        // is made first (36 MB at 12 MP, copied and faulted in on one thread).
        var result = Image(uninitializedWidth: original.width, height: original.height, layout: .rgb)
        result.withUnsafeMutableBufferPointer { dst, dstStride in
            original.withUnsafeBufferPointer { photo, photoStride in
                corrector.rows(0..<original.height, photo: photo, photoFirstRow: 0, photoStride: photoStride,
                               into: dst, firstRow: 0, stride: dstStride, pool: pool)
            }
        }
        return result
    }
}

extension Refiner {
    /// One row of the corrected foreground: `d[i] = clamp(p[i] + (w0·top[i] + w1·bottom[i]) + 0.5)`
    /// truncated to 0…255, the correction summed from 0 in that order (`w1 == 0`: top only).
    ///
    /// Written so the compiler vectorises it (36 M values at 12 MP, ~80 ms as the scalar loop
    /// with Swift's checked `UInt8(_:)`): the byte comes from ``floorByte(_:)``, the same bytes
    /// as `v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))` for every finite `v` (tested against it).
    @inline(__always)
    static func correctRow(
        _ p: UnsafePointer<UInt8>, _ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, w0: Float, w1: Float,
        count n: Int, into d: UnsafeMutablePointer<UInt8>
    ) {
        if w1 != 0 {
            for i in 0..<n {
                var c: Float = 0
                c += w0 * top[i]
                c += w1 * bottom[i]
                d[i] = floorByte(Float(p[i]) + c + 0.5)
            }
        } else {
            for i in 0..<n {
                var c: Float = 0
                c += w0 * top[i]
                d[i] = floorByte(Float(p[i]) + c + 0.5)
            }
        }
    }
}

/// MattingRefine's one bilinear interpolation along an axis: Float arithmetic, pixel centres
/// aligned (`x_in = (x + 0.5)·in/out − 0.5`), clamped at the edges. A picture is interpolated
/// along rows first, then between the two rows: `top + ty·(bottom − top)`. The solver's
/// coarse-to-fine start, guided upsampling and ``bilinearUpsampled(_:width:height:to:_:)``
/// all use it, so their values agree to the bit.
struct BilinearTaps: Sendable {
    var x0: [Int], x1: [Int], t: [Float]

    init(input w: Int, output W: Int) {
        let sx = Float(w) / Float(W)
        x0 = []; x1 = []; t = []
        x0.reserveCapacity(W); x1.reserveCapacity(W); t.reserveCapacity(W)
        for x in 0..<W {
            let fx = min(max((Float(x) + 0.5) * sx - 0.5, 0), Float(w - 1))
            let a = Int(fx)
            x0.append(a); x1.append(min(a + 1, w - 1)); t.append(fx - Float(a))
        }
    }

    /// Position `x` of the output interpolated from the row `p`.
    @inline(__always)
    func value(_ p: UnsafePointer<Float>, at x: Int) -> Float {
        let a = p[x0[x]]
        return a + t[x] * (p[x1[x]] - a)
    }

    /// `out[x] = p[x0] + t·(p[x1] − p[x0])` for every output position.
    func interpolate(_ p: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        x0.withUnsafeBufferPointer { x0 in
            x1.withUnsafeBufferPointer { x1 in
                t.withUnsafeBufferPointer { t in
                    for x in 0..<t.count {
                        let a = p[x0[x]]
                        out[x] = a + t[x] * (p[x1[x]] - a)
                    }
                }
            }
        }
    }
}

/// `ResamplingFilter.bilinear`'s taps (MattingImage's own weights: half-pixel centres, Double
/// positions, edge repeated), as first index and two weights: output `i` is
/// `w0·in[first] + w1·in[first+1]` (`w1 = 0` where the resampler uses one tap).
struct ResampleTaps: Sendable {
    var first: [Int], w0: [Float], w1: [Float]

    init(input n: Int, output m: Int) {
        let weights = ResamplingWeights(inputSize: n, outputSize: m, filter: .bilinear)
        first = weights.start.map(Int.init)
        w0 = (0..<m).map { weights.weights[$0 * weights.taps] }
        w1 = (0..<m).map { weights.count[$0] > 1 ? weights.weights[$0 * weights.taps + 1] : 0 }
    }

    /// One interleaved RGB row resampled: the same sums, in the same order, as `resized`.
    func resample3(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        for x in 0..<first.count {
            let p = input + 3 * first[x], a = w0[x], b = w1[x]
            var s0: Float = 0, s1: Float = 0, s2: Float = 0
            s0 += a * p[0]; s1 += a * p[1]; s2 += a * p[2]
            if b != 0 {
                s0 += b * p[3]; s1 += b * p[4]; s2 += b * p[5]
            }
            output[3 * x] = s0; output[3 * x + 1] = s1; output[3 * x + 2] = s2
        }
    }
}

/// A `w × h` plane brought to `W × H` with ``BilinearTaps`` (rows, then between rows).
func bilinearUpsampled(_ plane: [Float], width w: Int, height h: Int, to W: Int, _ H: Int) -> [Float] {
    let xs = BilinearTaps(input: w, output: W), ys = BilinearTaps(input: h, output: H)
    var out = [Float](repeating: 0, count: W * H)
    let top = UnsafeMutablePointer<Float>.allocate(capacity: W), bottom = UnsafeMutablePointer<Float>.allocate(capacity: W)
    defer { top.deallocate(); bottom.deallocate() }
    plane.withUnsafeBufferPointer { p in
        out.withUnsafeMutableBufferPointer { o in
            for y in 0..<H {
                let ty = ys.t[y]
                xs.interpolate(p.baseAddress! + ys.x0[y] * w, into: top)
                xs.interpolate(p.baseAddress! + ys.x1[y] * w, into: bottom)
                for x in 0..<W { o[y * W + x] = top[x] + ty * (bottom[x] - top[x]) }
            }
        }
    }
    return out
}

/// Base pointers of several planes for the duration of `body` (read only).
func withPlanePointers<R>(_ planes: [Plane], _ body: ([UnsafePointer<Float>]) -> R) -> R {
    func go(_ i: Int, _ acc: [UnsafePointer<Float>]) -> R {
        if i == planes.count { return body(acc) }
        return planes[i].data.withUnsafeBufferPointer { go(i + 1, acc + [$0.baseAddress!]) }
    }
    return go(0, [])
}

/// Mutable base pointers of several planes for the duration of `body`.
func withMutablePlanePointers<R>(_ planes: inout [Plane], _ body: ([UnsafeMutablePointer<Float>]) -> R) -> R {
    planes.withUnsafeMutableBufferPointer { buffer in
        func go(_ i: Int, _ acc: [UnsafeMutablePointer<Float>]) -> R {
            if i == buffer.count { return body(acc) }
            return buffer[i].data.withUnsafeMutableBufferPointer { go(i + 1, acc + [$0.baseAddress!]) }
        }
        return go(0, [])
    }
}
