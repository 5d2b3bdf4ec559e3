import MattingThreads
import MattingImage
@testable import MattingRefine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The foreground estimator as it was written first, in plain Swift over planes: the slow,
/// obviously correct twin of ``ForegroundEstimator``'s C passes (mk_foreground.h). Tests
/// require the fast path to give exactly these floats.
struct ReferenceForeground {
    var estimator: ForegroundEstimator
    var regularization: Float { estimator.regularization }
    var gradientWeight: Float { estimator.gradientWeight }
    var smallIterations: Int { estimator.smallIterations }
    var bigIterations: Int { estimator.bigIterations }
    var smallSize: Int { estimator.smallSize }
    /// The reference sweeps bands on this pool, like the fast path (the result does not depend on it).
    var pool = ThreadPool(threadCount: 2)
    var activeMargin: Int? { estimator.activeMargin }

    /// `ForegroundEstimator.estimate(_:alpha:)` computed the reference way.
    func estimate(_ image: FloatImage, alpha: FloatImage) -> (foreground: FloatImage, background: FloatImage) {
        if image.isEmpty { return (image.rgbImage, image.rgbImage) }
        let planes = Plane.planes(of: image.rgbImage), a = Plane(alpha)
        let (f, b) = solve(planes.map(\.data), a.data, width: image.width, height: image.height)
        let wrap = { (p: [[Float]]) in Plane.image(p.map { Plane(width: image.width, height: image.height, data: $0) }, layout: .rgb) }
        return (wrap(f), wrap(b))
    }

    func solve(_ image0: [[Float]], _ alpha0: [Float], width w0: Int, height h0: Int) -> ([[Float]], [[Float]]) {
        var fMean = [Float](repeating: 0, count: 3), bMean = fMean
        var fCount: Float = 0, bCount: Float = 0
        for c in 0..<3 {
            var f: Float = 0, b: Float = 0, nf: Float = 0, nb: Float = 0
            image0[c].withUnsafeBufferPointer { I in
                alpha0.withUnsafeBufferPointer { A in
                    for i in 0..<A.count {
                        if A[i] > 0.9 { f += I[i]; nf += 1 }
                        if A[i] < 0.1 { b += I[i]; nb += 1 }
                    }
                }
            }
            fMean[c] = f; bMean[c] = b; fCount = nf; bCount = nb
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
            // On large levels only the pixels near fractional or changing alpha are swept;
            // elsewhere the seen colour is the photo's (F = I where α = 1, B = I where α = 0)
            // and the unseen one keeps the coarser level's value.
            var active: [UInt8]? = nil
            if let margin = activeMargin, w * h > 128 * 128, sweeps > 0 {
                let mask = alpha.withUnsafeBufferPointer { Self.activeMask($0, w, h, margin: margin) }
                for c in 0..<3 {
                    image[c].withUnsafeBufferPointer { I in
                        F[c].withUnsafeMutableBufferPointer { Fc in
                            B[c].withUnsafeMutableBufferPointer { Bc in
                                for i in 0..<w * h where mask[i] == 0 {
                                    if alpha[i] == 1 { Fc[i] = I[i] } else { Bc[i] = I[i] }
                                }
                            }
                        }
                    }
                }
                active = mask
            }
            for _ in 0..<sweeps { sweep(image, alpha, &F, &B, w, h, active: active) }
            wPrev = w
            hPrev = h
        }
        return (F, B)
    }

    /// Nearest-neighbour resampling as pymatting does it: `x_src = x_dst · w_src / w_dst`.
    static func nearest(_ src: [Float], _ ws: Int, _ hs: Int, _ wd: Int, _ hd: Int) -> [Float] {
        if ws == wd && hs == hd { return src }
        // Source columns once per level, not one integer division per pixel.
        let columns = (0..<wd).map { min(ws - 1, $0 * ws / wd) }
        return [Float](unsafeUninitializedCapacity: wd * hd) { out, count in
            src.withUnsafeBufferPointer { src in
                columns.withUnsafeBufferPointer { columns in
                    for y in 0..<hd {
                        let row = src.baseAddress! + min(hs - 1, y * hs / hd) * ws
                        let o = out.baseAddress! + y * wd
                        for x in 0..<wd { o[x] = row[columns[x]] }
                    }
                }
            }
            count = wd * hd
        }
    }

    /// Pixels whose update is not trivial, widened by ``activeMargin``: `1` where the pixel or a
    /// 4-neighbour has `0 < α < 1` or the alpha differs between them, within `activeMargin`
    /// pixels (Chebyshev). Elsewhere `α` is 0 or 1 with equal neighbours, and the update is
    /// `F = (I + ε ΣF_j) / (1 + 4ε)` (α = 1) or `B = …` (α = 0): within `4ε·|F_j − I|` of the
    /// photo, while the other colour only diffuses and is never seen (it is multiplied by 0).
    static func activeMask(_ alpha: UnsafeBufferPointer<Float>, _ w: Int, _ h: Int, margin: Int) -> [UInt8] {
        var seed = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            let row = y * w, up = max(0, y - 1) * w, down = min(h - 1, y + 1) * w
            for x in 0..<w {
                let a = alpha[row + x]
                if a > 0 && a < 1 { seed[row + x] = 1; continue }
                if alpha[row + max(0, x - 1)] != a || alpha[row + min(w - 1, x + 1)] != a
                    || alpha[up + x] != a || alpha[down + x] != a { seed[row + x] = 1 }
            }
        }
        if margin == 0 { return seed }
        // Separable max (dilation) by `margin`: rows, then columns.
        var rows = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            let row = y * w
            var last = Int.min / 2   // last seeded x
            for x in 0..<w {
                if seed[row + x] != 0 { last = x }
                if x - last <= margin { rows[row + x] = 1 }
            }
            last = Int.max / 2
            for x in stride(from: w - 1, through: 0, by: -1) {
                if seed[row + x] != 0 { last = x }
                if last - x <= margin { rows[row + x] = 1 }
            }
        }
        // Columns, row by row (cache-friendly): distance to the last marked row above, then below.
        var out = [UInt8](repeating: 0, count: w * h)
        var last = [Int](repeating: Int.min / 2, count: w)
        for y in 0..<h {
            for x in 0..<w {
                if rows[y * w + x] != 0 { last[x] = y }
                if y - last[x] <= margin { out[y * w + x] = 1 }
            }
        }
        for x in 0..<w { last[x] = Int.max / 2 }
        for y in stride(from: h - 1, through: 0, by: -1) {
            for x in 0..<w {
                if rows[y * w + x] != 0 { last[x] = y }
                if last[x] - y <= margin { out[y * w + x] = 1 }
            }
        }
        return out
    }

    /// One Gauss–Seidel sweep over fixed 32-row bands: even bands in parallel, then odd.
    /// With `active`, only pixels marked 1 are updated (see ``activeMask(_:_:_:margin:)``).
    func sweep(_ image: [[Float]], _ alpha: [Float], _ F: inout [[Float]], _ B: inout [[Float]], _ w: Int, _ h: Int, active: [UInt8]? = nil) {
        let bandHeight = 32, bands = (h + bandHeight - 1) / bandHeight
        let reg = regularization, gw = gradientWeight
        // Move the planes out (not copy) so writing them does not trigger copy-on-write.
        var f0 = [Float](), f1 = [Float](), f2 = [Float](), b0 = [Float](), b1 = [Float](), b2 = [Float]()
        swap(&f0, &F[0]); swap(&f1, &F[1]); swap(&f2, &F[2])
        swap(&b0, &B[0]); swap(&b1, &B[1]); swap(&b2, &B[2])
        let mask = active ?? []
        f0.withUnsafeMutableBufferPointer { f0 in f1.withUnsafeMutableBufferPointer { f1 in f2.withUnsafeMutableBufferPointer { f2 in
        b0.withUnsafeMutableBufferPointer { b0 in b1.withUnsafeMutableBufferPointer { b1 in b2.withUnsafeMutableBufferPointer { b2 in
        image[0].withUnsafeBufferPointer { i0 in image[1].withUnsafeBufferPointer { i1 in image[2].withUnsafeBufferPointer { i2 in
        alpha.withUnsafeBufferPointer { al in mask.withUnsafeBufferPointer { mk in
            let p = UncheckedSendable((
                f0.baseAddress!, f1.baseAddress!, f2.baseAddress!, b0.baseAddress!, b1.baseAddress!, b2.baseAddress!,
                i0.baseAddress!, i1.baseAddress!, i2.baseAddress!, al.baseAddress!, active == nil ? nil : mk.baseAddress))
            for phase in 0..<2 {
                let mine = Array(stride(from: phase, to: bands, by: 2))
                parallelFor(mine.count, pool: pool) { k in
                    let (F0, F1, F2, B0, B1, B2, I0, I1, I2, A, M) = p.value
                    let band = mine[k]
                    for y in band * bandHeight..<min(h, (band + 1) * bandHeight) {
                        let up = max(0, y - 1) * w, down = min(h - 1, y + 1) * w
                        for x in 0..<w {
                            let i = y * w + x
                            if let M, M[i] == 0 { continue }
                            let a0 = A[i], a1 = 1 - a0
                            var a00 = a0 * a0, a11 = a1 * a1
                            let a01 = a0 * a1
                            var s00 = a0 * I0[i], s01 = a0 * I1[i], s02 = a0 * I2[i]
                            var s10 = a1 * I0[i], s11 = a1 * I1[i], s12 = a1 * I2[i]
                            // Neighbours left, right, up, down (replicated at the border), in
                            // pymatting's order so the sums round the same way.
                            @inline(__always) func add(_ j: Int) {
                                let da = reg + gw * abs(a0 - A[j])
                                a00 += da
                                a11 += da
                                s00 += da * F0[j]; s01 += da * F1[j]; s02 += da * F2[j]
                                s10 += da * B0[j]; s11 += da * B1[j]; s12 += da * B2[j]
                            }
                            add(y * w + max(0, x - 1))
                            add(y * w + min(w - 1, x + 1))
                            add(up + x)
                            add(down + x)
                            let inverse = 1 / (a00 * a11 - a01 * a01)
                            let m00 = inverse * a11, m01 = -inverse * a01, m11 = inverse * a00
                            F0[i] = min(max(m00 * s00 + m01 * s10, 0), 1)
                            F1[i] = min(max(m00 * s01 + m01 * s11, 0), 1)
                            F2[i] = min(max(m00 * s02 + m01 * s12, 0), 1)
                            B0[i] = min(max(m01 * s00 + m11 * s10, 0), 1)
                            B1[i] = min(max(m01 * s01 + m11 * s11, 0), 1)
                            B2[i] = min(max(m01 * s02 + m11 * s12, 0), 1)
                        }
                    }
                }
            }
        } }
        } } }
        } } }
        } } }
        F = [f0, f1, f2]
        B = [b0, b1, b2]
    }
}
