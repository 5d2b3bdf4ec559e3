import MattingImage

/// Slow, obviously correct twins of MattingRefine's kernels, for tests only.
///
/// Everything here works on packed `[Double]` planes (row-major, `width × height`) with
/// direct loops, in Double, so that fast Float paths can be compared against it.
public enum ReferenceRefine {
    /// The mean over the `(2r+1)²` window clipped to the picture, by direct summation.
    public static func boxMean(_ p: [Double], width w: Int, height h: Int, radius r: Int) -> [Double] {
        var out = [Double](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var sum = 0.0, count = 0.0
                for v in max(0, y - r)...min(h - 1, y + r) {
                    for u in max(0, x - r)...min(w - 1, x + r) {
                        sum += p[v * w + u]
                        count += 1
                    }
                }
                out[y * w + x] = sum / count
            }
        }
        return out
    }

    /// The trimap of `Trimap(coarseAlpha:options:)` by direct window scans: erosion and
    /// dilation of the mask `α ≥ 0.5` over the `(2r+1)²` square clipped to the picture;
    /// 255 where the erosion keeps the pixel and `α ≥ fg`, 0 where the dilation misses it
    /// and `α ≤ bg`, else 128.
    public static func trimap(_ alpha: [Float], width w: Int, height h: Int, radius r: Int, fg: Float, bg: Float) -> [UInt8] {
        var out = [UInt8](repeating: 128, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var all = true, any = false
                for v in max(0, y - r)...min(h - 1, y + r) {
                    for u in max(0, x - r)...min(w - 1, x + r) {
                        if alpha[v * w + u] >= 0.5 { any = true } else { all = false }
                    }
                }
                let a = alpha[y * w + x]
                if all && a >= fg { out[y * w + x] = 255 } else if !any && a <= bg { out[y * w + x] = 0 }
            }
        }
        return out
    }

    /// The guided filter (He et al.) written out per window: gray guide if `guide.count == 1`,
    /// colour guide if 3 planes (3×3 covariance inverted by Gaussian elimination).
    public static func guidedFilter(
        _ p: [Double], guide: [[Double]], width w: Int, height h: Int, radius r: Int, epsilon: Double
    ) -> [Double] {
        let n = w * h, channels = guide.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: channels)
        var b = [Double](repeating: 0, count: n)
        for y in 0..<h {
            for x in 0..<w {
                var pixels: [(Int)] = []
                for v in max(0, y - r)...min(h - 1, y + r) {
                    for u in max(0, x - r)...min(w - 1, x + r) { pixels.append(v * w + u) }
                }
                let count = Double(pixels.count)
                let meanP = pixels.map { p[$0] }.reduce(0, +) / count
                let meanI = (0..<channels).map { c in pixels.map { guide[c][$0] }.reduce(0, +) / count }
                var sigma = [[Double]](repeating: [Double](repeating: 0, count: channels), count: channels)
                var cov = [Double](repeating: 0, count: channels)
                for i in pixels {
                    for c in 0..<channels {
                        cov[c] += (guide[c][i] - meanI[c]) * (p[i] - meanP) / count
                        for d in 0..<channels {
                            sigma[c][d] += (guide[c][i] - meanI[c]) * (guide[d][i] - meanI[d]) / count
                        }
                    }
                }
                for c in 0..<channels { sigma[c][c] += epsilon }
                let coefficients = solve(sigma, cov)
                var bk = meanP
                for c in 0..<channels {
                    a[c][y * w + x] = coefficients[c]
                    bk -= coefficients[c] * meanI[c]
                }
                b[y * w + x] = bk
            }
        }
        let meanA = a.map { boxMean($0, width: w, height: h, radius: r) }
        let meanB = boxMean(b, width: w, height: h, radius: r)
        return (0..<n).map { i in (0..<channels).reduce(meanB[i]) { $0 + meanA[$1][i] * guide[$1][i] } }
    }

    /// Solves a small dense system by Gaussian elimination with partial pivoting.
    public static func solve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double] {
        var m = matrix, b = rhs
        let n = b.count
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) } ?? col
            m.swapAt(col, pivot)
            b.swapAt(col, pivot)
            for row in col + 1..<n {
                let f = m[row][col] / m[col][col]
                for k in col..<n { m[row][k] -= f * m[col][k] }
                b[row] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = b[row]
            for k in row + 1..<n { s -= m[row][k] * x[k] }
            x[row] = s / m[row][row]
        }
        return x
    }

    /// A sparse symmetric matrix as one dictionary of columns per row.
    public typealias SparseMatrix = [[Int: Double]]

    /// The closed-form matting Laplacian of Levin, Lischinski & Weiss (2008), entry by entry:
    ///
    /// `L_ij = Σ_{k: i,j ∈ w_k} (δ_ij − (1 + (I_i − μ_k)ᵀ (Σ_k + ε/|w| U)⁻¹ (I_j − μ_k)) / |w|)`
    ///
    /// over the windows `w_k` of size `(2r+1)²` that lie entirely inside the picture (as
    /// Levin's code and pymatting do). `image` is 3 planes. Small pictures only.
    public static func mattingLaplacian(
        image: [[Double]], width w: Int, height h: Int, radius r: Int, epsilon: Double
    ) -> SparseMatrix {
        var L = SparseMatrix(repeating: [:], count: w * h)
        let size = Double((2 * r + 1) * (2 * r + 1))
        guard w > 2 * r, h > 2 * r else { return L }
        for y in r..<h - r {
            for x in r..<w - r {
                var pixels: [Int] = []
                for v in y - r...y + r { for u in x - r...x + r { pixels.append(v * w + u) } }
                let mean = (0..<3).map { c in pixels.map { image[c][$0] }.reduce(0, +) / size }
                var sigma = [[Double]](repeating: [0, 0, 0], count: 3)
                for i in pixels {
                    for c in 0..<3 {
                        for d in 0..<3 { sigma[c][d] += (image[c][i] - mean[c]) * (image[d][i] - mean[d]) / size }
                    }
                }
                for c in 0..<3 { sigma[c][c] += epsilon / size }
                // Columns of the inverse.
                let inverseColumns = (0..<3).map { c in solve(sigma, (0..<3).map { $0 == c ? 1.0 : 0.0 }) }
                for i in pixels {
                    let di = (0..<3).map { image[$0][i] - mean[$0] }
                    let left = (0..<3).map { c in (0..<3).reduce(0.0) { $0 + di[$1] * inverseColumns[c][$1] } }
                    for j in pixels {
                        var quad = 0.0
                        for c in 0..<3 { quad += left[c] * (image[c][j] - mean[c]) }
                        L[i][j, default: 0] += (i == j ? 1 : 0) - (1 + quad) / size
                    }
                }
            }
        }
        return L
    }

    /// `L · x` for a sparse matrix.
    public static func multiply(_ L: SparseMatrix, _ x: [Double]) -> [Double] {
        L.map { row in row.reduce(0.0) { $0 + $1.value * x[$1.key] } }
    }

    /// Minimises `αᵀ L α` with the known pixels fixed (`known[i]` true, value `alpha[i]`):
    /// plain conjugate gradients on `L_UU x_U = −L_UK α_K`, to a relative residual of
    /// `tolerance`. Returns the full vector (known entries unchanged, unknown unclamped).
    public static func solveMatting(
        _ L: SparseMatrix, known: [Bool], alpha: [Double], tolerance: Double = 1e-10, maxIterations: Int = 100_000
    ) -> [Double] {
        let n = alpha.count
        var x = alpha
        for i in 0..<n where !known[i] { x[i] = 0 }
        let lx = multiply(L, x)
        var r = (0..<n).map { known[$0] ? 0 : -lx[$0] }
        let normB = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if normB == 0 { return x }
        var d = r
        var rr = r.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<maxIterations {
            let ld = multiply(L, d)
            let q = (0..<n).map { known[$0] ? 0 : ld[$0] }
            let dq = zip(d, q).reduce(0) { $0 + $1.0 * $1.1 }
            if dq == 0 { break }
            let step = rr / dq
            for i in 0..<n {
                x[i] += step * d[i]
                r[i] -= step * q[i]
            }
            let rrNew = r.reduce(0) { $0 + $1 * $1 }
            if rrNew.squareRoot() <= tolerance * normB { break }
            let beta = rrNew / rr
            rr = rrNew
            for i in 0..<n { d[i] = r[i] + beta * d[i] }
        }
        return x
    }

    /// Mean absolute colour error against `trueForeground` over the edge band
    /// (`0.05 < trueAlpha < 0.95`), of an estimated foreground and of the photo itself
    /// ("F = image", the halo a foreground estimate should remove).
    ///
    /// - Parameters: `foreground`, `photo` and `trueForeground` are packed RGB (3 values per
    ///   pixel, row-major); `trueAlpha` has one value per pixel.
    /// - Returns: both means; NaN when the band is empty.
    public static func edgeBandForegroundError(
        _ foreground: [Float], photo: [Float], trueForeground: [Float], trueAlpha: [Float]
    ) -> (estimated: Double, naive: Double) {
        var estimated = 0.0, naive = 0.0, count = 0
        for i in foreground.indices where trueAlpha[i / 3] > 0.05 && trueAlpha[i / 3] < 0.95 {
            estimated += Double(abs(foreground[i] - trueForeground[i]))
            naive += Double(abs(photo[i] - trueForeground[i]))
            count += 1
        }
        return (estimated / Double(count), naive / Double(count))
    }
}
