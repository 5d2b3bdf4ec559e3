import MattingThreads
import CMattingKernels
import MattingImage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ForegroundEstimator {
    /// The pyramid's sizes, coarse to fine: `round(w^(l/n)) × round(h^(l/n))` for
    /// `l = 0…n`, `n = ceil(log2(max(w, h)))` (the last is `w × h`).
    static func levelSizes(width w0: Int, height h0: Int) -> [(width: Int, height: Int)] {
        let levels = Int(ceil(log2(Double(max(w0, h0)))))
        return (0...levels).map { level in
            let exponent = levels == 0 ? 1 : Double(level) / Double(levels)
            return (Int(pow(Double(w0), exponent).rounded(.toNearestOrEven)),
                    Int(pow(Double(h0), exponent).rounded(.toNearestOrEven)))
        }
    }

    /// Solves every level into the caller's finest-level outputs (RGB, row strides in floats).
    ///
    /// Why this shape: the finest level reads the photo and the matte where they are (no
    /// planar copies) and writes `F` straight into the caller's picture; the coarser levels
    /// share two pairs of `F`/`B` buffers (a level reads the previous one's) and one resampled
    /// photo and matte, all sized for the largest of them and never zero-filled, since every
    /// pass writes its whole output: memory not touched is page faults saved.
    ///
    /// Levels run on `pool`; a cancelled job of the pool stops before the next level, and
    /// each level done reports its share of the pixels as progress.
    ///
    /// - Precondition: `image` is RGB, `alpha` single-channel, same non-empty size.
    /// - Throws: `CancellationError`.
    func solve(
        _ image: FloatImage, alpha: FloatImage,
        foreground: UnsafeMutablePointer<Float>, stride foregroundStride: Int,
        background: UnsafeMutablePointer<Float>, stride backgroundStride: Int,
        pool: ThreadPool
    ) throws {
        var cancelled = false
        defer { if !cancelled { pool.reportProgress(1) } }
        let w0 = image.width, h0 = image.height
        let sizes = Self.levelSizes(width: w0, height: h0), finest = sizes.count - 1
        // Coarser levels alternate between two buffer pairs: level l uses pair (finest − 1 − l) % 2.
        var pairCapacity = [1, 1], levelCapacity = 1
        for l in 0..<finest {
            let n = sizes[l].width * sizes[l].height
            pairCapacity[(finest - 1 - l) % 2] = max(pairCapacity[(finest - 1 - l) % 2], n)
            levelCapacity = max(levelCapacity, n)
        }
        let pairs = pairCapacity.map { n in
            (f: UnsafeMutablePointer<Float>.allocate(capacity: 3 * n), b: UnsafeMutablePointer<Float>.allocate(capacity: 3 * n))
        }
        let levelImage = UnsafeMutablePointer<Float>.allocate(capacity: 3 * levelCapacity)
        let levelAlpha = UnsafeMutablePointer<Float>.allocate(capacity: levelCapacity)
        let start = UnsafeMutablePointer<Float>.allocate(capacity: 6)
        defer {
            for pair in pairs { pair.f.deallocate(); pair.b.deallocate() }
            levelImage.deallocate()
            levelAlpha.deallocate()
            start.deallocate()
        }
        image.withUnsafeBufferPointer { image0, imageStride in
            alpha.withUnsafeBufferPointer { alpha0, alphaStride in
                // The starting 1×1 level: the mean colours of α > 0.9 and of α < 0.1.
                var sums = [Float](repeating: 0, count: 6), counts: [Float] = [0, 0]
                mk_f32_fg_means(image0, imageStride, alpha0, alphaStride, Int32(w0), Int32(h0), &sums, &counts)
                for c in 0..<3 {
                    start[c] = sums[c] / (counts[0] + 1e-5)
                    start[3 + c] = sums[3 + c] / (counts[1] + 1e-5)
                }
                var previous = (f: UnsafePointer(start), b: UnsafePointer(start + 3), width: 1, height: 1)
                let totalPixels = Double(sizes.reduce(0) { $0 + $1.width * $1.height })
                var donePixels = 0
                for l in 0...finest {
                    if pool.isCancelled { cancelled = true; break }
                    let (w, h) = sizes[l]
                    var level = mk_fg_level()
                    level.width = Int32(w)
                    level.height = Int32(h)
                    level.regularization = regularization
                    level.gradient_weight = gradientWeight
                    if l == finest {
                        (level.image, level.image_stride) = (image0, imageStride)
                        (level.alpha, level.alpha_stride) = (alpha0, alphaStride)
                        (level.foreground, level.foreground_stride) = (foreground, foregroundStride)
                        (level.background, level.background_stride) = (background, backgroundStride)
                    } else {
                        let columns = Self.columns(from: w0, to: w)
                        parallelChunks(h, pool: pool) { rows in
                            let y0 = Int32(rows.lowerBound), y1 = Int32(rows.upperBound)
                            mk_f32_fg_nearest_rows(image0, imageStride, Int32(h0), 3, levelImage, 3 * w, Int32(w), Int32(h), columns, y0, y1)
                            mk_f32_fg_nearest_rows(alpha0, alphaStride, Int32(h0), 1, levelAlpha, w, Int32(w), Int32(h), columns, y0, y1)
                        }
                        let pair = pairs[(finest - 1 - l) % 2]
                        (level.image, level.image_stride) = (UnsafePointer(levelImage), 3 * w)
                        (level.alpha, level.alpha_stride) = (UnsafePointer(levelAlpha), w)
                        (level.foreground, level.foreground_stride) = (pair.f, 3 * w)
                        (level.background, level.background_stride) = (pair.b, 3 * w)
                    }
                    let sweeps = w <= smallSize && h <= smallSize ? smallIterations : bigIterations
                    // On large levels only the pixels near fractional or changing alpha are swept;
                    // elsewhere the seen colour is the photo's (F = I where α = 1, B = I where
                    // α = 0) and the unseen one keeps the coarser level's value.
                    let spans = activeMargin.flatMap { margin in
                        w * h > 128 * 128 && sweeps > 0 ? ActiveSpans(level, margin: margin) : nil
                    }
                    defer { spans?.deallocate() }
                    level.span_offsets = spans.map { UnsafePointer($0.offsets) }
                    level.spans = spans.map { UnsafePointer($0.spans) }
                    let columns = Self.columns(from: previous.width, to: w)
                    parallelChunks(h, pool: pool) { rows in
                        var level = level
                        mk_f32_fg_start_rows(
                            &level, previous.f, previous.b, Int32(previous.width), Int32(previous.height), columns,
                            Int32(rows.lowerBound), Int32(rows.upperBound))
                    }
                    for _ in 0..<sweeps { sweep(level, pool: pool) }
                    previous = (UnsafePointer(level.foreground!), UnsafePointer(level.background!), w, h)
                    donePixels += w * h
                    pool.reportProgress(Double(donePixels) / totalPixels)
                }
            }
        }
        if cancelled { throw CancellationError() }
    }

    /// Source columns of a nearest-neighbour resampling, as pymatting computes them:
    /// `x_src = min(w_src − 1, x_dst · w_src / w_dst)`.
    static func columns(from source: Int, to destination: Int) -> [Int32] {
        (0..<destination).map { Int32(min(source - 1, $0 * source / destination)) }
    }

    /// One Gauss–Seidel sweep over fixed 32-row bands: even bands in parallel, then odd.
    /// A band reads only its neighbour bands' edge rows, which are not written meanwhile,
    /// and each band is swept in raster order, so the result is the same for any thread count.
    func sweep(_ level: mk_fg_level, pool: ThreadPool) {
        let bandHeight = 32, h = Int(level.height), bands = (h + bandHeight - 1) / bandHeight
        let rows = usesScalarSweep ? mk_f32_fg_sweep_rows__scalar : mk_f32_fg_sweep_rows
        for phase in 0..<2 {
            let mine = Array(Swift.stride(from: phase, to: bands, by: 2))
            parallelFor(mine.count, pool: pool) { k in
                var level = level
                let y0 = mine[k] * bandHeight
                rows(&level, Int32(y0), Int32(min(h, y0 + bandHeight)))
            }
        }
    }
}

/// The pixels a level sweeps, as spans of each row (see mk_fg_active_mask): those within
/// the margin of a fractional alpha or an alpha edge.
struct ActiveSpans {
    let offsets: UnsafeMutablePointer<Int32>
    let spans: UnsafeMutablePointer<Int32>

    init(_ level: mk_fg_level, margin: Int) {
        let w = level.width, h = Int(level.height), words = mk_fg_mask_words(w)
        let seed = UnsafeMutablePointer<UInt8>.allocate(capacity: Int(w))
        let rows = UnsafeMutablePointer<UInt64>.allocate(capacity: words * h)
        let active = UnsafeMutablePointer<UInt64>.allocate(capacity: words * h)
        defer { seed.deallocate(); rows.deallocate(); active.deallocate() }
        mk_fg_active_mask(level.alpha, level.alpha_stride, w, Int32(h), Int64(margin), seed, rows, active)
        let count = mk_fg_mask_spans(active, w, Int32(h), nil, nil)
        offsets = .allocate(capacity: h + 1)
        spans = .allocate(capacity: max(1, 2 * count))
        _ = mk_fg_mask_spans(active, w, Int32(h), offsets, spans)
    }

    func deallocate() {
        offsets.deallocate()
        spans.deallocate()
    }
}
