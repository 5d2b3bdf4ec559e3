/// The closed-form matting Laplacian of one picture, applied to vectors without being built.
///
/// Levin, Lischinski & Weiss (2008) define, over every `(2r+1)²` window `w_k` lying inside
/// the picture (`|w|` pixels, colour mean `μ_k`, covariance `Σ_k`, `Δ_k = Σ_k + ε/|w|·U`):
///
///     L_ij = Σ_{k: i,j ∈ w_k} (δ_ij − (1 + (I_i − μ_k)ᵀ Δ_k⁻¹ (I_j − μ_k)) / |w|)
///
/// He, Sun & Tang (CVPR 2010) observe that `L·p` needs no matrix: per window,
/// `a_k = Δ_k⁻¹ (mean(I·p)_k − μ_k·mean(p)_k)` and `b_k = mean(p)_k − a_kᵀ μ_k` (the guided
/// filter's algebra), then `(L p)_i = n_i p_i − Σ_{k ∋ i} (a_kᵀ I_i + b_k)` where `n_i` is
/// the number of windows holding `i`. Both sums over windows are box sums, so one product
/// costs O(1) per pixel whatever `r`.
///
/// Work is restricted to fixed 32×32 tiles that contain unknown pixels (the bounding box of
/// the unknown band, cut into tiles, with empty tiles skipped), each shrunk to the bounding
/// box of its own unknown pixels. Each tile gathers
/// its inputs with a `2r` halo, so tiles are independent: they are processed in parallel,
/// each writing only its own pixels, and every per-tile reduction is combined in tile
/// order, so results do not depend on the thread count. Window statistics (`μ_k`, `Δ_k⁻¹`)
/// and the diagonal of `L` (for the Jacobi preconditioner) are computed once per tile.
/// Window sums are Double: `Δ_k⁻¹` reaches `|w|/ε ≈ 10⁸` in flat regions, so the
/// covariance in `a_k` must be accurate far beyond Float.
final class MattingLaplacian: @unchecked Sendable {
    // Sendable: immutable after init; apply() writes only caller-owned buffers.
    static let tileSize = 32

    let width: Int
    let height: Int
    let radius: Int
    let epsilon: Double
    let tiles: [Tile]
    let threads: Int

    struct Tile {
        let x0: Int, y0: Int, x1: Int, y1: Int
        /// Global indices of the unknown pixels in the tile.
        var unknown: [Int32] = []
        /// Per window centre on the grid `[x0−r, x1+r) × [y0−r, y1+r)`: 1 if the window lies
        /// inside the picture, else 0 (its a_k, b_k are then 0).
        var valid: [Double] = []
        /// μ_k, 3 planes on the centre grid.
        var mean: [Double] = []
        /// Δ_k⁻¹ (00, 01, 02, 11, 12, 22), 6 planes on the centre grid.
        var inverse: [Double] = []
        /// Colour on the pixel grid `[x0−2r, x1+2r) × [y0−2r, y1+2r)`, 3 planes (0 outside).
        var colour: [Double] = []
        /// L_ii of the unknown pixels, in `unknown` order.
        var diagonal: [Double] = []
        /// Windows holding each unknown pixel.
        var windowCount: [Double] = []
        /// Per unknown pixel: its index in the output tile and on the pixel grid.
        var local: [Int32] = []
    }

    /// - Parameters:
    ///   - image: 3 colour planes, `width × height` each, values nominally 0…1.
    ///   - isUnknown: per pixel, whether it is solved for.
    init(image: [[Float]], width: Int, height: Int, isUnknown: [Bool], radius: Int, epsilon: Double, threads: Int) {
        self.width = width
        self.height = height
        self.radius = radius
        self.epsilon = epsilon
        self.threads = threads
        let t = Self.tileSize
        var tiles: [Tile] = []
        for ty in stride(from: 0, to: height, by: t) {
            for tx in stride(from: 0, to: width, by: t) {
                // The tile's output rectangle shrinks to the bounding box of its unknown
                // pixels: only they need (L p)_i, and a band crossing a tile is often much
                // narrower than the tile (a third less work on the benchmark).
                var unknown: [Int32] = []
                var bx0 = Int.max, by0 = Int.max, bx1 = Int.min, by1 = Int.min
                for y in ty..<min(ty + t, height) {
                    for x in tx..<min(tx + t, width) where isUnknown[y * width + x] {
                        unknown.append(Int32(y * width + x))
                        bx0 = min(bx0, x); by0 = min(by0, y); bx1 = max(bx1, x + 1); by1 = max(by1, y + 1)
                    }
                }
                if !unknown.isEmpty {
                    var tile = Tile(x0: bx0, y0: by0, x1: bx1, y1: by1)
                    tile.unknown = unknown
                    tiles.append(tile)
                }
            }
        }
        tiles.withUnsafeMutableBufferPointer { buffer in
            let buffer = UncheckedSendable(buffer)
            parallelFor(buffer.value.count, threads: threads) { i in
                Self.prepare(&buffer.value[i], image: image, width: width, height: height, radius: radius, epsilon: epsilon)
            }
        }
        self.tiles = tiles
    }

    var unknownCount: Int { tiles.reduce(0) { $0 + $1.unknown.count } }

    /// Window statistics, colour halo and diagonal of one tile.
    private static func prepare(_ tile: inout Tile, image: [[Float]], width: Int, height: Int, radius r: Int, epsilon: Double) {
        let tw = tile.x1 - tile.x0, th = tile.y1 - tile.y0
        let gw = tw + 2 * r, gh = th + 2 * r, pw = tw + 4 * r, ph = th + 4 * r
        let k = 2 * r + 1, area = Double(k * k)
        tile.colour = [Double](repeating: 0, count: 3 * pw * ph)
        for c in 0..<3 {
            for py in 0..<ph {
                let y = tile.y0 - 2 * r + py
                guard y >= 0 && y < height else { continue }
                for px in 0..<pw {
                    let x = tile.x0 - 2 * r + px
                    if x >= 0 && x < width { tile.colour[c * pw * ph + py * pw + px] = Double(image[c][y * width + x]) }
                }
            }
        }
        // Window sums of I (3) and I·Iᵀ (6) on the centre grid.
        var products = [Double](repeating: 0, count: 9 * pw * ph)
        let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
        for i in 0..<pw * ph {
            for c in 0..<3 { products[c * pw * ph + i] = tile.colour[c * pw * ph + i] }
            for (j, (u, v)) in pairs.enumerated() {
                products[(3 + j) * pw * ph + i] = tile.colour[u * pw * ph + i] * tile.colour[v * pw * ph + i]
            }
        }
        var sums = [Double](repeating: 0, count: 9 * gw * gh)
        var scratch = [Double](repeating: 0, count: ph * gw)
        for q in 0..<9 {
            products.withUnsafeBufferPointer { s in
                sums.withUnsafeMutableBufferPointer { d in
                    scratch.withUnsafeMutableBufferPointer { tmp in
                        windowSums(s.baseAddress! + q * pw * ph, d.baseAddress! + q * gw * gh,
                                   width: gw, height: gh, window: k, scratch: tmp.baseAddress!)
                    }
                }
            }
        }
        tile.valid = [Double](repeating: 0, count: gw * gh)
        tile.mean = [Double](repeating: 0, count: 3 * gw * gh)
        tile.inverse = [Double](repeating: 0, count: 6 * gw * gh)
        let n = gw * gh
        for gy in 0..<gh {
            let y = tile.y0 - r + gy
            guard y >= r && y < height - r else { continue }
            for gx in 0..<gw {
                let x = tile.x0 - r + gx
                guard x >= r && x < width - r else { continue }
                let g = gy * gw + gx
                tile.valid[g] = 1
                let m0 = sums[g] / area, m1 = sums[n + g] / area, m2 = sums[2 * n + g] / area
                tile.mean[g] = m0; tile.mean[n + g] = m1; tile.mean[2 * n + g] = m2
                let e = epsilon / area
                let s00 = sums[3 * n + g] / area - m0 * m0 + e
                let s01 = sums[4 * n + g] / area - m0 * m1
                let s02 = sums[5 * n + g] / area - m0 * m2
                let s11 = sums[6 * n + g] / area - m1 * m1 + e
                let s12 = sums[7 * n + g] / area - m1 * m2
                let s22 = sums[8 * n + g] / area - m2 * m2 + e
                let inv = invertSymmetric3(s00, s01, s02, s11, s12, s22)
                for j in 0..<6 { tile.inverse[j * n + g] = inv[j] }
            }
        }
        // Diagonal: L_ii = Σ_{valid k ∋ i} (1 − (1 + dᵀ Δ_k⁻¹ d) / |w|), d = I_i − μ_k. Computed
        // once, by direct loops over the windows holding i.
        tile.diagonal = []
        tile.windowCount = []
        for index in tile.unknown {
            let x = Int(index) % width, y = Int(index) / width
            let lx = x - tile.x0, ly = y - tile.y0
            let pi = (ly + 2 * r) * pw + (lx + 2 * r)
            let c0 = tile.colour[pi], c1 = tile.colour[pw * ph + pi], c2 = tile.colour[2 * pw * ph + pi]
            var diagonal = 0.0, count = 0.0
            for gy in ly...ly + 2 * r {
                for gx in lx...lx + 2 * r {
                    let g = gy * gw + gx
                    guard tile.valid[g] != 0 else { continue }
                    let d0 = c0 - tile.mean[g], d1 = c1 - tile.mean[n + g], d2 = c2 - tile.mean[2 * n + g]
                    let v = tile.inverse
                    let quad = d0 * (v[g] * d0 + v[n + g] * d1 + v[2 * n + g] * d2)
                        + d1 * (v[n + g] * d0 + v[3 * n + g] * d1 + v[4 * n + g] * d2)
                        + d2 * (v[2 * n + g] * d0 + v[4 * n + g] * d1 + v[5 * n + g] * d2)
                    diagonal += 1 - (1 + quad) / area
                    count += 1
                }
            }
            tile.diagonal.append(diagonal)
            tile.local.append(Int32(ly * tw + lx))
            tile.local.append(Int32(pi))
            tile.windowCount.append(count)
        }
    }

    /// `dst(x, y) = Σ src(x…x+k−1, y…y+k−1)` for a `width × height` output; `src` is
    /// `(width+k−1) × (height+k−1)`.
    ///
    /// Windows up to 7 wide are summed directly with SIMD4<Double> (no loop-carried
    /// dependency: 2 SSE2 registers per step); wider ones use running sums, so the cost per
    /// value never exceeds about 7 additions per pass whatever `k`.
    @inline(__always)
    static func windowSums(
        _ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>,
        width w: Int, height h: Int, window k: Int, scratch tmp: UnsafeMutablePointer<Double>
    ) {
        let sw = w + k - 1, sh = h + k - 1
        if k <= 7 {
            for row in 0..<sh { directSums(src + row * sw, step: 1, tmp + row * w, count: w, window: k) }
            for y in 0..<h { directSums(UnsafePointer(tmp + y * w), step: w, dst + y * w, count: w, window: k) }
            return
        }
        for row in 0..<sh {
            let s = src + row * sw, t = tmp + row * w
            var sum = 0.0
            for u in 0..<k { sum += s[u] }
            t[0] = sum
            for x in 1..<max(w, 1) {
                sum += s[x + k - 1] - s[x - 1]
                t[x] = sum
            }
        }
        for x in 0..<w { dst[x] = 0 }
        for v in 0..<k {
            let t = tmp + v * w
            for x in 0..<w { dst[x] += t[x] }
        }
        for y in 1..<max(h, 1) {
            let d = dst + y * w, p = dst + (y - 1) * w, add = tmp + (y + k - 1) * w, sub = tmp + (y - 1) * w
            for x in 0..<w { d[x] = p[x] + add[x] - sub[x] }
        }
    }

    /// `out[x] = Σ_{u<k} src[x + u·step]` for `x < count`: horizontal (`step` 1) or
    /// vertical (`step` = row length) window sums of one output row.
    @inline(__always)
    static func directSums(
        _ src: UnsafePointer<Double>, step: Int, _ out: UnsafeMutablePointer<Double>, count: Int, window k: Int
    ) {
        @inline(__always) func load(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
        }
        var x = 0
        if k == 3 {
            // The default 3×3 window, unrolled.
            let s1 = src + step, s2 = src + 2 * step
            while x + 4 <= count {
                let acc = load(src + x) + load(s1 + x) + load(s2 + x)
                UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD4<Double>.self)
                x += 4
            }
            while x < count {
                out[x] = src[x] + s1[x] + s2[x]
                x += 1
            }
            return
        }
        while x + 4 <= count {
            var acc = load(src + x)
            for u in 1..<k { acc += load(src + x + u * step) }
            UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD4<Double>.self)
            x += 4
        }
        while x < count {
            var acc = src[x]
            for u in 1..<k { acc += src[x + u * step] }
            out[x] = acc
            x += 1
        }
    }
}

/// The inverse of a symmetric positive-definite 3×3 matrix, as (00, 01, 02, 11, 12, 22).
func invertSymmetric3(
    _ s00: Double, _ s01: Double, _ s02: Double, _ s11: Double, _ s12: Double, _ s22: Double
) -> [Double] {
    let (i00, i01, i02, i11, i12, i22, det) = symmetric3Adjugate(s00, s01, s02, s11, s12, s22)
    let inv = 1 / det
    return [i00 * inv, i01 * inv, i02 * inv, i11 * inv, i12 * inv, i22 * inv]
}
