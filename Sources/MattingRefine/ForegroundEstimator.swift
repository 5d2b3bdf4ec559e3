import MattingImage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Foreground (and background) colour estimation from an image and its matte: Germer,
/// Uelwer, Conrad & Harmeling, "Fast Multi-Level Foreground Estimation", ICPR 2020 — the
/// algorithm of pymatting's `estimate_foreground_ml`, with the same defaults.
///
/// A cut-out that uses the photo's colours keeps the old background mixed into every
/// semi-transparent pixel (a halo). This solves, per pixel, for `F` and `B` with
/// `I ≈ αF + (1−α)B`, regularised towards the neighbours' `F` and `B` with weights
/// `regularization + gradientWeight·|Δα|`. It runs coarse to fine: levels of size
/// `round(w^(l/n)) × round(h^(l/n))`, `n = ceil(log2(max(w, h)))`, nearest-neighbour
/// resampling, starting from the mean colours of `α > 0.9` and `α < 0.1`;
/// `smallIterations` Gauss–Seidel sweeps on levels no larger than `smallSize`, `bigIterations`
/// above. Each sweep visits fixed 32-row bands, even bands then odd bands, two threads; each
/// band is swept in raster order, so results are identical for any thread count (and differ
/// from pymatting's single raster sweep only near band boundaries, well within 1e-2).
///
/// ```swift
/// let (foreground, _) = try ForegroundEstimator().estimate(photo, alpha: matte)
/// let png = try Compositing.cutout(foreground, alpha: matte)
/// ```
public struct ForegroundEstimator: Sendable {
    /// ε, the base neighbour weight (pymatting default 1e-5; larger is smoother).
    public var regularization: Float = 1e-5
    /// Weight of `|Δα|` in the neighbour term (default 1).
    public var gradientWeight: Float = 1
    /// Sweeps on small levels (default 10).
    public var smallIterations: Int = 10
    /// Sweeps on large levels (default 2).
    public var bigIterations: Int = 2
    /// Levels with both sides ≤ this use `smallIterations` (default 32).
    public var smallSize: Int = 32
    /// Worker threads (the result does not depend on it).
    public var threads: Int = defaultRefineThreads

    /// pymatting's defaults: regularisation 1e-5, gradient weight 1, 10/2 sweeps, small size 32.
    public init() {}

    /// The estimated foreground and background colours.
    ///
    /// - Parameters:
    ///   - image: RGB or RGBA (alpha ignored), values 0…1.
    ///   - alpha: single-channel matte, same size, 0…1.
    /// - Returns: RGB pictures of the same size, values clamped to 0…1.
    /// - Throws: ``ImageError/invalidArgument(_:)`` for layout or size mismatches.
    public func estimate(_ image: FloatImage, alpha: FloatImage) throws -> (foreground: FloatImage, background: FloatImage) {
        try requireMatte(alpha, "alpha")
        try requireSameSize(image, alpha, "image and alpha")
        guard image.layout.isColor else { throw ImageError.invalidArgument("foreground estimation needs an RGB image") }
        guard smallIterations >= 0, bigIterations >= 0, regularization >= 0 else {
            throw ImageError.invalidArgument("foreground estimation parameters must not be negative")
        }
        if image.isEmpty { return (image.rgbImage, image.rgbImage) }
        let planes = Plane.planes(of: image.rgbImage), a = Plane(alpha)
        let (f, b) = solve(planes.map(\.data), a.data, width: image.width, height: image.height)
        let wrap = { (p: [[Float]]) in Plane.image(p.map { Plane(width: image.width, height: image.height, data: $0) }, layout: .rgb) }
        return (wrap(f), wrap(b))
    }

    func solve(_ image0: [[Float]], _ alpha0: [Float], width w0: Int, height h0: Int) -> ([[Float]], [[Float]]) {
        var fMean = [Float](repeating: 0, count: 3), bMean = fMean
        var fCount: Float = 0, bCount: Float = 0
        for i in 0..<alpha0.count {
            if alpha0[i] > 0.9 { for c in 0..<3 { fMean[c] += image0[c][i] }; fCount += 1 }
            if alpha0[i] < 0.1 { for c in 0..<3 { bMean[c] += image0[c][i] }; bCount += 1 }
        }
        var F = fMean.map { [$0 / (fCount + 1e-5)] }, B = bMean.map { [$0 / (bCount + 1e-5)] }
        var wPrev = 1, hPrev = 1
        let levels = Int(ceil(log2(Double(max(w0, h0)))))
        for level in 0...levels {
            let exponent = levels == 0 ? 1 : Double(level) / Double(levels)
            let w = Int(pow(Double(w0), exponent).rounded(.toNearestOrEven))
            let h = Int(pow(Double(h0), exponent).rounded(.toNearestOrEven))
            let image = image0.map { Self.nearest($0, w0, h0, w, h) }
            let alpha = Self.nearest(alpha0, w0, h0, w, h)
            F = F.map { Self.nearest($0, wPrev, hPrev, w, h) }
            B = B.map { Self.nearest($0, wPrev, hPrev, w, h) }
            let sweeps = w <= smallSize && h <= smallSize ? smallIterations : bigIterations
            for _ in 0..<sweeps { sweep(image, alpha, &F, &B, w, h) }
            wPrev = w
            hPrev = h
        }
        return (F, B)
    }

    /// Nearest-neighbour resampling as pymatting does it: `x_src = x_dst · w_src / w_dst`.
    static func nearest(_ src: [Float], _ ws: Int, _ hs: Int, _ wd: Int, _ hd: Int) -> [Float] {
        if ws == wd && hs == hd { return src }
        var out = [Float](repeating: 0, count: wd * hd)
        for y in 0..<hd {
            let sy = min(hs - 1, y * hs / hd)
            for x in 0..<wd { out[y * wd + x] = src[sy * ws + min(ws - 1, x * ws / wd)] }
        }
        return out
    }

    /// One Gauss–Seidel sweep over fixed 32-row bands: even bands in parallel, then odd.
    func sweep(_ image: [[Float]], _ alpha: [Float], _ F: inout [[Float]], _ B: inout [[Float]], _ w: Int, _ h: Int) {
        let bandHeight = 32, bands = (h + bandHeight - 1) / bandHeight
        let reg = regularization, gw = gradientWeight
        // Move the planes out (not copy) so writing them does not trigger copy-on-write.
        var f0 = [Float](), f1 = [Float](), f2 = [Float](), b0 = [Float](), b1 = [Float](), b2 = [Float]()
        swap(&f0, &F[0]); swap(&f1, &F[1]); swap(&f2, &F[2])
        swap(&b0, &B[0]); swap(&b1, &B[1]); swap(&b2, &B[2])
        f0.withUnsafeMutableBufferPointer { f0 in f1.withUnsafeMutableBufferPointer { f1 in f2.withUnsafeMutableBufferPointer { f2 in
        b0.withUnsafeMutableBufferPointer { b0 in b1.withUnsafeMutableBufferPointer { b1 in b2.withUnsafeMutableBufferPointer { b2 in
        image[0].withUnsafeBufferPointer { i0 in image[1].withUnsafeBufferPointer { i1 in image[2].withUnsafeBufferPointer { i2 in
        alpha.withUnsafeBufferPointer { al in
            let p = UncheckedSendable((
                [f0.baseAddress!, f1.baseAddress!, f2.baseAddress!], [b0.baseAddress!, b1.baseAddress!, b2.baseAddress!],
                [i0.baseAddress!, i1.baseAddress!, i2.baseAddress!], al.baseAddress!))
            for phase in 0..<2 {
                let mine = Array(stride(from: phase, to: bands, by: 2))
                parallelFor(mine.count, threads: threads) { k in
                    let (F, B, I, A) = p.value
                    let band = mine[k]
                    for y in band * bandHeight..<min(h, (band + 1) * bandHeight) {
                        let up = max(0, y - 1) * w, down = min(h - 1, y + 1) * w
                        for x in 0..<w {
                            let i = y * w + x
                            let a0 = A[i], a1 = 1 - a0
                            var a00 = a0 * a0, a11 = a1 * a1
                            let a01 = a0 * a1
                            var s0: (Float, Float, Float) = (a0 * I[0][i], a0 * I[1][i], a0 * I[2][i])
                            var s1: (Float, Float, Float) = (a1 * I[0][i], a1 * I[1][i], a1 * I[2][i])
                            let neighbours = (y * w + max(0, x - 1), y * w + min(w - 1, x + 1), up + x, down + x)
                            for j in [neighbours.0, neighbours.1, neighbours.2, neighbours.3] {
                                let da = reg + gw * abs(a0 - A[j])
                                a00 += da
                                a11 += da
                                s0 = (s0.0 + da * F[0][j], s0.1 + da * F[1][j], s0.2 + da * F[2][j])
                                s1 = (s1.0 + da * B[0][j], s1.1 + da * B[1][j], s1.2 + da * B[2][j])
                            }
                            let inverse = 1 / (a00 * a11 - a01 * a01)
                            let m00 = inverse * a11, m01 = -inverse * a01, m11 = inverse * a00
                            F[0][i] = min(max(m00 * s0.0 + m01 * s1.0, 0), 1)
                            F[1][i] = min(max(m00 * s0.1 + m01 * s1.1, 0), 1)
                            F[2][i] = min(max(m00 * s0.2 + m01 * s1.2, 0), 1)
                            B[0][i] = min(max(m01 * s0.0 + m11 * s1.0, 0), 1)
                            B[1][i] = min(max(m01 * s0.1 + m11 * s1.1, 0), 1)
                            B[2][i] = min(max(m01 * s0.2 + m11 * s1.2, 0), 1)
                        }
                    }
                }
            }
        }
        } } }
        } } }
        } } }
        F = [f0, f1, f2]
        B = [b0, b1, b2]
    }
}
