import MattingThreads
import MattingImage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Separable Gaussian blur of a matte, used by feathering.
enum GaussianKernel {
    /// Normalised 1-D taps for `sigma`, radius `ceil(3σ)`.
    static func taps(sigma: Float) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var taps = (-radius...radius).map { i -> Float in
            let x = Float(i)
            return expf(-x * x / (2 * sigma * sigma))
        }
        let sum = taps.reduce(0, +)
        for i in taps.indices { taps[i] /= sum }
        return taps
    }

    /// `matte` blurred with a Gaussian of standard deviation `sigma`; borders replicate.
    ///
    /// Rows are independent (vertical taps of one output row, then its horizontal taps through
    /// a row padded with the replicated border), so row chunks run on `threads` threads with
    /// no full-size temporary; every output is the same sum in the same tap order whatever the
    /// thread count. The result is clamped to 0…1.
    static func blurred(_ matte: FloatImage, sigma: Float, pool: ThreadPool = .serial) -> FloatImage {
        let taps = taps(sigma: sigma), r = taps.count / 2
        let w = matte.width, h = matte.height
        var out = FloatImage(width: w, height: h, layout: .gray)
        if w == 0 || h == 0 { return out }
        matte.withUnsafeBufferPointer { src, srcStride in
            let src = UncheckedSendable(src)
            out.withUnsafeMutableBufferPointer { dst, dstStride in
                let dst = UncheckedSendable(dst)
                taps.withUnsafeBufferPointer { t in
                    let t = UncheckedSendable(t)
                    parallelChunks(h, pool: pool) { rows in
                        let padded = UnsafeMutablePointer<Float>.allocate(capacity: w + 2 * r)
                        let acc = UnsafeMutablePointer<Float>.allocate(capacity: w)
                        defer { padded.deallocate(); acc.deallocate() }
                        for y in rows {
                            blurRow(y, source: UnsafePointer(src.value), firstRow: 0, stride: srcStride, width: w, height: h,
                                    taps: t.value, padded: padded, acc: acc, into: dst.value + y * dstStride)
                        }
                    }
                }
            }
        }
        return out
    }

    /// One output row `y` of the blur: vertical taps (clamped row index) summed in tap order
    /// from 0, then horizontal taps through a row padded with the replicated border, clamped to
    /// 0…1. Picture row `g` is at `source + (g − firstRow) · stride` (a band may start at any
    /// row); `padded` holds `w + 2r` floats and `acc` `w`, both scratch. The whole-picture blur
    /// and the banded post-processing both call this, so they give the same bits.
    @inline(__always)
    static func blurRow(
        _ y: Int, source: UnsafePointer<Float>, firstRow: Int, stride: Int, width w: Int, height h: Int,
        taps t: UnsafeBufferPointer<Float>, padded: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>,
        into d: UnsafeMutablePointer<Float>
    ) {
        let k = t.count, r = k / 2
        let column = padded + r
        for x in 0..<w { column[x] = 0 }
        for i in 0..<k {
            let s = source + (min(max(y + i - r, 0), h - 1) - firstRow) * stride, tap = t[i]
            for x in 0..<w { column[x] = column[x] + tap * s[x] }
        }
        // Replicated border: padded[x + i] is column[clamp(x + i − r)].
        for x in 0..<r {
            padded[x] = column[0]
            column[w + x] = column[w - 1]
        }
        for x in 0..<w { acc[x] = 0 }
        for i in 0..<k {
            let s = padded + i, tap = t[i]
            for x in 0..<w { acc[x] = acc[x] + tap * s[x] }
        }
        for x in 0..<w {
            let v = acc[x]
            d[x] = v > 0 ? min(v, 1) : 0
        }
    }
}
